/**
 * What every endpoint of a kind has in common, derived from where it is mounted and what
 * it does: its parameters (request headers, list and read-your-writes queries), its
 * response headers and the refusals the middleware in front of it can answer with.
 */
import * as z from 'zod';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../eventsourcing/read-store/read-store.js';
import { httpMessages } from '../messages.js';
import { POSITION_HEADER } from '../read-your-writes.js';
import { quoted, type ErrorStatus, type Operation, type ResponseHeader } from './operation.js';

type Json = Record<string, unknown>;

// Empty is none (a client that has written nothing yet may send its position variable empty).
const positionPattern = '^(\\d{1,20}(-\\d{1,20})?)?$';
const visible = (max: number) => `^[\\x21-\\x7e]{1,${max}}$`;

/** `components.parameters`: the request headers and queries endpoints share. */
export const parameters: Record<string, Json> = {
  CorrelationId: {
    name: 'X-Correlation-Id',
    in: 'header',
    description:
      'Names the request in logs and in the events it causes (their correlation id); echoed back. 1–128 visible ASCII characters, else one is made up.',
    schema: { type: 'string' },
  },
  EventPosition: {
    name: POSITION_HEADER,
    in: 'header',
    description: `Read your own writes: the \`${POSITION_HEADER}\` a command answered with. The query answers once its read models have caught up with it (bounded wait, then 503 with \`Retry-After\`). Empty: none; not a position: 400.`,
    schema: { type: 'string', pattern: positionPattern },
  },
  MinPosition: {
    name: 'minPosition',
    in: 'query',
    description: `The same as the \`${POSITION_HEADER}\` request header, as a query parameter. Given both, the query waits for the later one; either one not a position: 400.`,
    schema: { type: 'string', pattern: positionPattern },
  },
  Limit: {
    name: 'limit',
    in: 'query',
    description: `Most items on the page (default ${DEFAULT_LIMIT}).`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
  Cursor: {
    name: 'cursor',
    in: 'query',
    description: 'Where the page starts: the opaque value of the previous page\'s `Link: <…>; rel="next"`.',
    schema: { type: 'string', maxLength: 2048 },
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    description:
      'Runs the request once: a later request of the same user with the same key and body gets the first outcome again (status, body, `ETag`, `X-Event-Position`) and changes nothing; with another body, 422. An answer that is not an outcome (404, 409, 412, 428, 429, 5xx) is not kept: the key runs again. A retry after a lost answer, with the `If-Match` it was first sent with, gets the original outcome. With a key, `If-Match` is optional. Sent empty, or not 1–255 visible ASCII characters: 400.',
    schema: { type: 'string', pattern: visible(255) },
  },
  RequestId: {
    name: 'X-Request-Id',
    in: 'header',
    description: 'An alias of `Idempotency-Key` (used when that header is not sent at all).',
    schema: { type: 'string', pattern: visible(255) },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    description:
      'The `ETag` of the resource this request changes, as the GET of it answered. Without it (and without an `Idempotency-Key`): 428. No longer current: 412, so the same request sent twice succeeds once.',
    schema: { type: 'string', examples: ['"3"'] },
  },
};

/** `components.headers`: the response headers; `required` ones are always sent. */
export const headers: Record<string, Json> = {
  CorrelationId: {
    description: "The request's id (the caller's `X-Correlation-Id` when valid).",
    required: true,
    schema: { type: 'string', pattern: visible(128) },
  },
  ETag: {
    description:
      'The version of the resource (the revision of the event stream behind it, `"-1"` before the first event); send it back as `If-Match`.',
    required: true,
    schema: { type: 'string', pattern: '^"(-1|0|[1-9][0-9]*)"$' },
  },
  EventPosition: {
    description: `Where this command's last event is in the event store: give it to a query (header \`${POSITION_HEADER}\` or \`?minPosition=\`) to read your own write. Sent whenever the command appended events.`,
    schema: { type: 'string', pattern: positionPattern },
  },
  Link: {
    description: 'The next page, when there is one: `<path?limit=…&cursor=…>; rel="next"`.',
    schema: { type: 'string', pattern: '^<[^>]+>; rel="next"$' },
  },
  CacheControl: { description: 'How long the answer may be cached.', required: true, schema: { type: 'string' } },
  ContentSecurityPolicy: {
    description: 'Everything the page loads comes from this server.',
    required: true,
    schema: { type: 'string' },
  },
  RetryAfter: {
    description: 'Seconds to wait before retrying.',
    required: true,
    schema: { type: 'string', pattern: '^\\d+$' },
  },
  RetryAfterWhenBusy: {
    description: 'Seconds to wait before retrying, when the stream was too busy to take the command.',
    schema: { type: 'string', pattern: '^\\d+$' },
  },
  WWWAuthenticate: {
    description: 'The authentication scheme: `Bearer`.',
    required: true,
    schema: { type: 'string', const: 'Bearer' },
  },
  IdempotentReplayed: {
    description: '`true` when this is the recorded answer of an earlier request with the same `Idempotency-Key`.',
    schema: { type: 'string', const: 'true' },
  },
};

const headerNames: Record<ResponseHeader, string> = {
  ETag: 'ETag',
  'X-Event-Position': 'EventPosition',
  Link: 'Link',
  'Cache-Control': 'CacheControl',
  'Content-Security-Policy': 'ContentSecurityPolicy',
};

const ref = (section: 'parameters' | 'headers', name: string) => ({ $ref: `#/components/${section}/${name}` });

const isApi = (op: Operation) => op.audience !== 'service';
/** Idempotency keys apply to the POSTs behind a token (server.ts). */
const takesKeys = (op: Operation) => op.audience === 'signed-in' && op.method === 'post';
/** Rate limits apply to the public POSTs (registration, sign-in) and to every command behind a token (server.ts). */
const signsIn = (op: Operation) => op.audience === 'public' && op.method === 'post';
const isCommand = (op: Operation) => op.audience === 'signed-in' && op.method !== 'get';
const rateLimited = (op: Operation) => signsIn(op) || isCommand(op);

export function parametersOf(op: Operation): Json[] {
  const list: Json[] = [
    ...parametersIn('path', op.pathParameters),
    ...parametersIn('query', op.queryParameters),
    ...parametersIn('header', op.headerParameters),
  ];
  if (isApi(op) && op.method === 'get') list.push(ref('parameters', 'EventPosition'), ref('parameters', 'MinPosition'));
  if (op.list) list.push(ref('parameters', 'Limit'), ref('parameters', 'Cursor'));
  if (op.precondition) list.push(ref('parameters', 'IfMatch'));
  if (takesKeys(op)) list.push(ref('parameters', 'IdempotencyKey'), ref('parameters', 'RequestId'));
  list.push(ref('parameters', 'CorrelationId'));
  return list;
}

/** The fields of a schema as parameters of one place: the path's are required, the others when not optional. */
function parametersIn(place: 'path' | 'query' | 'header', fields: z.ZodObject | undefined): Json[] {
  return Object.entries(fields?.shape ?? {}).map(([name, field]) => {
    const zodField = field as z.ZodType;
    const { $schema: _dialect, description, ...schema } = z.toJSONSchema(zodField, { io: 'input' }) as Json;
    const required = place === 'path' || !zodField.safeParse(undefined).success;
    return { name, in: place, required, description, schema };
  });
}

/** Response headers of an answer (`answerHeaders` named by the operation) or of a refusal with `status`. */
export function responseHeadersOf(
  op: Operation,
  answerHeaders: ResponseHeader[],
  status: number,
): Record<string, Json> {
  const found: Record<string, Json> = { 'X-Correlation-Id': ref('headers', 'CorrelationId') };
  for (const name of answerHeaders) found[name] = ref('headers', headerNames[name]);
  // Only the bearer-token check names the scheme; a wrong password at login is a plain 401.
  if (status === 401 && op.audience === 'signed-in') found['WWW-Authenticate'] = ref('headers', 'WWWAuthenticate');
  if (status === 503 || status === 429) found['Retry-After'] = ref('headers', 'RetryAfter');
  if (status === 409) found['Retry-After'] = ref('headers', 'RetryAfterWhenBusy');
  if (takesKeys(op)) found['Idempotent-Replayed'] = ref('headers', 'IdempotentReplayed');
  return found;
}

/** Every refusal the endpoint can answer with, by status, each with why (exact texts quoted). */
export function refusalsOf(op: Operation): Map<ErrorStatus, string[]> {
  const refusals = new Map<ErrorStatus, string[]>();
  const add = (status: ErrorStatus, why: string) => refusals.set(status, [...(refusals.get(status) ?? []), why]);
  const api = isApi(op);
  const hasBody = api && (op.method === 'post' || op.method === 'put' || op.requestBody !== undefined);
  if (hasBody) add(400, `${quoted(httpMessages.malformedJson)}: the body is not JSON`);
  if (api && op.method === 'get') {
    add(400, `${quoted(httpMessages.invalidPosition)}: \`${POSITION_HEADER}\` or \`minPosition\` names no position`);
    add(400, `${quoted(httpMessages.positionAhead)}: no command answered with that position`);
  }
  if (op.list) add(400, `${quoted(httpMessages.invalidCursor)}: the cursor is not one this list gave`);
  if (takesKeys(op)) add(400, `${quoted(httpMessages.idempotencyKeyInvalid)}`);
  if (op.audience === 'signed-in') {
    add(
      401,
      `${quoted(httpMessages.unauthorized)}: no bearer token, or a forged or expired one (the reason follows in parentheses)`,
    );
    add(
      401,
      `${quoted(httpMessages.tokenRevoked)}: the token was signed out, or its user's sessions were ended since it was issued (a password change, a sign-out everywhere, a deleted account)`,
    );
    add(401, `${quoted(httpMessages.userBlocked)}: an administrator blocked the token's user`);
  }
  if (op.brokerOnly) add(403, `${quoted(httpMessages.operationDenied)}: only the broker may do this`);
  if (op.adminOnly) add(403, `${quoted(httpMessages.operationDenied)}: only an administrator may do this`);
  if (op.command) add(409, `${quoted(httpMessages.conflict)}: other requests kept changing the same state`);
  if (op.precondition) add(412, `${quoted(httpMessages.stateChanged)}: \`If-Match\` is no longer the current \`ETag\``);
  if (hasBody) add(413, `${quoted(httpMessages.bodyTooLarge)}`);
  if (hasBody) add(415, `${quoted(httpMessages.notJson)}: a body whose \`Content-Type\` is not JSON`);
  if (op.requestBody)
    add(422, "`violation at '<field>': <rule>` for each invalid field, one a line (also listed in `violations`)");
  if (api && op.pathParameters)
    add(
      422,
      "`violation at '<parameter>': <rule>`: a path parameter no id of this API can be (too long, or a character ids never have)",
    );
  if (op.list) add(422, `${quoted(httpMessages.invalidLimit)}`);
  if (op.queryParameters)
    add(422, "`violation at '<parameter>': <rule>` for each query parameter out of its range or form");
  if (takesKeys(op)) {
    add(422, `${quoted(httpMessages.idempotencyKeyReused)}`);
    add(422, `${quoted(httpMessages.nestedTooDeeply)}`);
  }
  if (op.precondition) add(428, `${quoted(httpMessages.missingIfMatch)}: neither \`If-Match\` nor \`Idempotency-Key\``);
  for (const [status, reasons] of Object.entries(op.refusals ?? {}))
    for (const why of reasons) add(Number(status) as ErrorStatus, why);
  refusalsOfLoadAndFaults(op, add);
  return new Map([...refusals].sort(([a], [b]) => a - b));
}

/** What any request may meet whatever its input: limits (429, 431, 503) and faults (500, 503). */
function refusalsOfLoadAndFaults(op: Operation, add: (status: ErrorStatus, why: string) => void): void {
  const api = isApi(op);
  if (rateLimited(op))
    add(
      429,
      `${quoted(httpMessages.tooManyRequests)}: too many ${signsIn(op) ? 'registrations and sign-ins' : 'commands'} from this address or for this account (README, "Overload protection")`,
    );
  add(431, `${quoted(httpMessages.headersTooLarge)}: the request's headers (a token, a cookie) are too large to read`);
  add(500, `${quoted(httpMessages.internal)}: a bug (logged)`);
  if (api && op.method === 'get') {
    add(503, `${quoted(httpMessages.notCaughtUp)}: the read models did not reach the given position in time`);
    add(503, `${quoted(httpMessages.tooManyWaits)}: too many queries are waiting for a position at once`);
  }
  if (signsIn(op)) add(503, `${quoted(httpMessages.hashingBusy)}: too many passwords are being hashed at once`);
  if (isCommand(op) || op.command)
    add(503, `${quoted(httpMessages.streamBusy)}: too many commands are queued for the same stream`);
  if (api) add(503, `${quoted(httpMessages.storeUnavailable)}: a store did not answer`);
}
