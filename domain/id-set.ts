import { GrowOnlyMap } from './grow-only-map.js';

/**
 * An immutable set of ids that grows one id at a time, so adding to an account that
 * remembers tens of thousands of operation ids (the broker's) costs one insertion, not a
 * copy of the whole set (see `GrowOnlyMap`).
 */
export class IdSet {
  private constructor(private readonly ids: GrowOnlyMap<string, true>) {}

  static readonly empty = new IdSet(GrowOnlyMap.empty());

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): IdSet {
    const ids = this.ids.add(id, true);
    return ids === this.ids ? this : new IdSet(ids);
  }

  get size(): number {
    return this.ids.size;
  }
}
