/**
 * How a `find` is served, shared by both adapters: which declared index answers it, the
 * limit, and the keyset cursor. Each adapter turns the plan into SQL or a Mongo filter;
 * the rules (and the cursor format) live only here.
 *
 * Keyset pagination: a page ends at some item; the cursor holds that item's sort values
 * and id, and the next page starts strictly after them in the sort order
 * (sort fields, then id, all in one direction). Items inserted or removed between two
 * pages therefore never shift the others: no gaps, no duplicates.
 */
import { createHash } from 'node:crypto';
import { checkScalar, type CollectionCatalog, type ScalarValue } from './catalog.js';
import {
  DEFAULT_LIMIT,
  InvalidCursor,
  MAX_LIMIT,
  ReadStoreQueryError,
  type Doc,
  type FindQuery,
  type FindResult,
  type IndexSpec,
  type RangeCondition,
  type SortDirection,
} from './read-store.js';

export type RangeOperator = keyof RangeCondition;
const RANGE_OPERATORS: readonly RangeOperator[] = ['gt', 'gte', 'lt', 'lte'];

export interface FindPlan {
  collection: string;
  /** The declared index that serves the query. */
  index: IndexSpec;
  /** Equality conditions, in the index's order; `null` matches a null or missing field. */
  equal: Array<{ field: string; value: ScalarValue | null }>;
  /** Bounds on the first sort field. */
  range: Array<{ op: RangeOperator; value: ScalarValue }>;
  sortFields: string[];
  direction: SortDirection;
  limit: number;
  /** Where the previous page ended (from the cursor), if any. */
  after: { values: ScalarValue[]; id: string } | null;
  /** A digest of the query's shape, written into cursors so one is not reused with another query. */
  shape: string;
}

export function planFind(catalog: CollectionCatalog, collection: string, query: FindQuery): FindPlan {
  const spec = catalog.get(collection);
  if (!query || typeof query !== 'object') throw new ReadStoreQueryError('find expects a query object');
  const where = query.where ?? {};
  const sortFields = query.sort?.fields;
  const direction = query.sort?.direction;
  if (!Array.isArray(sortFields) || (direction !== 'asc' && direction !== 'desc')) {
    throw new ReadStoreQueryError('sort needs fields (an array) and a direction (asc or desc)');
  }

  const whereFields = Object.keys(where).sort();
  const index = spec.indexes.find((i) => sameList([...i.equal].sort(), whereFields) && sameList(i.sort, sortFields));
  if (!index) {
    const declared = spec.indexes.map((i) => `{equal: [${i.equal}], sort: [${i.sort}]}`).join(', ') || 'none';
    throw new ReadStoreQueryError(
      `no index of "${collection}" serves where [${whereFields}] sorted by [${sortFields}]; declared: ${declared}`,
    );
  }

  const equal = index.equal.map((field) => {
    const value = where[field];
    if (value !== null) checkScalar(value, `where.${field}`);
    return { field, value };
  });

  const range: FindPlan['range'] = [];
  if (query.range !== undefined) {
    if (query.range === null || typeof query.range !== 'object')
      throw new ReadStoreQueryError('range must be an object');
    for (const [op, value] of Object.entries(query.range)) {
      if (!RANGE_OPERATORS.includes(op as RangeOperator)) throw new ReadStoreQueryError(`range: unknown bound "${op}"`);
      if (value === undefined) continue;
      checkScalar(value, `range.${op}`);
      range.push({ op: op as RangeOperator, value });
    }
    if (range.length > 0 && sortFields.length === 0) throw new ReadStoreQueryError('range needs a sort field to bound');
  }

  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ReadStoreQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }

  const shape = digest({
    collection,
    equal,
    range: [...range].sort((a, b) => a.op.localeCompare(b.op)),
    sortFields,
    direction,
  });
  const after = query.after === undefined ? null : decodeCursor(query.after, shape, sortFields.length);
  return { collection, index, equal, range, sortFields, direction, limit, after, shape };
}

/**
 * Turns the rows an adapter fetched (at most `limit + 1`, in order) into a page: the extra
 * row only tells that more may follow.
 */
export function toPage(plan: FindPlan, rows: Doc[]): FindResult {
  if (rows.length <= plan.limit) return { items: rows };
  const items = rows.slice(0, plan.limit);
  return { items, next: encodeCursor(plan, items[items.length - 1]!) };
}

/** The sort values of the last item of a page, then its id, base64url-encoded JSON. */
function encodeCursor(plan: FindPlan, last: Doc): string {
  const values = plan.sortFields.map((field) => {
    const value = last[field];
    // Keyset pagination compares values; past a null or missing value the two stores
    // disagree (and SQL comparisons with NULL are never true), so it cannot page on.
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ReadStoreQueryError(
        `document "${last.id}" of "${plan.collection}" has no string, number or boolean in sort field "${field}": cannot page past it`,
      );
    }
    return value;
  });
  return Buffer.from(JSON.stringify({ s: plan.shape, v: values, id: last.id })).toString('base64url');
}

const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,4096}$/;

/** Client input: anything that is not a cursor this query produced is an InvalidCursor. */
function decodeCursor(text: unknown, shape: string, sortFieldCount: number): FindPlan['after'] {
  if (typeof text !== 'string' || !CURSOR_TEXT.test(text)) throw new InvalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursor();
  }
  const cursor = parsed as { s?: unknown; v?: unknown; id?: unknown } | null;
  if (
    !cursor ||
    typeof cursor !== 'object' ||
    cursor.s !== shape ||
    typeof cursor.id !== 'string' ||
    !Array.isArray(cursor.v) ||
    cursor.v.length !== sortFieldCount
  ) {
    throw new InvalidCursor();
  }
  const values: ScalarValue[] = [];
  for (const value of cursor.v) {
    if (
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      values.push(value);
    } else {
      throw new InvalidCursor();
    }
  }
  return { values, id: cursor.id };
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 16);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
