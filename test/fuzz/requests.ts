/**
 * A plan made into the HTTP request it stands for, and what the document says of that
 * request: `conforms` (every parameter and the body as described, a real user's token
 * where one is needed), `violates` (something the document rules out), or `undescribed`
 * (a body sent to an operation that describes none: the document says nothing either way).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Json } from '../../infra/http/openapi/document.js';
import type { FuzzOperation, Parameter } from './operations.js';
import { keyOf, VALID_CALLERS, type Plan, type Value } from './plans.js';
import type { World } from './world.js';

export interface HttpRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What the server reads: each declared parameter as it arrives (undefined: not sent). */
  arrived: Map<string, string | null | undefined>;
  /** The body as it was sent, parsed (undefined: none or not JSON). */
  json: { text: string; contentType: string } | undefined;
}

export type Verdict = 'conforms' | 'violates' | 'undescribed';

export async function render(op: FuzzOperation, plan: Plan, world: World): Promise<HttpRequest> {
  const arrived = new Map<string, string | null | undefined>();
  const headers: Record<string, string> = {};
  const query: string[] = [];
  let path = op.template;
  for (const p of op.parameters) {
    const given = await textOf(plan.values[keyOf(p)] ?? { kind: 'absent' }, op, plan, world);
    const text = given === undefined ? undefined : wellFormed(given);
    if (p.in === 'path') {
      const raw = plan.values[keyOf(p)]?.kind === 'raw';
      path = path.replace(`{${p.name}}`, text === undefined ? '' : raw ? text : encodeURIComponent(text));
      arrived.set(keyOf(p), text === undefined ? undefined : raw ? decodedOrNull(text) : text);
    } else if (p.in === 'query') {
      if (text !== undefined) query.push(`${encodeURIComponent(p.name)}=${encodeURIComponent(text)}`);
      arrived.set(keyOf(p), text);
    } else if (text !== undefined) {
      headers[p.name] = headerSafe(text);
      arrived.set(keyOf(p), headers[p.name]!.replace(/^[\t ]+|[\t ]+$/g, ''));
    }
  }
  for (const [given, value] of plan.extraQuery) {
    const name = wellFormed(given);
    query.push(`${encodeURIComponent(name)}=${encodeURIComponent(wellFormed(value))}`);
    // A declared parameter sent here: its value, or (sent twice) not the one value it describes.
    const declared = op.parameters.find((p) => p.in === 'query' && p.name === name);
    if (declared) {
      const key = keyOf(declared);
      arrived.set(key, arrived.get(key) === undefined ? wellFormed(value) : null);
    }
  }
  const authorization = world.authorization(plan.caller);
  if (authorization !== undefined) headers.Authorization = authorization;
  const request: HttpRequest = { method: op.method.toUpperCase(), path, headers, arrived, json: undefined };
  if (query.length > 0) request.path += `?${query.join('&')}`;
  setBody(request, plan, world);
  return request;
}

async function textOf(value: Value, op: FuzzOperation, plan: Plan, world: World): Promise<string | undefined> {
  if (value.kind === 'absent') return undefined;
  if (value.kind === 'raw') return value.text;
  if (value.kind === 'fresh-etag') return world.freshEtag(op.etagSource!, plan.caller);
  const resolved = world.resolveAll(value.value, plan.caller);
  if (resolved === undefined) return undefined;
  return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
}

/** What a server makes of a path segment sent as it is: decoded, or null when it cannot be. */
function decodedOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * A header value as a client can send it: its UTF-8 bytes (read by the server as latin1),
 * without the characters HTTP forbids in a value (NUL, CR, LF).
 */
function headerSafe(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[^\t\x20-\x7e\x80-\xff]/g, ' ');
}

/** Lone surrogates (which no URL or UTF-8 text can carry) as U+FFFD, as a client's encoder would send them. */
function wellFormed(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

function setBody(request: HttpRequest, plan: Plan, world: World): void {
  const { body } = plan;
  // fetch sends no body with a GET, and neither would a client that follows HTTP's semantics.
  if (body.kind === 'absent' || request.method === 'GET') return;
  const text = body.kind === 'json' ? JSON.stringify(world.resolveAll(body.value, plan.caller)) : body.text;
  if (text === undefined) return;
  request.body = Buffer.from(text, 'utf8');
  if (body.contentType !== '') request.headers['Content-Type'] = body.contentType;
  request.json = { text, contentType: body.contentType };
}

/** Ajv over the document's schemas, compiled once per schema. */
export class Conformance {
  private readonly ajv = new Ajv2020({ allErrors: false, strict: false });
  private readonly compiled = new Map<Json, ValidateFunction>();

  constructor(private readonly resolve: (schema: Json) => Json) {
    addFormats.default(this.ajv);
  }

  valid(schema: Json, value: unknown): boolean {
    const own = this.resolve(schema);
    let validate = this.compiled.get(own);
    if (!validate) {
      validate = this.ajv.compile(own);
      this.compiled.set(own, validate);
    }
    return validate(value);
  }

  verdict(op: FuzzOperation, plan: Plan, request: HttpRequest): Verdict {
    if (op.secured && !VALID_CALLERS.includes(plan.caller)) return 'violates';
    for (const p of op.parameters) {
      if (aliasUnread(op, p, request)) continue;
      if (!this.parameterConforms(p, request.arrived.get(keyOf(p)))) return 'violates';
    }
    return this.bodyVerdict(op, request);
  }

  private parameterConforms(p: Parameter, text: string | null | undefined): boolean {
    if (text === null) return false;
    if (text === undefined || (p.in === 'path' && text === '')) return !p.required;
    return this.valid(p.schema, typed(this.resolve(p.schema), text));
  }

  private bodyVerdict(op: FuzzOperation, request: HttpRequest): Verdict {
    const sent = request.json;
    if (!op.body) return sent ? 'undescribed' : 'conforms';
    if (!sent) return op.body.required ? 'violates' : 'conforms';
    const mediaType = sent.contentType.split(';')[0]!.trim().toLowerCase();
    if (mediaType !== 'application/json') return 'violates';
    let value: unknown;
    try {
      value = JSON.parse(sent.text);
    } catch {
      return 'violates';
    }
    return this.valid(op.body.schema, value) ? 'conforms' : 'violates';
  }
}

/** `X-Request-Id` is read only when `Idempotency-Key` is not sent, as the document says. */
function aliasUnread(op: FuzzOperation, p: Parameter, request: HttpRequest): boolean {
  if (p.in !== 'header' || p.name.toLowerCase() !== 'x-request-id') return false;
  const key = op.parameters.find((q) => q.in === 'header' && q.name.toLowerCase() === 'idempotency-key');
  return key !== undefined && request.arrived.get(keyOf(key)) !== undefined;
}

/** A query or path value as the type its schema asks for (a number only when it is written as one). */
function typed(schema: Json, text: string): unknown {
  if (schema.type === 'integer') return /^-?\d+$/.test(text) ? Number(text) : text;
  if (schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  return text;
}
