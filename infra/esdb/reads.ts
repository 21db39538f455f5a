/**
 * Reads: collecting a client read into an array (with an inactivity timeout, since the
 * client gives streaming reads no deadline), and paging through `$all` with the filter
 * applied here.
 */
import {
  BACKWARDS,
  END,
  FORWARDS,
  START,
  type AllStreamResolvedEvent,
  type EventStoreDBClient,
  type ReadPosition,
  type StreamingRead,
} from '@eventstore/db-client';
import {
  EventStoreRejected,
  EventStoreUnavailable,
  type Position,
  type ReadAllOptions,
  type RecordedEvent,
} from '../eventsourcing/event-store/event-store.js';
import { comparePositions } from '../eventsourcing/event-store/position.js';
import type { BackoffPolicy } from '../eventsourcing/backoff.js';
import { withRetries } from './retries.js';
import { toClientPosition, toPosition, toRecordedEvent } from './conversion.js';
import { planFilter } from './filters.js';

export interface ReadSettings {
  /** A read fails when the server sends nothing for this long. */
  idleTimeoutMs: number;
  /** Tries per read (first included) while failures are transient. */
  attempts: number;
  backoff: BackoffPolicy;
  /** Events asked for per `$all` page. */
  pageSize: number;
  /** Ask for the leader: a follower then answers NotLeader with its address (see esdb-event-store.ts). */
  requiresLeader: boolean;
}

/**
 * Drains a client read. The timer restarts on every event, so a long but flowing read is
 * fine and a silent server is not. On timeout the gRPC call is cancelled.
 */
export function collect<T>(read: StreamingRead<T>, idleTimeoutMs: number, action: string): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const items: T[] = [];
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: () => void): void => {
      clearTimeout(timer);
      read.removeAllListeners('data');
      outcome();
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        settle(() =>
          reject(new EventStoreUnavailable(`EventStoreDB sent nothing for ${idleTimeoutMs} ms (${action})`)),
        );
        read.cancel().catch(() => undefined);
      }, idleTimeoutMs);
    };
    read.on('data', (item: T) => {
      items.push(item);
      arm();
    });
    read.once('end', () => settle(() => resolve(items)));
    // Kept for the stream's whole life: a late 'error' without a listener would crash the process.
    read.on('error', (error: Error) => settle(() => reject(error)));
    arm();
  });
}

export function isValidCount(count: number): boolean {
  return count === Infinity || (Number.isSafeInteger(count) && count >= 0);
}

function samePosition(a: Position, b: Position): boolean {
  return comparePositions(a, b) === 0;
}

/**
 * Reads `$all` page by page until `maxCount` events passed the filter or the log ends.
 *
 * As the port says (and the server does), a forwards read includes the event at
 * `fromPosition` and a backwards read starts just before it. So every forwards page after
 * the first starts with the last event of the page before: it is recognised and dropped.
 * Anything not strictly beyond the last event examined (or, backwards, `fromPosition`) is
 * dropped, so a server that included the boundary backwards would not produce duplicates.
 */
export async function readAllPages(
  client: EventStoreDBClient,
  options: ReadAllOptions,
  settings: ReadSettings,
): Promise<RecordedEvent[]> {
  const forwards = (options.direction ?? 'forwards') === 'forwards';
  const from = options.fromPosition ?? (forwards ? 'start' : 'end');
  const limit = options.maxCount ?? Infinity;
  if (!isValidCount(limit)) throw new EventStoreRejected(`Invalid maxCount ${limit}`);
  if (limit === 0 || (forwards && from === 'end') || (!forwards && from === 'start')) return [];

  const plan = planFilter(options.filter);
  const found: RecordedEvent[] = [];
  /** Position of the last event examined (kept or filtered out); backwards, we start below `from`. */
  let last: Position | undefined = !forwards && typeof from === 'object' ? from : undefined;
  let cursor: ReadPosition = from === 'start' ? START : from === 'end' ? END : toClientPosition(from);

  const direction = forwards ? FORWARDS : BACKWARDS;
  const readPage = (fromPosition: ReadPosition, maxCount: number) =>
    withRetries('read $all', settings.attempts, settings.backoff, () =>
      collect<AllStreamResolvedEvent>(
        client.readAll({ direction, fromPosition, maxCount, requiresLeader: settings.requiresLeader }),
        settings.idleTimeoutMs,
        'read $all',
      ),
    );

  const examine = (resolved: AllStreamResolvedEvent): void => {
    const event = resolved.event;
    if (!event) return;
    const position = toPosition(event.position);
    if (
      last !== undefined &&
      (forwards ? comparePositions(position, last) <= 0 : comparePositions(position, last) >= 0)
    ) {
      return; // already examined: the page boundary
    }
    last = position;
    if (!plan.accepts(event.streamId, event.type)) return;
    const recorded = toRecordedEvent(resolved);
    if (recorded) found.push(recorded);
  };

  while (found.length < limit) {
    // We always filter (system events at least), so ask for a little more than needed.
    const want = Math.min(settings.pageSize, Math.max(limit - found.length, 32));
    const before = last;
    const page = await readPage(cursor, want);
    for (const resolved of page) {
      if (found.length >= limit) break;
      examine(resolved);
    }
    if (page.length < want || last === undefined || (before !== undefined && samePosition(before, last))) break;
    cursor = toClientPosition(last);
  }
  return found;
}
