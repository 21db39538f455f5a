/**
 * The server the fuzzer drives and what it knows about it: two real users (a trader with
 * money and units, and the broker), credentials that must not get in, the values the
 * server handed out so far (ids, positions, cursors, the bodies it accepted), and the
 * state a refused request must leave as it was.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { formatPosition, type Position } from '../../infra/eventsourcing/event-store/position.js';
import { getAccount, listOperations } from '../../read-api/billing.js';
import { listDeals } from '../../read-api/deals.js';
import { getProfile } from '../../read-api/identity.js';
import { listNotifications } from '../../read-api/notifications.js';
import { listCustomerOrders } from '../../read-api/ordering.js';
import { listOrders, listPortfolio } from '../../read-api/trading.js';
import type { ApiServer } from '../support/api-server.js';
import type { Caller } from './plans.js';
import { Pick, RecordPick } from './schema-values.js';

export interface Principal {
  name: 'trader' | 'broker';
  email: string;
  password: string;
  userId: string;
  token: string;
}

/** What every request is checked against before and after: the event log's head and the users' read models. */
export interface State {
  head: Position | null;
  readModels: string;
}

const PAGE = { limit: 500 };

/** Signs in over HTTP: the access token. */
export async function logIn(baseUrl: string, email: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/identity/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await response.json()) as { accessToken?: string };
  if (response.status !== 200 || !body.accessToken) throw new Error(`cannot sign ${email} in: ${response.status}`);
  return body.accessToken;
}

export class World {
  /** Values seen in answers (and in the bodies of accepted requests), by field. */
  private readonly pools = new Map<string, unknown[]>();
  /** Bodies the server accepted, to send their fields again together (an email with its password). */
  readonly records: Record<string, unknown>[] = [];
  private badTokens = new Map<Caller, string>();

  constructor(
    readonly server: ApiServer,
    readonly principals: Record<Principal['name'], Principal>,
  ) {}

  /** Remembers `value` under `field` (each value once). */
  remember(field: string, value: unknown): void {
    if (value === undefined || value === null || typeof value === 'object') return;
    const pool = this.pools.get(field) ?? [];
    if (!pool.includes(value)) pool.push(value);
    this.pools.set(field, pool);
  }

  /** The value a `Pick` stands for: an id of the caller's (or, one time in four, the other user's), else its fallback. */
  resolve(pick: Pick, caller: Caller): unknown {
    if (pick instanceof RecordPick) return this.resolveRecord(pick, caller);
    let field = pick.field;
    if (field.startsWith('id:')) {
      const other = caller === 'trader' ? 'broker' : 'trader';
      field = `${pick.index % 4 === 3 ? other : caller}:${field}`;
    }
    const pool = this.pools.get(field) ?? [];
    return pool.length > 0 ? pool[pick.index % pool.length] : pick.fallback;
  }

  private resolveRecord(pick: RecordPick, caller: Caller): unknown {
    const fits = this.records.filter((r) => pick.required.every((name) => name in r));
    if (fits.length === 0) return this.resolveAll(pick.fallback, caller);
    const record = fits[pick.index % fits.length]!;
    return Object.fromEntries(pick.properties.filter((name) => name in record).map((name) => [name, record[name]]));
  }

