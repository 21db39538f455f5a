/**
 * A small HTTP client for the API tests over a real listening server, plus the domain
 * steps most tests need (register, log in, deposit, read the account…).
 *
 * Every answer is checked on the way: a 5xx other than the 503 of read-your-writes is a
 * bug, every error must be JSON `{ code: <status>, message: <string> }`, and every answer
 * must be what the OpenAPI document says (status, body, headers). Problems are collected
 * and reported by `itHttp`, which fails the test that caused them.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Context } from 'mocha';
import { apiDescription } from '../../infra/http/openapi/document.js';
import { startApiServer, testReadStore, type ApiServer } from '../support/api-server.js';
import { ResponseValidator } from '../support/openapi-validator.js';

/**
 * A JSON body as the server sent it, read field by field in the tests. The contract suites
 * check every answer's shape against the OpenAPI document, so it is not typed again here.
 */
// biome-ignore lint/suspicious/noExplicitAny: a JSON body as the server sent it; the contract suites check its shape.
export type JsonBody = any;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: JsonBody;
  /** For messages: method, path and status. */
  describe: string;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as it is (with `contentType` when given). */
  raw?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

const problems: string[] = [];
/** Built from the document the server serves (imported, not fetched), compiled once per schema. */
let openApi: ResponseValidator | undefined;

/** The problems seen since the last call (and forgets them). */
export function takeProblems(): string[] {
  return problems.splice(0, problems.length);
}

function checkAnswer(answer: Answer, method: string, path: string): void {
  const { status } = answer;
  openApi ??= new ResponseValidator(apiDescription());
  problems.push(...openApi.check({ method, path, status, headers: answer.headers, text: answer.text }));
  if (status >= 500 && status !== 503) problems.push(`${answer.describe}: server error, body ${answer.text}`);
  if (status >= 400) {
    const body = answer.body as { code?: unknown; message?: unknown } | undefined;
    if (!body || typeof body !== 'object' || body.code !== status || typeof body.message !== 'string') {
      problems.push(
        `${answer.describe}: error body is not { code: ${status}, message: string }: ${answer.text.slice(0, 300)}`,
      );
    }
    if (!(answer.headers.get('content-type') ?? '').includes('application/json')) {
      problems.push(`${answer.describe}: error content-type is ${answer.headers.get('content-type')}`);
    }
  }
}

/**
 * `it`, failing the test also when any answer it received was a 500, an error without
 * the `{ code, message }` JSON shape, or not as the OpenAPI document describes it.
 */
export function itHttp(title: string, fn: (this: Context) => Promise<void>): Mocha.Test {
  return it(title, async function (this: Context) {
    takeProblems();
    try {
      await fn.call(this);
    } catch (error) {
      const seen = takeProblems();
      if (seen.length > 0 && error instanceof Error)
        error.message += `\n  also, answers that break the contract:\n  - ${seen.join('\n  - ')}`;
      throw error;
    }
    const seen = takeProblems();
    expect(seen, `answers that break the contract (5xx, error body shape, or the OpenAPI document)`).to.deep.equal([]);
  });
}

export class Client {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = options.contentType ?? 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
      if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const answer: Answer = {
      status: response.status,
      headers: response.headers,
      text,
      body: parsed,
      describe: `${method} ${path} → ${response.status}`,
    };
    checkAnswer(answer, method, path);
    return answer;
  }

  get(path: string, options?: RequestOptions) {
    return this.request('GET', path, options);
  }
  post(path: string, options?: RequestOptions) {
    return this.request('POST', path, options);
  }
  put(path: string, options?: RequestOptions) {
    return this.request('PUT', path, options);
  }
  delete(path: string, options?: RequestOptions) {
    return this.request('DELETE', path, options);
  }

  // ---- identity ------------------------------------------------------------------------

  register(fields: Record<string, unknown>) {
    return this.post('/api/v1/identity/register', { json: fields });
  }

  login(email: string, password: string) {
    return this.post('/api/v1/identity/login', { json: { email, password } });
  }

  /** Registers a fresh trader and logs in. */
  async newTrader(overrides: Record<string, unknown> = {}): Promise<Trader> {
    const email = uniqueEmail();
    const password = 'secret-password';
    const registered = await this.register({ email, password, firstName: 'Test', lastName: 'Trader', ...overrides });
    expect(registered.status, registered.text).to.equal(201);
    const loggedIn = await this.login(String(registered.body.email), String(overrides.password ?? password));
    expect(loggedIn.status, loggedIn.text).to.equal(200);
    return {
      id: registered.body.id as string,
      email: registered.body.email as string,
      password,
      token: loggedIn.body.accessToken as string,
      position: positionOf(registered),
    };
  }

  /** GET /identity/profile after `position`, expected 200. */
  async profile(token: string, position?: string): Promise<JsonBody> {
    const answer = await this.get('/api/v1/identity/profile', {
      token,
      headers: position ? { 'x-event-position': position } : {},
    });
    expect(answer.status, answer.text).to.equal(200);
    return answer.body;
  }

  // ---- billing -------------------------------------------------------------------------

  /** GET /billing/account, after the read models caught up with `position` when given. */
  account(token: string, position?: string) {
    return this.get('/api/v1/billing/account', { token, headers: position ? { 'x-event-position': position } : {} });
  }

  /** GET /billing/operations; given a position, the answer is expected to be 200 with an array. */
  async operations(token: string, position?: string, query = ''): Promise<Answer> {
    const answer = await this.get(`/api/v1/billing/operations${query}`, {
      token,
      headers: position ? { 'x-event-position': position } : {},
    });
    if (position) {
      expect(answer.status, answer.text).to.equal(200);
      expect(answer.body).to.be.an('array');
    }
    return answer;
  }

  move(kind: 'deposit' | 'withdraw', token: string, body: unknown, headers: Record<string, string> = {}) {
    return this.post(`/api/v1/billing/account/${kind}`, { token, json: body, headers });
  }

  deposit(token: string, amount: unknown, headers: Record<string, string> = { 'idempotency-key': randomUUID() }) {
    return this.move('deposit', token, { amount }, headers);
  }

  withdraw(token: string, amount: unknown, headers: Record<string, string> = { 'idempotency-key': randomUUID() }) {
    return this.move('withdraw', token, { amount }, headers);
  }

  /** Deposits (with a fresh idempotency key) and expects 204; returns the answer's position. */
  async funded(token: string, amount: number): Promise<string> {
    const answer = await this.deposit(token, amount);
    expect(answer.status, answer.text).to.equal(204);
    return positionOf(answer);
  }

  /** The account after `position`, expected 200. */
  async balance(token: string, position?: string): Promise<{ amount: number; etag: string; body: JsonBody }> {
    const answer = await this.account(token, position);
    expect(answer.status, answer.text).to.equal(200);
    return { amount: answer.body.amount as number, etag: answer.headers.get('etag') ?? '', body: answer.body };
  }

  /** Every operation of the caller, following the `Link` pages. */
  async allOperations(token: string, position: string | undefined, limit: number): Promise<JsonBody[]> {
    const all: JsonBody[] = [];
    let next: string | null = `/api/v1/billing/operations?limit=${limit}`;
    let first = true;
    for (let pages = 0; next; pages++) {
      expect(pages, 'pages followed').to.be.lessThan(1000);
      const answer: Answer = await this.get(next, {
        token,
        headers: first && position ? { 'x-event-position': position } : {},
      });
      first = false;
      expect(answer.status, answer.text).to.equal(200);
      expect(answer.body).to.be.an('array');
      expect(answer.body.length).to.be.at.most(limit);
      all.push(...(answer.body as JsonBody[]));
      next = nextLink(answer);
    }
    return all;
  }
}

