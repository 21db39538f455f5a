import type Database from 'better-sqlite3';
import type { AllFilter, JsonObject, ReadStreamResult, RecordedEvent, ReadStreamOptions, EventMetadata } from '../event-store.js';

/** A row as stored, before its JSON is parsed: filters look at it first, so skipped events cost no parsing. */
type Row = [position: number, stream: string, revision: number, id: string, type: string, data: string, metadata: string, created: number];

const COLUMNS = 'e.position, s.name, e.revision, e.id, e.type, e.data, e.metadata, e.created';

export interface AllPage {
  events: RecordedEvent[];
  /** Position of the last row looked at (filtered out or not); 0 when nothing was read. */
  scannedUpTo: number;
  rowsScanned: number;
}

export class EventReader {
  private readonly statements;

  constructor(db: Database.Database) {
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

  /** Rows strictly after `after`, forwards, at most `limit` rows scanned. */
  pageForwards(after: number, limit: number, filter?: AllFilter): AllPage {
    const rows = this.statements.forwardsAfter.all(after, limit);
    return toPage(rows, filter);
  }

  /** Rows at or before `from`, backwards, at most `limit` rows scanned. */
  pageBackwards(from: number, limit: number, filter?: AllFilter): AllPage {
    const rows = this.statements.backwardsFrom.all(from, limit);
    return toPage(rows, filter);
  }

  head(): number {
    return this.statements.head.get()?.p ?? 0;
  }
}

function toPage(rows: Row[], filter: AllFilter | undefined): AllPage {
  const matches = filter ? compileFilter(filter) : () => true;
  const events: RecordedEvent[] = [];
  for (const row of rows) if (matches(row[1], row[4])) events.push(toEvent(row));
  const last = rows[rows.length - 1];
  return { events, scannedUpTo: last ? last[0] : 0, rowsScanned: rows.length };
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

function toEvent(row: Row): RecordedEvent {
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
