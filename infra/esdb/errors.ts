/**
 * Error mapping: what `@eventstore/db-client` throws → the port's error vocabulary.
 *
 * The client throws `CommandError`s tagged with a `type` string, and raw gRPC errors (or
 * Node socket errors) when it could not classify them. We look at the `type` tag rather
 * than `instanceof` so the mapping survives two copies of the client in node_modules.
 */
import { ErrorType } from '@eventstore/db-client';
import {
  EventStoreRejected,
  EventStoreUnavailable,
  WrongExpectedVersion,
  type ExpectedRevision,
} from '../eventsourcing/event-store/event-store.js';

/** gRPC status codes (a stable standard), so we need not import `@grpc/grpc-js` ourselves. */
const GrpcStatus = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** Worth retrying: the server was unreachable, busy, restarting or not the leader. */
const TRANSIENT_TYPES: ReadonlySet<string> = new Set([
  ErrorType.UNAVAILABLE,
  ErrorType.TIMEOUT, // gRPC ABORTED: the server gave up (e.g. a subscriber too slow), not a refusal
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.NOT_LEADER, // the client reconnects to the leader it was told about
  ErrorType.CANCELLED, // the server cancelled a long-running call (shutdown, leader change)
]);

/** Refused for good: retrying the same request gives the same answer. */
const REJECTED_TYPES: ReadonlySet<string> = new Set([
  ErrorType.ACCESS_DENIED,
  ErrorType.STREAM_DELETED,
  ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED,
  ErrorType.INVALID_ARGUMENT,
  ErrorType.INVALID_TRANSACTION,
  ErrorType.MISSING_REQUIRED_METADATA_PROPERTY,
  ErrorType.NOT_FOUND,
  ErrorType.UNSUPPORTED,
]);

const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
]);

const REJECTED_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.RESOURCE_EXHAUSTED, // a message over the gRPC size limit
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNIMPLEMENTED,
  GrpcStatus.UNAUTHENTICATED,
]);

/** Socket-level failures seen before gRPC gets a chance to report UNAVAILABLE. */
const TRANSIENT_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

interface ErrorFields {
  type?: unknown;
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

function fieldsOf(error: unknown): ErrorFields {
  return typeof error === 'object' && error !== null ? (error as ErrorFields) : {};
}

export function errorType(error: unknown): string | undefined {
  const { type } = fieldsOf(error);
  return typeof type === 'string' ? type : undefined;
}

export type ErrorKind = 'transient' | 'rejected' | 'unknown';

export function classifyError(error: unknown): ErrorKind {
  if (error instanceof EventStoreUnavailable) return 'transient';
  if (error instanceof EventStoreRejected || error instanceof WrongExpectedVersion) return 'rejected';
  const type = errorType(error);
  if (type !== undefined && TRANSIENT_TYPES.has(type)) return 'transient';
  if (type !== undefined && REJECTED_TYPES.has(type)) return 'rejected';
  const { code, message, details } = fieldsOf(error);
  if (typeof code === 'number') {
    if (TRANSIENT_CODES.has(code)) return 'transient';
    if (REJECTED_CODES.has(code)) return 'rejected';
    // A connection reset mid-call surfaces as INTERNAL with an RST_STREAM detail.
    if (
      code === GrpcStatus.INTERNAL &&
      /RST_STREAM|connection dropped|write after end/i.test(String(details ?? message))
    ) {
      return 'transient';
    }
  }
  if (typeof code === 'string' && TRANSIENT_SOCKET_CODES.has(code)) return 'transient';
  // Cluster discovery gave up: no node answered gossip.
  if (typeof message === 'string' && /failed to discover/i.test(message)) return 'transient';
  return 'unknown';
}

export function isTransient(error: unknown): boolean {
  return classifyError(error) === 'transient';
}

function messageOf(error: unknown): string {
  const { message } = fieldsOf(error);
  return typeof message === 'string' && message !== '' ? message : String(error);
}

/**
 * Translates any failure into the port's errors. `action` says what we were doing, for the
 * message ("append to stream order-1"). Unknown failures (server bugs, client bugs) are
 * passed through untouched: calling them transient or rejected would be a guess.
 */
export function toStoreError(error: unknown, action: string): Error {
  if (
    error instanceof EventStoreUnavailable ||
    error instanceof EventStoreRejected ||
    error instanceof WrongExpectedVersion
  ) {
    return error;
  }
  switch (classifyError(error)) {
    case 'transient':
      return new EventStoreUnavailable(`EventStoreDB unavailable (${action}): ${messageOf(error)}`, { cause: error });
    case 'rejected':
      return new EventStoreRejected(`EventStoreDB rejected ${action}: ${messageOf(error)}`, { cause: error });
    default:
      return error instanceof Error ? error : new Error(`${action} failed: ${String(error)}`, { cause: error });
  }
}

/** The client's `WrongExpectedVersionError`, recognised by its tag. */
export function isWrongExpectedVersion(error: unknown): error is { actualVersion: unknown } {
  return errorType(error) === ErrorType.WRONG_EXPECTED_VERSION;
}

export function isStreamNotFound(error: unknown): boolean {
  return errorType(error) === ErrorType.STREAM_NOT_FOUND;
}

/**
 * The client reports the actual revision as a bigint or `'no_stream'`; servers before 21.x
 * put -1 in the trailers for a missing stream.
 */
export function toWrongExpectedVersion(
  error: { actualVersion: unknown },
  streamId: string,
  expected: ExpectedRevision,
): WrongExpectedVersion {
  const actual = error.actualVersion;
  let revision: number | 'no_stream' = 'no_stream';
  if (typeof actual === 'bigint' && actual >= 0n) revision = Number(actual);
  const mapped = new WrongExpectedVersion(streamId, expected, revision);
  mapped.cause = error;
  return mapped;
}
