/**
 * What `commit` means, shared by both adapters: the checks a batch must pass before
 * anything is written, which writes a replay may skip, the position guard, and the
 * reference semantics of each operation on one document.
 *
 * Exactly-once rests on the guard: every stored document remembers the guard of the last
 * operation applied to it, and an operation only applies when its own guard is greater.
 * MongoDB needs this (no multi-document transactions); SQLite keeps the same guard so that
 * both stores give identical results for every replay, including one of a batch that was
 * only partly applied. A consequence: a collection belongs to one projection (another
 * projection's older positions would be taken for replays).
 */
import { comparePositions, sortablePosition, type Position } from '../event-store/position.js';
import { checkDocValue, checkFieldName, checkId, type CollectionCatalog } from './catalog.js';
import { ReadStoreQueryError, type DocFields, type PositionedWrites, type WriteOp } from './read-store.js';

/** Guards are fixed-width text so that comparing strings compares positions (see `guardOf`). */
const OP_INDEX_WIDTH = 6;
const MAX_OPS_PER_EVENT = 10 ** OP_INDEX_WIDTH;

/**
 * The guard of the `opIndex`-th operation caused by the event at `position`: the position,
 * then the operation's rank within the event, so several operations of one event on the
 * same document still apply in order.
 */
export function guardOf(sortable: string, opIndex: number): string {
  return `${sortable}:${String(opIndex).padStart(OP_INDEX_WIDTH, '0')}`;
}

/** One operation ready to apply, with its guard. */
export interface GuardedOp {
  op: WriteOp;
  guard: string;
}

function checkFields(fields: unknown, what: string, seen: Set<string>, numbersOnly = false): void {
  if (fields === undefined) return;
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) {
    throw new ReadStoreQueryError(`${what} must be an object`);
  }
  for (const [field, value] of Object.entries(fields)) {
    checkFieldName(field);
    // MongoDB refuses one field in two update operators ("would create a conflict"); the
    // port therefore allows a field in at most one of setOnInsert / set / inc.
    if (seen.has(field))
      throw new ReadStoreQueryError(`${what}: field "${field}" appears in more than one of setOnInsert/set/inc`);
    seen.add(field);
    if (numbersOnly) {
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw new ReadStoreQueryError(`${what}.${field}: expected a finite number`);
    } else {
      checkDocValue(value, `${what}.${field}`);
    }
  }
}

