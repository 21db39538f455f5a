import { expect } from 'chai';
import { GrowOnlyMap } from '../../domain/grow-only-map.js';

/** What each version holds, read through the public API. */
const contents = (map: GrowOnlyMap<string, number>, keys: string[]) =>
  keys.filter((k) => map.has(k)).map((k) => [k, map.get(k)]);

describe('GrowOnlyMap', () => {
  it('sees exactly what was added before it, version by version', () => {
    const versions = [GrowOnlyMap.empty<string, number>()];
    for (let i = 0; i < 100; i++) versions.push(versions[i]!.add(`k${i}`, i));
    const keys = Array.from({ length: 101 }, (_, i) => `k${i}`);
    versions.forEach((version, n) => {
      expect(version.size).to.equal(n);
      expect(contents(version, keys)).to.deep.equal(keys.slice(0, n).map((k, i) => [k, i]));
    });
    expect(versions[100]!.get('k100')).to.equal(undefined);
  });

  it('keeps the first value of a key, and gives the same map back for it', () => {
    const map = GrowOnlyMap.empty<string, number>().add('a', 1);
    expect(map.add('a', 2)).to.equal(map);
    expect(map.get('a')).to.equal(1);
  });

  it('lets an older version grow apart without changing any other version', () => {
    const base = GrowOnlyMap.empty<string, number>().add('a', 1).add('b', 2);
    const newer = base.add('c', 3).add('d', 4);
    const fork = base.add('c', 30).add('x', 40);
    const keys = ['a', 'b', 'c', 'd', 'x'];
    expect(contents(base, keys)).to.deep.equal([
      ['a', 1],
      ['b', 2],
    ]);
    expect(contents(newer, keys)).to.deep.equal([
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ]);
    expect(contents(fork, keys)).to.deep.equal([
      ['a', 1],
      ['b', 2],
      ['c', 30],
      ['x', 40],
    ]);
    // Both branches keep growing on their own.
    const newer2 = newer.add('e', 5);
    const fork2 = fork.add('e', 50);
    expect([newer2.get('e'), fork2.get('e'), newer2.has('x'), fork2.has('d')]).to.deep.equal([5, 50, false, false]);
    expect(contents(base, keys)).to.deep.equal([
      ['a', 1],
      ['b', 2],
    ]);
  });
});
