/**
 * The rules both read store adapters share about names and values, and the catalog of
 * declared collections. Names end up inside SQL text (table names, json paths in index
 * expressions) and Mongo field paths, so they are checked here, once, against a strict
 * pattern instead of being escaped differently in each adapter.
 */
import { createHash } from 'node:crypto';
import { ReadStoreQueryError, type CollectionSpec, type DocValue, type IndexSpec } from './read-store.js';

const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Top-level field names; `id` is the key, and `_`-prefixed names are the stores' own (`_id`, `_pos`). */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** MongoDB refuses documents nested deeper than 100 levels; stay well below. */
const MAX_DEPTH = 64;

/** Values usable in `where`, `range` and cursors: one JSON scalar. */
export type ScalarValue = string | number | boolean;

/** The table (SQLite) or collection (MongoDB) holding a read-model collection. */
export function storageName(collection: string): string {
  return `rm_${collection}`;
}

/** A field deleted by (`deleteBefore`) is found through an index: the first sort field of one with no equality field. */
export function checkLeadingSortField(spec: CollectionSpec, field: string): void {
  if (!spec.indexes.some((index) => index.equal.length === 0 && index.sort[0] === field)) {
    throw new ReadStoreQueryError(`no index of ${spec.name} starts with ${field}`);
  }
}

export function checkCollectionName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new ReadStoreQueryError(`invalid collection name ${JSON.stringify(name)}: expected [a-z][a-z0-9_]*`);
  }
}

export function checkFieldName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !FIELD_NAME.test(name) || name === 'id') {
    throw new ReadStoreQueryError(
      `invalid field name ${JSON.stringify(name)}: expected [A-Za-z][A-Za-z0-9_]*, and not "id" (the key)`,
    );
  }
}

export function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new ReadStoreQueryError(`invalid document id ${JSON.stringify(id)}: expected a non-empty string`);
  }
}

/**
 * A value both stores keep and give back unchanged: JSON only. Non-finite numbers,
 * `undefined`, Dates and class instances are refused because JSON.stringify (SQLite)
 * and BSON (MongoDB) would each turn them into something different.
 */
export function checkDocValue(value: unknown, path: string, depth = 0): asserts value is DocValue {
  if (depth > MAX_DEPTH) throw new ReadStoreQueryError(`${path}: nested too deep`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ReadStoreQueryError(`${path}: numbers must be finite`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      // FerretDB cannot store an array directly inside an array; both stores refuse one, so
      // a projection behaves the same whichever runs (an object around it is fine).
      if (Array.isArray(item))
        throw new ReadStoreQueryError(`${path}[${i}]: an array directly inside an array is not allowed`);
      checkDocValue(item, `${path}[${i}]`, depth + 1);
    });
    return;
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      // MongoDB gives `$` and `.` in keys a meaning; keep nested keys plain in both stores.
      if (key.startsWith('$') || key.includes('.') || key.includes('\0')) {
        throw new ReadStoreQueryError(`${path}: invalid nested key ${JSON.stringify(key)}`);
      }
      checkDocValue(item, `${path}.${key}`, depth + 1);
    }
    return;
  }
  throw new ReadStoreQueryError(`${path}: not a JSON value`);
}

export function checkScalar(value: unknown, path: string): asserts value is ScalarValue {
  const ok =
    typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
  if (!ok) throw new ReadStoreQueryError(`${path}: expected a string, a finite number or a boolean`);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The fields an index physically orders by: equality fields, then sort fields (`id` is
 * appended by each adapter). Two specs with the same key fields share one physical index.
 */
export function indexKeyFields(index: IndexSpec): string[] {
  return [...index.equal, ...index.sort];
}

/** A short stable name for a physical index, derived from its key fields. */
export function indexName(collection: string, index: IndexSpec): string {
  const digest = createHash('sha256').update(indexKeyFields(index).join(',')).digest('hex').slice(0, 12);
  return `${storageName(collection)}_ix_${digest}`;
}

function checkIndex(collection: string, index: IndexSpec): void {
  if (!index || !Array.isArray(index.equal) || !Array.isArray(index.sort)) {
    throw new ReadStoreQueryError(`${collection}: an index needs "equal" and "sort" arrays`);
  }
  const fields = indexKeyFields(index);
  fields.forEach(checkFieldName);
  if (new Set(fields).size !== fields.length) {
    throw new ReadStoreQueryError(`${collection}: an index names a field twice (${fields.join(', ')})`);
  }
}

/** The collections declared with `ensureCollections`: commits and queries may use only these. */
export class CollectionCatalog {
  private readonly specs = new Map<string, CollectionSpec>();

  /** Checks the specs; returns them (the caller creates the storage, then calls `add`). */
  static check(specs: CollectionSpec[]): CollectionSpec[] {
    if (!Array.isArray(specs)) throw new ReadStoreQueryError('ensureCollections expects an array of specs');
    for (const spec of specs) {
      checkCollectionName(spec?.name);
      if (!Array.isArray(spec.indexes)) throw new ReadStoreQueryError(`${spec.name}: "indexes" must be an array`);
      for (const index of spec.indexes) checkIndex(spec.name, index);
    }
    return specs;
  }

  /** A collection declared again (e.g. with an extra index) takes its latest spec. */
  add(specs: CollectionSpec[]): void {
    for (const spec of specs) {
      this.specs.set(spec.name, {
        name: spec.name,
        indexes: spec.indexes.map((i) => ({ equal: [...i.equal], sort: [...i.sort] })),
      });
    }
  }

  get(collection: string): CollectionSpec {
    checkCollectionName(collection);
    const spec = this.specs.get(collection);
    if (!spec)
      throw new ReadStoreQueryError(`unknown collection "${collection}": declare it with ensureCollections first`);
    return spec;
  }
}