function checkOp(op: WriteOp, catalog: CollectionCatalog, where: string): void {
  if (!op || typeof op !== 'object') throw new ReadStoreQueryError(`${where}: not an operation`);
  catalog.get(op.collection);
  checkId(op.id);
  const seen = new Set<string>();
  switch (op.op) {
    case 'insert':
      if (op.doc === undefined) throw new ReadStoreQueryError(`${where}.doc is required`);
      checkFields(op.doc, `${where}.doc`, seen);
      return;
    case 'upsert':
      checkFields(op.setOnInsert, `${where}.setOnInsert`, seen);
      checkFields(op.set, `${where}.set`, seen);
      checkFields(op.inc, `${where}.inc`, seen, true);
      return;
    case 'update':
      checkFields(op.set, `${where}.set`, seen);
      checkFields(op.inc, `${where}.inc`, seen, true);
      return;
    case 'delete':
      return;
    default:
      throw new ReadStoreQueryError(`${where}: unknown op ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

function checkPosition(position: unknown, what: string): asserts position is Position {
  const p = position as Position | null;
  if (!p || typeof p.commit !== 'bigint' || typeof p.prepare !== 'bigint' || p.commit < 0n || p.prepare < 0n) {
    throw new ReadStoreQueryError(`${what}: expected a position with bigint commit and prepare`);
  }
}

/**
 * Checks a whole batch before anything is written, so a malformed batch is refused
 * whole by both stores. Positions must strictly increase: the guards rely on it. The
 * checkpoint may lie anywhere (after the last write when the last events caused none;
 * before it when a caller commits part of its work): it only ever moves forward.
 */
export function checkBatch(
  projection: string,
  writes: PositionedWrites[],
  checkpoint: Position,
  catalog: CollectionCatalog,
): void {
  checkProjectionName(projection);
  if (!Array.isArray(writes)) throw new ReadStoreQueryError('writes must be an array');
  checkPosition(checkpoint, 'checkpoint');
  let previous: Position | null = null;
  writes.forEach((event, e) => {
    checkPosition(event?.position, `writes[${e}].position`);
    if (previous && comparePositions(previous, event.position) >= 0) {
      throw new ReadStoreQueryError(`writes[${e}]: positions must strictly increase within a batch`);
    }
    previous = event.position;
    if (!Array.isArray(event.ops) || event.ops.length > MAX_OPS_PER_EVENT) {
      throw new ReadStoreQueryError(`writes[${e}].ops must be an array of at most ${MAX_OPS_PER_EVENT} operations`);
    }
    event.ops.forEach((op, i) => {
      checkOp(op, catalog, `writes[${e}].ops[${i}]`);
    });
  });
}

export function checkProjectionName(projection: unknown): asserts projection is string {
  if (typeof projection !== 'string' || projection.length === 0 || projection.length > 200) {
    throw new ReadStoreQueryError(`invalid projection name ${JSON.stringify(projection)}`);
  }
}

/**
 * The operations still to apply, in order, each with its guard. Events at or before the
 * projection's checkpoint were committed already: skipping them is the cheap common case
 * of a replay; the guards handle the rest (a batch cut short before its checkpoint moved).
 */
export function pendingOps(writes: PositionedWrites[], checkpoint: Position | null): GuardedOp[] {
  const pending: GuardedOp[] = [];
  for (const event of writes) {
    if (checkpoint && comparePositions(event.position, checkpoint) <= 0) continue;
    const sortable = sortablePosition(event.position);
    event.ops.forEach((op, i) => {
      pending.push({ op, guard: guardOf(sortable, i) });
    });
  }
  return pending;
}

/** A document as stored, without its id: its fields and the guard of the last operation applied. */
export interface StoredState {
  fields: DocFields;
  guard: string;
}

export type WriteOutcome = { kind: 'skip' } | { kind: 'put'; fields: DocFields } | { kind: 'remove' };

const SKIP: WriteOutcome = { kind: 'skip' };

/**
 * The reference semantics of one guarded operation on one document (`current` null when
 * absent). SQLite applies exactly this; the MongoDB adapter expresses the same with
 * guarded filters and update operators.
 */
export function applyOp(current: StoredState | null, op: WriteOp, guard: string): WriteOutcome {
  // An operation at or below the document's guard was applied already (or is older than
  // what the document reflects): a replay, so nothing to do.
  if (current && current.guard >= guard) return SKIP;
  switch (op.op) {
    case 'insert':
      return current ? SKIP : { kind: 'put', fields: { ...op.doc } };
    case 'upsert': {
      const fields = current ? { ...current.fields, ...op.set } : { ...op.setOnInsert, ...op.set };
      return { kind: 'put', fields: increment(fields, op.inc, op.id) };
    }
    case 'update':
      return current ? { kind: 'put', fields: increment({ ...current.fields, ...op.set }, op.inc, op.id) } : SKIP;
    case 'delete':
      return current ? { kind: 'remove' } : SKIP;
  }
}

/** `$inc` semantics: a missing field counts as 0; anything but a number is an error (as in MongoDB). */
function increment(fields: DocFields, inc: Record<string, number> | undefined, id: string): DocFields {
  if (!inc) return fields;
  for (const [field, by] of Object.entries(inc)) {
    const value = fields[field];
    if (value === undefined) fields[field] = by;
    else if (typeof value === 'number') fields[field] = value + by;
    else throw new ReadStoreQueryError(`cannot increment non-numeric field "${field}" of document "${id}"`);
  }
  return fields;
}
