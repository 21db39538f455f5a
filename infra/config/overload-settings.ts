/**
 * The settings that shed load (docs/ARCHITECTURE.md, "Overload protection"): rate limits,
 * the bound on password hashes at once, the HTTP server's timeouts and connection cap, the
 * cap on a stream's command queue and on read-your-writes waits. Part of `settings`
 * (config.ts); each default is meant for production, and the test servers raise the rate
 * limits explicitly (test/support).
 */
import { ConfigError, integer } from './settings.js';

const perMinute = (what: string) =>
  `${what} per minute, in bursts of as many (token bucket; 0: no limit). Past it: 429 with \`Retry-After\`.`;

export const overloadSettings = {
  rateLimitSignInPerAddress: integer(
    'RATE_LIMIT_SIGN_IN_PER_ADDRESS',
    30,
    0,
    1_000_000,
    perMinute('Registrations and sign-ins (every public `POST`) from one client address'),
  ),
  rateLimitSignInPerAccount: integer(
    'RATE_LIMIT_SIGN_IN_PER_ACCOUNT',
    10,
    0,
    1_000_000,
    perMinute("Registrations and sign-ins naming one email (the body's `email`), from any address"),
  ),
  rateLimitCommandsPerAddress: integer(
    'RATE_LIMIT_COMMANDS_PER_ADDRESS',
    1200,
    0,
    1_000_000,
    perMinute('Commands (every `POST` and `PUT` behind a token) from one client address'),
  ),
  rateLimitCommandsPerAccount: integer(
    'RATE_LIMIT_COMMANDS_PER_ACCOUNT',
    600,
    0,
    1_000_000,
    perMinute("Commands of one signed-in user (the token's subject), from any address"),
  ),
  trustProxy: integer(
    'TRUST_PROXY',
    0,
    0,
    10,
    "How many reverse proxies in front of the API append to `X-Forwarded-For`. 0: the client address is the connection's peer and `X-Forwarded-For` is ignored; N: the Nth address from the right of `X-Forwarded-For` (what the outermost trusted proxy saw). Set it only behind proxies that append to the header, or clients can pick their own address.",
  ),
  passwordHashConcurrency: integer(
    'PASSWORD_HASH_CONCURRENCY',
    4,
    1,
    256,
    "Password hashes (scrypt: registration, sign-in) computed at once; more wait in line. Node's thread pool has 4 threads unless `UV_THREADPOOL_SIZE` says otherwise.",
  ),
  passwordHashQueue: integer(
    'PASSWORD_HASH_QUEUE',
    32,
    0,
    100_000,
    'Password hashes that may wait for one of those; past it a registration or sign-in is answered 503 with `Retry-After` at once.',
  ),
  commandQueuePerStream: integer(
    'COMMAND_QUEUE_PER_STREAM',
    1000,
    1,
    1_000_000,
    "Commands from requests that may wait for one stream (an account, an order) in this process; past it: 503 with `Retry-After`. The process managers' commands are never refused.",
  ),
  readYourWritesMaxWaits: integer(
    'READ_YOUR_WRITES_MAX_WAITS',
    1000,
    1,
    1_000_000,
    'Queries given an `X-Event-Position` that may wait for the read models at once in this process; past it: 503 with `Retry-After`.',
  ),
  httpHeadersTimeoutMs: integer(
    'HTTP_HEADERS_TIMEOUT_MS',
    10_000,
    1_000,
    600_000,
    "How long a client may take to send a request's headers before the connection is closed (node's `headersTimeout`; at most `HTTP_REQUEST_TIMEOUT_MS`).",
  ),
  httpRequestTimeoutMs: integer(
    'HTTP_REQUEST_TIMEOUT_MS',
    30_000,
    1_000,
    3_600_000,
    "How long a client may take to send a whole request (node's `requestTimeout`); then 408 and the connection is closed.",
  ),
  httpKeepAliveTimeoutMs: integer(
    'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    5_000,
    0,
    600_000,
    "How long an idle keep-alive connection stays open (node's `keepAliveTimeout`); keep it above a load balancer's idle timeout in front.",
  ),
  httpMaxConnections: integer(
    'HTTP_MAX_CONNECTIONS',
    2_000,
    0,
    1_000_000,
    'Open connections the server accepts at once; further ones are closed as they arrive (0: no cap).',
  ),
};

/** Rules between overload settings that one setting alone cannot check. */
export function checkOverloadSettings(parsed: { httpHeadersTimeoutMs: number; httpRequestTimeoutMs: number }): void {
  if (parsed.httpHeadersTimeoutMs > parsed.httpRequestTimeoutMs)
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS must not be more than HTTP_REQUEST_TIMEOUT_MS');
}