export interface Trader {
  id: string;
  email: string;
  password: string;
  token: string;
  /** Position of the registration. */
  position: string;
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${randomUUID().slice(0, 8)}-${counter}@market.test`;
}

export function positionOf(answer: Answer): string {
  const position = answer.headers.get('x-event-position');
  expect(position, `${answer.describe} carries X-Event-Position`)
    .to.be.a('string')
    .and.match(/^\d+(-\d+)?$/);
  return position!;
}

/** The path of the `Link: <…>; rel="next"` header, or null. */
export function nextLink(answer: Answer): string | null {
  const link = answer.headers.get('link');
  if (!link) return null;
  const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link);
  expect(match, `Link header ${link}`).to.not.equal(null);
  return match![1]!;
}

/** Expects an error answer with this status and exact message (or a message matching the RegExp). */
export function expectError(answer: Answer, status: number, message?: string | RegExp): void {
  expect(answer.status, `${answer.describe}: ${answer.text}`).to.equal(status);
  expect(answer.body, answer.text).to.be.an('object');
  expect(answer.body.code).to.equal(status);
  expect(answer.body.message).to.be.a('string');
  if (typeof message === 'string') expect(answer.body.message).to.equal(message);
  else if (message) expect(answer.body.message).to.match(message);
}

/** Expects a 422 whose message names `field` (with `detail` when given). */
export function expectViolation(answer: Answer, field: string, detail?: string): void {
  expectError(answer, 422);
  const message = answer.body.message as string;
  const prefix = `violation at '${field}': `;
  expect(message, `${answer.describe} names the field ${field}`).to.include(prefix);
  if (detail) expect(message).to.include(prefix + detail);
}

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The event stores the HTTP suites run on. On the MongoDB read store (TEST_READ_STORE=mongo)
 * only the embedded one: what is tested there is the read store, which works the same
 * whichever event store feeds it (both run on the embedded read store in npm test).
 */
export const eventStores: ReadonlyArray<'embedded' | 'esdb'> =
  testReadStore === 'mongo' ? ['embedded'] : ['embedded', 'esdb'];

/**
 * The shared servers wait at most 1 s for read models (the default is 5 s): a read that has
 * not caught up by then is a failure either way, and a short bound keeps a failing run fast.
 */
export const SHARED_SERVER_ENV = { READ_YOUR_WRITES_TIMEOUT_MS: '1000' };

/**
 * A real server for the enclosing describe block: started before its tests (or before
 * each, with `each`), handed to `ready` with a client for it, and closed afterwards.
 */
export function withApiServer(
  eventStore: (typeof eventStores)[number],
  ready: (server: ApiServer, api: Client) => void,
  options: {
    each?: boolean;
    env?: Record<string, string> /** the tests build on each other: one server for all */;
    shared?: boolean;
  } = {},
): void {
  let server: ApiServer | undefined;
  // On FerretDB, a filter other than a lone _id scans the whole collection: a server (and
  // database) per test keeps collections small, as a suite's shared server would not.
  const each = options.each || (testReadStore === 'mongo' && !options.shared);
  (each ? beforeEach : before)(async () => {
    server = await startApiServer({ eventStore, env: options.env ?? SHARED_SERVER_ENV });
    ready(server, new Client(server.baseUrl));
  });
  (each ? afterEach : after)(async () => {
    await server?.close();
  });
}