  /** Replaces every `Pick` in a generated value. */
  resolveAll(value: unknown, caller: Caller): unknown {
    if (value instanceof Pick) return this.resolve(value, caller);
    if (Array.isArray(value)) return value.map((v) => this.resolveAll(v, caller));
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolveAll(v, caller)]));
    return value;
  }

  /** The ETag the GET at `path` answers the caller now (the trader's, for a caller with no valid token). */
  async freshEtag(path: string, caller: Caller): Promise<string | undefined> {
    const who = caller === 'broker' ? 'broker' : 'trader';
    const response = await fetch(this.server.baseUrl + path, { headers: { authorization: this.authorization(who)! } });
    await response.arrayBuffer();
    return response.headers.get('etag') ?? undefined;
  }

  /** Signs the user in again when the token was signed out (a fuzzed logout that worked). */
  async renewIfSignedOut(principal: Principal): Promise<void> {
    const claims = JSON.parse(Buffer.from(principal.token.split('.')[1]!, 'base64url').toString()) as {
      jti: string;
      userId: string;
      sessions?: number;
    };
    const { jti, userId, sessions = 0 } = claims;
    if (!(await this.server.system.signedOut.isSignedOut({ jti, userId, sessions }))) return;
    principal.token = await logIn(this.server.baseUrl, principal.email, principal.password);
  }

  /** The Authorization header of a caller (undefined: none). */
  authorization(caller: Caller): string | undefined {
    if (caller === 'trader' || caller === 'broker') return `Bearer ${this.principals[caller].token}`;
    if (caller === 'none') return undefined;
    return this.badTokens.get(caller);
  }

  /** Credentials that must be refused, made once: forged, tampered, signed out, malformed. */
  async makeBadTokens(signedOutToken: string): Promise<void> {
    const valid = this.principals.trader.token;
    const [header, payload] = valid.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const asBroker = Buffer.from(JSON.stringify({ ...claims, role: 'broker' })).toString('base64url');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    this.badTokens = new Map<Caller, string>([
      ['garbage', 'Bearer not-a-token'],
      ['other-scheme', `Basic ${Buffer.from('trader:secret').toString('base64')}`],
      ['tampered', `Bearer ${header}.${asBroker}.${valid.split('.')[2]}`],
      ['foreign-key', `Bearer ${foreign}`],
      ['alg-none', `Bearer ${none}.${payload}.`],
      ['signed-out', `Bearer ${signedOutToken}`],
      ['huge', `Bearer ${'A'.repeat(16_000)}`],
    ]);
  }

  /**
   * Waits until nothing more happens on its own: every projection and process manager has
   * handled the log's head, and their reactions (a deal's payment, accrual, completion) too.
   */
  async quiet(): Promise<void> {
    const { eventStore, gate } = this.server.system;
    for (let round = 0; round < 50; round++) {
      const head = await eventStore.headPosition();
      if (!head) return;
      await gate.waitFor(head, 10_000);
      const after = await eventStore.headPosition();
      if (after && formatPosition(after) === formatPosition(head)) return;
    }
    throw new Error('the server never came to rest: its process managers keep appending');
  }

  /** The types of the events appended after `from` (all of them for null). */
  async appendedSince(from: Position | null): Promise<string[]> {
    const events = await this.server.system.eventStore.readAll({ fromPosition: from ?? 'start', maxCount: 1000 });
    return events.filter((e) => !from || formatPosition(e.position) !== formatPosition(from)).map((e) => e.type);
  }

  /**
   * Once the server is at rest: the log's head and the read models of the user the caller
   * is (the trader's, for a caller without a valid token). The head covers everyone: read
   * models change only by events.
   */
  async state(caller: Caller): Promise<State> {
    await this.quiet();
    const head = await this.server.system.eventStore.headPosition();
    const principal = this.principals[caller === 'broker' ? 'broker' : 'trader'];
    return { head, readModels: JSON.stringify(await this.readModelsOf(principal.userId)) };
  }

  private async readModelsOf(userId: string): Promise<unknown[]> {
    const store = this.server.system.readStore;
    return Promise.all([
      getProfile(store, userId),
      getAccount(store, userId),
      listOperations(store, userId, PAGE),
      listPortfolio(store, userId, PAGE),
      listOrders(store, userId, 'purchase', 'pending', PAGE),
      listOrders(store, userId, 'sell', 'pending', PAGE),
      listCustomerOrders(store, userId, PAGE),
      listDeals(store, userId, PAGE),
      listNotifications(store, userId, PAGE, { unread: false }),
    ]);
  }
}
