/**
 * How commits reach `read.db`: the projections of a process commit in one transaction per
 * turn of the event loop, and each document a batch touches is read once and written once.
 */
import type Database from 'better-sqlite3';
import type { Position } from '../../eventsourcing/event-store/position.js';
import type { DocFields, PositionedWrites } from '../../eventsourcing/read-store/read-store.js';
import { applyOp, pendingOps, type StoredState } from '../../eventsourcing/read-store/write-batch.js';
import { PerTurnBatch } from '../per-turn.js';
import type { CollectionTables } from './collection-tables.js';
import type { ProjectionProgress } from './progress.js';

/** One projection's commit, waiting for the end of the event loop's turn. */
interface PendingCommit {
  projection: string;
  writes: PositionedWrites[];
  checkpoint: Position;
  resolve(): void;
  reject(error: unknown): void;
}

/** A document as a batch leaves it so far: `stored` says whether its row exists (update) or not (insert). */
interface TouchedDoc {
  collection: string;
  id: string;
  stored: boolean;
  state: StoredState | null;
  changed: boolean;
}

export class BatchCommits {
  private readonly applyOne: Database.Transaction<(commit: PendingCommit) => void>;
  private readonly applyAll: Database.Transaction<(commits: PendingCommit[]) => void>;
  private readonly waiting: PerTurnBatch<PendingCommit>;

  constructor(
    db: Database.Database,
    private readonly tables: CollectionTables,
    private readonly progress: ProjectionProgress,
  ) {
    this.applyOne = db.transaction((commit: PendingCommit) => this.apply(commit));
    this.applyAll = db.transaction((commits: PendingCommit[]) => {
      for (const commit of commits) this.apply(commit);
    });
    this.waiting = new PerTurnBatch((commits) => this.commitTogether(commits));
  }

  /** Applies the writes and moves the checkpoint at the end of this turn of the event loop (checked by the caller). */
  commit(projection: string, writes: PositionedWrites[], checkpoint: Position): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.waiting.add({ projection, writes, checkpoint, resolve, reject }),
    );
  }

  /** Commits what is waiting now (a store about to close). */
  flush(): void {
    this.waiting.flush();
  }

  /**
   * One transaction for the turn's commits: woken by the same appends, projections come
   * to commit together, and each transaction of its own would write the checkpoints' page
   * again and take the locks again. If the shared transaction fails, each commit is tried
   * alone, so only a culprit's commit fails. BEGIN IMMEDIATE: the write lock is taken up
   * front, so another connection cannot make the transaction fail half-way when it
   * upgrades from reading to writing.
   */
  private commitTogether(commits: PendingCommit[]): void {
    if (commits.length > 1) {
      try {
        this.applyAll.immediate(commits);
        for (const commit of commits) commit.resolve();
        return;
      } catch {
        // Tried one by one below.
      }
    }
    for (const commit of commits) {
      try {
        this.applyOne.immediate(commit);
        commit.resolve();
      } catch (error) {
        commit.reject(error);
      }
    }
  }

  /**
   * Each document the batch touches is read once and written once, however many of its
   * operations apply to it: the operations run in order on the document in memory (the
   * same `applyOp` and guards as one by one), and only the end state is stored. A busy
   * batch touches hot documents (a broker's balance, the day's totals, an order placed
   * and matched in one append) many times (docs/PERFORMANCE.md, "Why the code is as it
   * is", "Read-model batches: a document written once per batch").
   */
  private apply({ projection, writes, checkpoint }: PendingCommit): void {
    const touched = new Map<string, TouchedDoc>();
    for (const { op, guard } of pendingOps(writes, this.progress.position(projection))) {
      const key = `${op.collection}\u0000${op.id}`;
      let doc = touched.get(key);
      if (!doc) {
        doc = this.load(op.collection, op.id);
        touched.set(key, doc);
      }
      const outcome = applyOp(doc.state, op, guard);
      if (outcome.kind === 'skip') continue;
      doc.state = outcome.kind === 'put' ? { fields: outcome.fields, guard } : null;
      doc.changed = true;
    }
    for (const doc of touched.values()) this.store(doc);
    this.progress.moveForward(projection, checkpoint);
  }

  private load(collection: string, id: string): TouchedDoc {
    const row = this.tables.declared(collection).select.get(id); // collection checked by checkBatch
    const state = row ? { fields: JSON.parse(row.doc) as DocFields, guard: row.guard } : null;
    return { collection, id, stored: row !== undefined, state, changed: false };
  }

  private store({ collection, id, stored, state, changed }: TouchedDoc): void {
    if (!changed) return;
    const statements = this.tables.declared(collection);
    if (state) (stored ? statements.update : statements.insert).run(JSON.stringify(state.fields), state.guard, id);
    else if (stored) statements.remove.run(id);
  }
}
