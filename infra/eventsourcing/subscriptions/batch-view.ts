import type { ProjectionView } from './event-handler.js';
import { sortablePosition, type Position } from '../event-store/position.js';
import type { Doc, ReadStore, StoredDoc, WriteOp } from '../read-store/read-store.js';
import { applyOp, guardOf } from '../read-store/write-batch.js';

/**
 * The read store as a handler sees it in the middle of a batch: what is stored, plus the
 * writes of the batch's earlier events, which are not committed yet. Writes are played
 * with the store's own semantics, guards included, so after a partly applied batch is
 * replayed a handler reads exactly what the store will hold (a write that the store will
 * skip as already applied is skipped here too). Documents are loaded only when read;
 * writes to a document nobody read yet are kept and played onto it when it is.
 */
export class BatchView implements ProjectionView {
  private readonly loaded = new Map<string, StoredDoc | null>();
  private readonly unread = new Map<string, Array<{ op: WriteOp; guard: string }>>();

  constructor(private readonly store: ReadStore) {}

  async get(collection: string, id: string): Promise<Doc | null> {
    const key = `${collection}\u0000${id}`;
    if (!this.loaded.has(key)) {
      let stored = await this.store.getStored(collection, id);
      for (const { op, guard } of this.unread.get(key) ?? []) stored = play(stored, op, guard);
      this.unread.delete(key);
      this.loaded.set(key, stored);
    }
    const stored = this.loaded.get(key);
    return stored ? structuredClone(stored.doc) : null;
  }

  /** The writes of the event at `position`, in order (their rank is part of their guard). */
  record(position: Position, ops: WriteOp[]): void {
    const sortable = sortablePosition(position);
    ops.forEach((op, i) => {
      const guard = guardOf(sortable, i);
      const key = `${op.collection}\u0000${op.id}`;
      if (this.loaded.has(key)) this.loaded.set(key, play(this.loaded.get(key) ?? null, op, guard));
      else this.unread.set(key, [...(this.unread.get(key) ?? []), { op, guard }]);
    });
  }
}

function play(stored: StoredDoc | null, op: WriteOp, guard: string): StoredDoc | null {
  const current = stored && { fields: withoutId(stored.doc), guard: stored.guard };
  const outcome = applyOp(current, op, guard);
  if (outcome.kind === 'skip') return stored;
  if (outcome.kind === 'remove') return null;
  return { doc: { ...outcome.fields, id: op.id }, guard };
}

function withoutId(doc: Doc) {
  const { id: _id, ...fields } = doc;
  return fields;
}
