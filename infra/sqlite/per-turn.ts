/**
 * Gathers what is asked for during one turn of the event loop and hands it over, all
 * together, at the end of that turn (setImmediate, after every callback already due has
 * run). A SQLite write transaction costs locks and WAL frames of its own: paid once for
 * everything a turn asked for, rather than once per caller.
 */
export class PerTurnBatch<Item> {
  private items: Item[] = [];

  constructor(private readonly handle: (items: Item[]) => void) {}

  add(item: Item): void {
    if (this.items.length === 0) setImmediate(() => this.flush());
    this.items.push(item);
  }

  /** Hands over what is waiting now, if anything (a store about to close does this). */
  flush(): void {
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    this.handle(items);
  }
}
