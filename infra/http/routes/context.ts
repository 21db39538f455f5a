import type { SelfServiceEnvironment } from '../../../command-handlers/self-service.js';
import type { TradingEnvironment } from '../../../command-handlers/trading.js';
import type { PasswordHashing } from '../../../command-handlers/identity.js';
import type { TokenService } from '../../auth/tokens.js';
import type { EventMetadata } from '../../eventsourcing/event-store/event-store.js';
import type { IdempotencyRecords } from '../../idempotency/records.js';
import type { ReadStore } from '../../eventsourcing/read-store/read-store.js';
import type { Context } from 'koa';
import type { BlockedUsers } from '../blocked-users.js';

/** Everything the API's routes work with, built once by the composition root. */
export interface ApiServices extends TradingEnvironment, SelfServiceEnvironment {
  readStore: ReadStore;
  tokens: TokenService;
  passwords: PasswordHashing;
  /** The answers kept for requests with an Idempotency-Key. */
  idempotency: IdempotencyRecords;
  now(): Date;
  /** Remembers a token signed out by this process at once (the read model follows). */
  rememberSignedOut(tokenId: string, expiresAt: Date): void;
  /** Remembers at once that the user's tokens issued below this sessions count are ended (the read model follows). */
  rememberSessionsEnded(userId: string, sessions: number): void;
  /** The blocked users: a block or unblock through this process counts at once. */
  blockedUsers: BlockedUsers;
  /** The operator's parked-event and consistency tools (the CLI's), for the admin endpoints; set once the handlers exist. */
  operatorTools?: OperatorTools;
}

/** A parked event as the operator sees it (`npm run cli -- parked list`). */
export interface ParkedRowView {
  id: string;
  eventType: string;
  streamId: string;
  position: string;
  attempts: number;
  parkedAt: string;
  stuck: string;
  error: string;
}

export interface ParkedOutcomeView {
  id: string;
  ok: boolean;
  what: string;
}

export interface CheckResultView {
  check: string;
  ok: boolean;
  summary: string;
  violations: string[];
  notes: string[];
}

/** What the admin endpoints ask of the operator's tools; `null`: no such parked event or handler. */
export interface OperatorTools {
  listParked(name?: string): Promise<ParkedRowView[] | null>;
  retryParked(id: string): Promise<ParkedOutcomeView[] | null>;
  skipParked(id: string, reason: string, by: string): Promise<ParkedOutcomeView[] | null>;
  check(graceMs: number): Promise<CheckResultView[]>;
}

/** The request id travels as the correlation id of every event the request causes. */
export function metadataOf(ctx: Context): EventMetadata {
  const requestId = typeof ctx.state.requestId === 'string' ? ctx.state.requestId : undefined;
  return requestId ? { correlationId: requestId } : {};
}

export function bodyOf(ctx: Context): unknown {
  return (ctx.request as { body?: unknown }).body;
}

/** The request's operation id: derived from its Idempotency-Key when it has one, so a re-run applies once. */
export function operationIdOf(ctx: Context, services: Pick<ApiServices, 'newId'>): string {
  return isRetriable(ctx) ? (ctx.state.operationId as string) : services.newId();
}

/** Claims the request's idempotency key: when it was first attempted (ms); undefined without a key. */
export async function firstAttemptOf(ctx: Context): Promise<number | undefined> {
  const claim = ctx.state.claimFirstAttempt as (() => Promise<number>) | undefined;
  return claim?.();
}

/** Whether the request can come again with the same operation id (it has an Idempotency-Key). */
export function isRetriable(ctx: Context): boolean {
  return typeof ctx.state.operationId === 'string';
}
