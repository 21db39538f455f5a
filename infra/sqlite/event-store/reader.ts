import type Database from 'better-sqlite3';
import type {
  AllFilter,
  JsonObject,
  ReadStreamResult,
  RecordedEvent,
  ReadStreamOptions,
  EventMetadata,
} from '../../eventsourcing/event-store/event-store.js';

/** A row as stored, before its JSON is parsed: filters look at it first, so skipped events cost no parsing. */
export type Row = [
  position: number,
  stream: string,
  revision: number,
  id: string,
  type: string,
  data: string,
  metadata: string,
  created: number,
];

const COLUMNS = 'e.position, s.name, e.revision, e.id, e.type, e.data, e.metadata, e.created';

export interface AllPage {
  events: RecordedEvent[];
  /** Position up to which rows were looked at (filtered out or not); 0 when nothing was read. */
  scannedUpTo: number;
  /** True when the page stopped at the end of the log rather than at its limit. */
  reachedEnd: boolean;
}

export class EventReader {
  private readonly statements;
  private readonly filteredStatements = new Map<string, Database.Statement<unknown[], Row>>();

  constructor(private readonly db: Database.Database) {
    const all = (where: string, order: 'ASC' | 'DESC') =>
      db
        .prepare<[number, number], Row>(
          `SELECT ${COLUMNS} FROM events e JOIN streams s ON s.id = e.stream WHERE ${where} ORDER BY e.position ${order} LIMIT ?`,
        )
        .raw(true);
    const stream = (where: string, order: 'ASC' | 'DESC') =>
      db
        .prepare<[number, number, number], Row>(
          `SELECT ${COLUMNS} FROM events e JOIN streams s ON s.id = e.stream WHERE e.stream = ? AND ${where} ORDER BY e.revision ${order} LIMIT ?`,
        )
        .raw(true);
    this.statements = {
      streamId: db.prepare<[string], { id: number }>('SELECT id FROM streams WHERE name = ?'),
      forwardsAfter: all('e.position > ?', 'ASC'),
      backwardsFrom: all('e.position <= ?', 'DESC'),
      streamForwards: stream('e.revision >= ?', 'ASC'),
      streamBackwards: stream('e.revision <= ?', 'DESC'),
      head: db.prepare<[], { p: number | null }>('SELECT max(position) AS p FROM events'),
      snapshot: db.prepare<[string], { revision: number; position: number; version: number; state: string }>(
        'SELECT revision, position, version, state FROM snapshots WHERE stream = ?',
      ),
    };
  }

  readStream(streamId: string, options: ReadStreamOptions = {}): ReadStreamResult {
    const stream = this.statements.streamId.get(streamId);
    if (!stream) return { status: 'not_found' };
    const backwards = options.direction === 'backwards';
    const limit = clampCount(options.maxCount);
    const from = options.fromRevision;
    let rows: Row[];
    if (backwards) {
      const start = from === undefined || from === 'end' ? Number.MAX_SAFE_INTEGER : from === 'start' ? 0 : from;
      rows = this.statements.streamBackwards.all(stream.id, start, limit);
    } else {
      const start = from === undefined || from === 'start' ? 0 : from === 'end' ? Number.MAX_SAFE_INTEGER : from;
      rows = this.statements.streamForwards.all(stream.id, start, limit);
    }
    return { status: 'found', events: rows.map(toEvent) };
  }

  /** Up to `limit` rows strictly after `after`, forwards, as stored (for the committed tail). */
  rowsAfter(after: number, limit: number): Row[] {
    return this.statements.forwardsAfter.all(after, limit);
  }

