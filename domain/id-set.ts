import { Set as ISet } from 'immutable';

/**
 * An immutable set of ids that grows one id at a time: a persistent hash set, so adding
 * to an account that remembers tens of thousands of operation ids (the broker's) costs
 * a few small copies, not a copy of the whole set.
 */
export class IdSet {
  private constructor(private readonly ids: ISet<string>) {}

  static readonly empty = new IdSet(ISet());

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): IdSet {
    const ids = this.ids.add(id);
    return ids === this.ids ? this : new IdSet(ids);
  }

  get size(): number {
    return this.ids.size;
  }
}
