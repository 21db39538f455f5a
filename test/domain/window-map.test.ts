/**
 * WindowMap: the persistent, forgetting map behind every aggregate's bounded memory
 * (domain/window-map.ts). What it promises: nothing is forgotten before the floor passes
 * its mark; what is older than the floor goes a generation at a time, so the map holds
 * about two floor-intervals of entries; versions never change; a snapshot restores it exactly.
 */
import { expect } from 'chai';
import { WindowMap } from '../../domain/window-map.js';
import { random } from '../support/random.js';

type Op = { add: string; mark: number } | { floor: number };

/** A random run of adds and forgets with a floor that only rises (as a clock or a checkpoint does). */
function randomOps(seed: number, count: number): Op[] {
  const rnd = random(seed);
  const ops: Op[] = [];
  let now = 0;
  let floor = 0;
  for (let i = 0; i < count; i++) {
    now += rnd.int(0, 5);
    if (rnd.chance(0.7)) ops.push({ add: `k${rnd.int(0, count)}`, mark: now + rnd.int(-3, 40) });
    else {
      floor = Math.max(floor, now - rnd.int(0, 30));
      ops.push({ floor });
    }
  }
  return ops;
}

function apply(map: WindowMap<string, number>, op: Op): WindowMap<string, number> {
  return 'add' in op ? map.add(op.add, op.mark, op.mark) : map.forgetBefore(op.floor);
}

const roundTrip = <V>(map: WindowMap<string, V>): WindowMap<string, V> =>
  WindowMap.fromJSON(JSON.parse(JSON.stringify(map.toJSON())));

describe('WindowMap', () => {
  it('never forgets an entry before the floor passes its mark', () => {
    for (let seed = 1; seed <= 20; seed++) {
      let map = WindowMap.empty<string, number>();
      /** key → mark of the entry as last added while not held (a key held keeps its first value). */
      const added = new Map<string, number>();
      let floor = Number.NEGATIVE_INFINITY;
      let forgotten = 0;
      for (const op of randomOps(seed, 1_500)) {
        if ('add' in op && !map.has(op.add)) added.set(op.add, op.mark);
        if ('floor' in op) floor = op.floor;
        map = apply(map, op);
        for (const [key, mark] of added) {
          if (mark < floor) continue;
          if (map.get(key) !== mark)
            expect.fail(`seed ${seed}: ${key} (mark ${mark}) is ${map.get(key)} at floor ${floor}`);
        }
        forgotten += [...added.keys()].filter((key) => !map.has(key)).length;
      }
      expect(forgotten, `seed ${seed}: the run does forget`).to.be.greaterThan(0);
    }
  });

  it('keeps the first value of a key while it is held', () => {
    const map = WindowMap.empty<string, string>().add('a', 'first', 10).add('a', 'second', 20);
    expect(map.get('a')).to.equal('first');
    expect(map.size).to.equal(1);
  });

  it('lets the older generation go once the floor passes its highest mark, not before', () => {
    let map = WindowMap.empty<string, string>().add('a', 'A', 1).add('b', 'B', 5);
    // Nothing older yet: the entries move to the older generation, all still held.
    map = map.forgetBefore(0);
    expect([map.has('a'), map.has('b'), map.size]).to.deep.equal([true, true, 2]);
    map = map.add('c', 'C', 10);
    // 'a' is below the floor, but 'b' (same generation) is not: the generation stays whole.
    map = map.forgetBefore(5);
    expect([map.has('a'), map.has('b'), map.has('c')]).to.deep.equal([true, true, true]);
    const before = map;
    expect(map.forgetBefore(5), 'nothing to let go: the same map').to.equal(before);
    // Past 5: the older generation goes, the newer one becomes the older.
    map = map.forgetBefore(6);
    expect([map.has('a'), map.has('b'), map.has('c'), map.size]).to.deep.equal([false, false, true, 1]);
    expect(map.toJSON()).to.deep.equal({ older: [['c', 'C']], olderHighest: 10, newer: [], newerHighest: null });
    map = map.forgetBefore(11);
    expect(map.size).to.equal(0);
    expect(map.forgetBefore(1_000), 'an empty map stays the same map').to.equal(map);
  });

  it('stays bounded by about two windows under a steadily moving floor (100,000 adds)', () => {
    const window = 500;
    let map = WindowMap.empty<string, true>();
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      map = map.add(`op-${i}`, true, i).forgetBefore(i - window);
      largest = Math.max(largest, map.size);
      // Everything within the window is still there.
      if (i % 997 === 0)
        for (let j = Math.max(0, i - window); j <= i; j++) expect(map.has(`op-${j}`), `op-${j} at ${i}`).to.equal(true);
    }
    expect(largest).to.be.at.most(2 * window + 2);
    expect(largest, 'it does hold a window').to.be.at.least(window);
    expect(map.has('op-0')).to.equal(false);
  });

  it('older versions are unchanged by adds and forgets on newer ones (persistence)', () => {
    const base = WindowMap.empty<string, number>().add('a', 1, 1).forgetBefore(0).add('b', 2, 2);
    const baseJson = JSON.stringify(base.toJSON());
    const left = base.add('x', 10, 10);
    const right = base.add('y', 20, 20); // a second branch off the same version
    const forgotten = left.forgetBefore(5);
    expect(JSON.stringify(base.toJSON())).to.equal(baseJson);
    expect([base.has('x'), base.has('y'), base.size]).to.deep.equal([false, false, 2]);
    expect([left.has('x'), left.has('y')]).to.deep.equal([true, false]);
    expect([right.has('x'), right.has('y')]).to.deep.equal([false, true]);
    expect([forgotten.has('a'), left.has('a'), base.has('a')]).to.deep.equal([false, true, true]);
    // Adding on the branch again does not leak into the other branch.
    const leftMore = left.add('z', 30, 30);
    expect([right.has('z'), left.has('z'), leftMore.has('z')]).to.deep.equal([false, false, true]);
    expect([...right.toJSON().newer.map(([k]) => k)]).to.deep.equal(['b', 'y']);
  });

  it('toJSON / fromJSON round-trips exactly: same entries, same generations, same later behaviour', () => {
    for (let seed = 100; seed < 130; seed++) {
      const ops = randomOps(seed, 600);
      const cut = random(seed).int(0, ops.length);
      let whole = WindowMap.empty<string, number>();
      for (const op of ops.slice(0, cut)) whole = apply(whole, op);
      let restored = roundTrip(whole);
      expect(restored.toJSON(), `seed ${seed} right after restoring`).to.deep.equal(whole.toJSON());
      expect(restored.size).to.equal(whole.size);
      for (const op of ops.slice(cut)) {
        whole = apply(whole, op);
        restored = apply(restored, op);
        expect(restored.toJSON(), `seed ${seed} after ${JSON.stringify(op)}`).to.deep.equal(whole.toJSON());
        if ('add' in op) expect(restored.get(op.add)).to.equal(whole.get(op.add));
      }
    }
  });

  it('an empty map round-trips with no marks', () => {
    const json = WindowMap.empty<string, true>().toJSON();
    expect(json).to.deep.equal({ older: [], olderHighest: null, newer: [], newerHighest: null });
    const restored = roundTrip(WindowMap.empty<string, true>());
    expect(restored.add('a', true, 5).forgetBefore(1).has('a')).to.equal(true);
  });
});