  /**
   * Up to `limit` events strictly after `after`, forwards. A filter is applied inside
   * SQLite, so the rows it skips are never turned into JavaScript objects (a process runs
   * a dozen subscriptions over the same log, most of which want few of its events).
   */
  pageForwards(after: number, limit: number, filter?: AllFilter): AllPage {
    if (!narrows(filter)) return toPage(this.statements.forwardsAfter.all(after, limit), limit, undefined);
    const { statement, params } = this.filtered(filter);
    // The head first, and only rows up to it: when fewer rows than asked come back, every
    // row up to the head was looked at. (Rows at or below a committed head are all
    // committed: a writer holds the lock and numbers new rows above it.)
    const head = this.head();
    const rows = statement.all(after, head, ...params, limit);
    const page = toPage(rows, limit, filter);
    return page.reachedEnd ? { ...page, scannedUpTo: Math.max(head, after) } : page;
  }

  /** Rows at or before `from`, backwards, at most `limit` rows scanned. */
  pageBackwards(from: number, limit: number, filter?: AllFilter): AllPage {
    return toPage(this.statements.backwardsFrom.all(from, limit), limit, filter);
  }

  private filtered(filter: AllFilter) {
    const streams = filter.streamPrefixes ?? [];
    const types = filter.eventTypePrefixes ?? [];
    const key = JSON.stringify([streams, types]);
    let statement = this.filteredStatements.get(key);
    const clause = (column: string, prefixes: string[]) =>
      prefixes.length ? `AND (${prefixes.map(() => `substr(${column}, 1, ?) = ?`).join(' OR ')})` : '';
    if (!statement) {
      statement = this.db
        .prepare<unknown[], Row>(
          `SELECT ${COLUMNS} FROM events e JOIN streams s ON s.id = e.stream
           WHERE e.position > ? AND e.position <= ? ${clause('s.name', streams)} ${clause('e.type', types)}
           ORDER BY e.position LIMIT ?`,
        )
        .raw(true);
      this.filteredStatements.set(key, statement);
    }
    const params = [...streams, ...types].flatMap((prefix) => [prefix.length, prefix]);
    return { statement, params };
  }

  snapshot(streamId: string): { revision: number; position: number; version: number; state: string } | undefined {
    return this.statements.snapshot.get(streamId);
  }

  head(): number {
    return this.statements.head.get()?.p ?? 0;
  }
}

/** Whether a filter keeps only some events (one without prefixes is no filter: system events pass too). */
export function narrows(filter: AllFilter | undefined): filter is AllFilter {
  return !!filter && !!(filter.streamPrefixes?.length || filter.eventTypePrefixes?.length);
}

export function toPage(rows: Row[], limit: number, filter: AllFilter | undefined): AllPage {
  const matches = filter ? compileFilter(filter) : () => true;
  const events: RecordedEvent[] = [];
  for (const row of rows) if (matches(row[1], row[4])) events.push(toEvent(row));
  const last = rows[rows.length - 1];
  return { events, scannedUpTo: last ? last[0] : 0, reachedEnd: rows.length < limit };
}

/** Keeps an event when it matches every given criterion (and any prefix within one). System events never pass. */
export function compileFilter(filter: AllFilter): (stream: string, type: string) => boolean {
  const streams = filter.streamPrefixes?.length ? filter.streamPrefixes : null;
  const types = filter.eventTypePrefixes?.length ? filter.eventTypePrefixes : null;
  return (stream, type) =>
    !type.startsWith('$') &&
    (!streams || streams.some((p) => stream.startsWith(p))) &&
    (!types || types.some((p) => type.startsWith(p)));
}

export function toEvent(row: Row): RecordedEvent {
  const [position, streamId, revision, id, type, data, metadata, created] = row;
  const p = BigInt(position);
  return {
    id,
    type,
    streamId,
    revision,
    position: { commit: p, prepare: p },
    data: JSON.parse(data) as JsonObject,
    metadata: JSON.parse(metadata) as EventMetadata,
    created: new Date(created),
  };
}

function clampCount(maxCount: number | undefined): number {
  if (maxCount === undefined) return -1; // SQLite: LIMIT -1 means no limit
  return Math.max(0, Math.floor(maxCount));
}
