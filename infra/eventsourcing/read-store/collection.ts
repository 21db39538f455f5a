/**
 * A read-model collection, declared once: its name, the type of its documents and its
 * indexes. The projection that writes the collection and the queries that read it import
 * the same declaration, so the compiler holds both to one document type: a projection
 * cannot write a field the type lacks or a value of another type, and a query reads each
 * field with the type it was written with (no re-coercion). The declaration is the
 * collection's `CollectionSpec` too, so both stores create its indexes from it.
 *
 *   type NoteDoc = { id: string; authorId: string; words: number };
 *   const notes = collection<NoteDoc>('notes', [{ equal: ['authorId'], sort: [] }]);
 *   notes.insert(id, { authorId, words: 0 })   // a WriteOp, checked against NoteDoc
 *   notes.update(id, { inc: { words: 12 } })    // only number fields can be incremented
 *   await notes.get(readStore, id)             // NoteDoc | null
 *   await notes.find(readStore, { where: { authorId }, sort: { fields: [], direction: 'asc' } })
 *
 * A document type holds JSON values in top-level fields (`DocShape`); an optional field is
 * one that documents written by an earlier build may lack.
 */
import type {
  CollectionSpec,
  Doc,
  DocFields,
  DocValue,
  FindQuery,
  FindResult,
  ReadStore,
  SortDirection,
  WriteOp,
} from './read-store.js';

/** What a document type must be: the id, and fields holding JSON values (or absent). */
export type DocShape<D> = { id: string } & { [K in keyof D]: K extends 'id' ? string : DocValue | undefined };

/** The names of a document's fields (`id`, the key, is not one). */
export type FieldOf<D> = Exclude<keyof D, 'id'> & string;

/** A document without its id: what an insert writes. */
export type FieldsOf<D> = Omit<D, 'id'>;

/** The fields holding numbers: what `inc` may add to. */
export type NumberFieldOf<D> = { [K in FieldOf<D>]-?: D[K] extends number | undefined ? K : never }[FieldOf<D>];

/** An index over fields of the document (see `IndexSpec`). */
export interface IndexOf<D> {
  equal: FieldOf<D>[];
  sort: FieldOf<D>[];
}

/** A `find` over the collection: `FindQuery` with its fields and values checked against the document. */
export interface QueryOf<D> extends Omit<FindQuery, 'where' | 'sort'> {
  where?: { [K in FieldOf<D>]?: D[K] | null };
  sort: { fields: FieldOf<D>[]; direction: SortDirection };
}

/** A page of documents. */
export interface PageOf<D> {
  items: D[];
  next?: string;
}

/** Whatever reads documents by id: the read store, or a projection's view of it mid-batch. */
export interface DocReader {
  get(collection: string, id: string): Promise<Doc | null>;
}

export class Collection<D extends DocShape<D>> implements CollectionSpec {
  constructor(
    readonly name: string,
    readonly indexes: IndexOf<D>[] = [],
  ) {}

  /** Creates the document; ignored when one with this id exists (see `WriteOp`). */
  insert(id: string, doc: FieldsOf<D>): WriteOp {
    return { op: 'insert', collection: this.name, id, doc: fields(doc) };
  }

  /** Changes an existing document; ignored when absent. */
  update(id: string, change: { set?: Partial<FieldsOf<D>>; inc?: Increments<D> }): WriteOp {
    return { op: 'update', collection: this.name, id, ...writeFields(change) };
  }

  /** Creates or changes: `setOnInsert` only on creation, then `set`, then `inc`. */
  upsert(
    id: string,
    change: { set?: Partial<FieldsOf<D>>; setOnInsert?: Partial<FieldsOf<D>>; inc?: Increments<D> },
  ): WriteOp {
    return { op: 'upsert', collection: this.name, id, ...writeFields(change) };
  }

  delete(id: string): WriteOp {
    return { op: 'delete', collection: this.name, id };
  }

  async get(store: DocReader, id: string): Promise<D | null> {
    const doc = await store.get(this.name, id);
    return doc && this.typed(doc);
  }

  async find(store: Pick<ReadStore, 'find'>, query: QueryOf<D>): Promise<PageOf<D>> {
    // `where` holds values of the document's fields: DocValues, or null.
    const found: FindResult = await store.find(this.name, query as FindQuery);
    const page: PageOf<D> = { items: found.items.map((doc) => this.typed(doc)) };
    if (found.next !== undefined) page.next = found.next;
    return page;
  }

  /**
   * A stored document as its type. Not checked field by field: the only writer of the
   * collection is its projection, through `insert`/`update`/`upsert` above, which the
   * compiler holds to the same type, and both stores give back exactly the JSON written.
   */
  private typed(doc: Doc): D {
    return doc as D;
  }
}

type Increments<D> = Partial<Record<NumberFieldOf<D>, number>>;

/** Declares a collection of documents of type `D`, with the indexes its queries use. */
export function collection<D extends DocShape<D>>(name: string, indexes: IndexOf<D>[] = []): Collection<D> {
  return new Collection<D>(name, indexes);
}

/**
 * A typed set of fields as `WriteOp` carries them: for every `D` that meets `DocShape` its
 * fields hold DocValues, which the compiler cannot see through `Omit`/`Partial` on a type
 * parameter. (A field given as `undefined` is refused by the stores' checks on commit, as
 * before.)
 */
function fields(values: object): DocFields {
  return values as DocFields;
}

function writeFields(change: { set?: object; setOnInsert?: object; inc?: object }): {
  set?: DocFields;
  setOnInsert?: DocFields;
  inc?: Record<string, number>;
} {
  const out: { set?: DocFields; setOnInsert?: DocFields; inc?: Record<string, number> } = {};
  if (change.set !== undefined) out.set = fields(change.set);
  if (change.setOnInsert !== undefined) out.setOnInsert = fields(change.setOnInsert);
  // `Increments<D>` names number fields only.
  if (change.inc !== undefined) out.inc = change.inc as Record<string, number>;
  return out;
}
