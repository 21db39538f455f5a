/** The stream-state cache: bounded in bytes (each state counted as its decider weighs it), least recently used out first. */
import { expect } from 'chai';
import { StreamStateCache, type CachedStream } from '../infra/eventsourcing/command-handling/stream-state-cache.js';

const at = (revision: number, state: unknown = `state@${revision}`): CachedStream => ({
  state,
  revision,
  position: null,
  snapshotRevision: -1,
});
const held = (cache: StreamStateCache, ids: string[]) => ids.filter((id) => cache.get(id) !== undefined);

describe('stream state cache', () => {
  it('counts the weights given, and lets the least recently put go past the budget', () => {
    const cache = new StreamStateCache(1_000);
    cache.put('a', at(0), 400);
    cache.put('b', at(0), 400);
    expect(cache.bytes).to.equal(800);
    cache.put('c', at(0), 300);
    expect(cache.size).to.equal(2);
    expect(cache.bytes).to.equal(700);
    expect(held(cache, ['a', 'b', 'c'])).to.deep.equal(['b', 'c']);
  });

  it('a get makes the entry the most recently used', () => {
    const cache = new StreamStateCache(1_000);
    cache.put('a', at(0), 400);
    cache.put('b', at(0), 400);
    expect(cache.get('a')).to.not.equal(undefined);
    cache.put('c', at(0), 400);
    expect(cache.get('b')).to.equal(undefined);
    expect(held(cache, ['a', 'c'])).to.deep.equal(['a', 'c']);
  });

  it('lets go of as many of the oldest as it takes', () => {
    const cache = new StreamStateCache(1_000);
    for (const id of ['a', 'b', 'c', 'd', 'e']) cache.put(id, at(0), 200);
    expect(cache.bytes).to.equal(1_000);
    cache.put('big', at(0), 700);
    expect(held(cache, ['a', 'b', 'c', 'd', 'e', 'big'])).to.deep.equal(['e', 'big']);
    expect(cache.bytes).to.equal(900);
  });

  it('never replaces a newer revision with an older one; the same or a newer one replaces it, re-weighed', () => {
    const cache = new StreamStateCache(10_000);
    cache.put('a', at(5, 'five'), 100);
    cache.put('a', at(3, 'three'), 999);
    expect(cache.get('a')!.state).to.equal('five');
    expect(cache.bytes).to.equal(100);
    cache.put('a', at(5, 'five again'), 200);
    expect(cache.get('a')!.state).to.equal('five again');
    cache.put('a', at(6, 'six'), 300);
    expect(cache.get<string>('a')).to.deep.include({ state: 'six', revision: 6 });
    expect(cache.bytes).to.equal(300);
    expect(cache.size).to.equal(1);
  });

  it('keeps the newest entry even when it alone is over the budget (its command is running)', () => {
    const cache = new StreamStateCache(1_000);
    cache.put('a', at(0), 300);
    cache.put('huge', at(0), 5_000);
    expect(held(cache, ['a', 'huge'])).to.deep.equal(['huge']);
    expect(cache.bytes).to.equal(5_000);
    cache.put('b', at(0), 10);
    expect(held(cache, ['huge', 'b'])).to.deep.equal(['b']);
    expect(cache.bytes).to.equal(10);
  });

  it('bytes is the sum of the weights held, through puts, replacements, evictions and deletes', () => {
    const cache = new StreamStateCache(5_000);
    const weights = new Map<string, number>();
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 2_000; i++) {
      const id = `s${next() % 40}`;
      if (next() % 10 === 0) {
        cache.delete(id);
        weights.delete(id);
      } else {
        const bytes = 1 + (next() % 900);
        cache.put(id, at(i), bytes);
        weights.set(id, bytes);
      }
      for (const known of [...weights.keys()]) if (!cache.get(known)) weights.delete(known);
      expect(cache.bytes).to.equal([...weights.values()].reduce((a, b) => a + b, 0));
      expect(cache.size).to.equal(weights.size);
      expect(cache.bytes <= 5_000 || cache.size === 1, `${cache.bytes} bytes in ${cache.size} entries`).to.equal(true);
    }
  });

  it('an entry put without a weight counts as the default', () => {
    const cache = new StreamStateCache();
    cache.put('a', at(0));
    expect(cache.bytes).to.equal(2_048);
    expect(cache.maxBytes).to.equal(64 * 1024 * 1024);
  });
});
