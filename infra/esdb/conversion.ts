/**
 * Conversions between the port's types and `@eventstore/db-client`'s: expected revisions,
 * events to append, recorded events, positions. The client speaks bigint; the port uses
 * numbers for stream revisions (safe up to 2^53, far beyond any stream) and bigints for
 * `$all` positions (byte offsets in the server's log, which can exceed 2^53).
 */
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type EventData,
  type Position as ClientPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  EventStoreRejected,
  type EventMetadata,
  type EventToAppend,
  type ExpectedRevision,
  type JsonObject,
  type Position,
  type RecordedEvent,
} from '../eventsourcing/event-store/event-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** EventStoreDB's own events ($metadata, $>, $statsCollected…) are never shown to callers. */
export function isSystemEventType(type: string): boolean {
  return type.startsWith('$');
}

export function toClientExpectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < 0) {
        throw new EventStoreRejected(`Invalid expected revision ${String(expected)}: a revision is an integer ≥ 0`);
      }
      return BigInt(expected);
  }
}

/**
 * Expected revisions for which the server guarantees idempotence of a re-sent append (same
 * event ids): with `any` and `stream_exists` it only tries its best, so a blind retry could
 * write the events twice.
 */
export function isIdempotentExpectedRevision(expected: ExpectedRevision): boolean {
  return expected === 'no_stream' || typeof expected === 'number';
}

export function toEventData(event: EventToAppend): EventData {
  if (!UUID.test(event.id)) {
    // The server parses ids as UUIDs; failing here gives a clearer message than its INVALID_ARGUMENT.
    throw new EventStoreRejected(`Event id "${event.id}" is not a UUID`);
  }
  if (typeof event.type !== 'string' || event.type === '') {
    throw new EventStoreRejected('An event needs a non-empty type');
  }
  return jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });
}

export function toPosition(position: ClientPosition): Position {
  return { commit: position.commit, prepare: position.prepare };
}

export function toClientPosition(position: Position): ClientPosition {
  return { commit: position.commit, prepare: position.prepare };
}

export function toRevision(revision: bigint): number {
  const value = Number(revision);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Stream revision ${revision} cannot be represented as a number`);
  }
  return value;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * We only ever write JSON objects. Events written by other tools may be binary or hold a
 * JSON array or scalar: those become `{}` rather than failing a whole read of `$all`.
 */
function toJsonObject(value: unknown): JsonObject {
  if (isJsonObject(value)) return value;
  if (value instanceof Uint8Array && value.length > 0) {
    try {
      const parsed: unknown = JSON.parse(Buffer.from(value).toString('utf8'));
      if (isJsonObject(parsed)) return parsed;
    } catch {
      // Not JSON: an opaque binary payload.
    }
  }
  return {};
}

/** Stream reads carry a position only from server 22.6; before that, only the commit position. */
function positionOf(resolved: ResolvedEvent | AllStreamResolvedEvent): Position | undefined {
  const event = resolved.event;
  if (event?.position) return toPosition(event.position);
  if (resolved.commitPosition !== undefined) {
    return { commit: resolved.commitPosition, prepare: resolved.commitPosition };
  }
  return undefined;
}

/** Undefined for a link whose target is gone (only possible when resolving links). */
export function toRecordedEvent(resolved: ResolvedEvent | AllStreamResolvedEvent): RecordedEvent | undefined {
  const event = resolved.event;
  if (!event) return undefined;
  const position = positionOf(resolved);
  if (!position) {
    throw new EventStoreRejected(
      `EventStoreDB returned event ${event.id} without a position: server 22.6 or later is required`,
    );
  }
  return {
    id: event.id,
    type: event.type,
    streamId: event.streamId,
    revision: toRevision(event.revision),
    position,
    data: toJsonObject(event.data),
    metadata: toJsonObject(event.metadata) as EventMetadata,
    created: event.created,
  };
}
