/**
 * What one fuzzed request is made of, before it is sent: who calls, each parameter and the
 * body. A `conforming` plan follows the document (a real user's token where one is needed,
 * an `If-Match` fresh from the GET that hands it out, bodies and parameters from their
 * schemas, often with values the server handed out before); a `violating` plan is one of
 * those with one to three things broken: the token, a parameter, the body or how it is sent.
 */
import fc from 'fast-check';
import type { Json } from '../../infra/http/openapi/document.js';
import type { FuzzOperation, Parameter } from './operations.js';
import { anyJson, conforming, conformingBody, hostileString, Pick, violating, type Resolve } from './schema-values.js';

/** Who calls: a real user's token, or a credential that must not get in. */
export type Caller =
  | 'trader'
  | 'broker'
  | 'none'
  | 'garbage'
  | 'other-scheme'
  | 'tampered'
  | 'foreign-key'
  | 'alg-none'
  | 'signed-out'
  | 'huge';

export const VALID_CALLERS: readonly Caller[] = ['trader', 'broker'];

export type Value =
  | { kind: 'absent' }
  | { kind: 'value'; value: unknown }
  /** Put into the path as it is, not percent-encoded: broken escapes, dot segments. */
  | { kind: 'raw'; text: string }
  /** The ETag the operation's GET answers just before the request. */
  | { kind: 'fresh-etag' };

export type Body =
  | { kind: 'absent' }
  | { kind: 'json'; value: unknown; contentType: string }
  | { kind: 'raw'; text: string; contentType: string };

export interface Plan {
  mode: 'conforming' | 'violating';
  caller: Caller;
  /** By `<in>:<name>`. */
  values: Record<string, Value>;
  body: Body;
  /** Query parameters the document does not declare, or a declared one given twice. */
  extraQuery: [string, string][];
  /** What was broken, for the report of a failure. */
  broken: string[];
}

export const keyOf = (p: Parameter) => `${p.in}:${p.name}`;

const isHeader = (p: Parameter, name: string) => p.in === 'header' && p.name.toLowerCase() === name;

/** A plan that follows the document. */
export function conformingPlan(op: FuzzOperation, resolve: Resolve): fc.Arbitrary<Plan> {
  const caller = op.secured ? fc.constantFrom<Caller>(...VALID_CALLERS) : fc.constantFrom<Caller>('none', 'trader');
  const values: Record<string, fc.Arbitrary<Value>> = {};
  for (const p of op.parameters) values[keyOf(p)] = conformingParameter(op, p, resolve);
  const body: fc.Arbitrary<Body> = op.body
    ? fc.oneof(
        ...[
          conformingBody(op.body.schema, resolve).map(
            (value): Body => ({ kind: 'json', value, contentType: JSON_TYPE }),
          ),
          ...(op.body.required ? [] : [fc.constant<Body>({ kind: 'absent' })]),
        ],
      )
    : fc.constant<Body>({ kind: 'absent' });
  return fc
    .record({ caller, values: fc.record(values), body, preconditions: preconditionsOf(op) })
    .map(({ caller, values, body, preconditions }) => ({
      mode: 'conforming' as const,
      caller,
      values: { ...values, ...preconditions },
      body,
      extraQuery: [],
      broken: [],
    }));
}

const JSON_TYPE = 'application/json';
const ABSENT: Value = { kind: 'absent' };

function conformingParameter(op: FuzzOperation, p: Parameter, resolve: Resolve): fc.Arbitrary<Value> {
  const own = conforming(p.schema, resolve, pickField(op, p)).map((value): Value => ({ kind: 'value', value }));
  if (p.in === 'path') {
    // Mostly an id the server listed at the operation's collection: a random one names nothing.
    const listed = fc
      .tuple(fc.nat(), conforming(p.schema, resolve))
      .map(([i, fallback]): Value => ({ kind: 'value', value: new Pick(pickField(op, p), i, fallback) }));
    return fc.oneof({ arbitrary: listed, weight: 3 }, { arbitrary: own, weight: 1 });
  }
  if (p.required) return own;
  // Read-your-writes: mostly none, else a position the server answered with, rarely any.
  if (isHeader(p, 'x-event-position') || p.name === 'minPosition')
    return fc.oneof(
      { arbitrary: fc.constant(ABSENT), weight: 4 },
      {
        arbitrary: fc.nat().map((i): Value => ({ kind: 'value', value: new Pick('position', i, undefined) })),
        weight: 2,
      },
      { arbitrary: own, weight: 1 },
    );
  return fc.oneof({ arbitrary: fc.constant(ABSENT), weight: 2 }, { arbitrary: own, weight: 1 });
}

/** Where earlier values of a parameter come from: ids listed at the operation's collection, else the name. */
function pickField(op: FuzzOperation, p: Parameter): string {
  return p.in === 'path' ? `id:${op.collection}` : `${p.in}:${p.name}`;
}

/**
 * `If-Match` and `Idempotency-Key` together: at least one of them, as the document asks
 * of a conditional command (else 428). Without `If-Match`, a key alone, or none.
 */
function preconditionsOf(op: FuzzOperation): fc.Arbitrary<Record<string, Value>> {
  const ifMatch = op.parameters.find((p) => isHeader(p, 'if-match'));
  const key = op.parameters.find((p) => isHeader(p, 'idempotency-key'));
  const alias = op.parameters.find((p) => isHeader(p, 'x-request-id'));
  const keyValue = fc.uuid().map((value): Value => ({ kind: 'value', value }));
  const fresh: Value = { kind: 'fresh-etag' };
  const pairs: fc.Arbitrary<[Value, Value]>[] = ifMatch
    ? [fc.constant<[Value, Value]>([fresh, ABSENT]), keyValue.map((k): [Value, Value] => [fresh, k])]
    : [fc.constant<[Value, Value]>([ABSENT, ABSENT])];
  if (key) pairs.push(keyValue.map((k): [Value, Value] => [ABSENT, k]));
  return fc.tuple(fc.oneof(...pairs), fc.boolean()).map(([[match, k], viaAlias]) => {
    const chosen: Record<string, Value> = {};
    if (ifMatch) chosen[keyOf(ifMatch)] = match;
    if (key) chosen[keyOf(key)] = viaAlias && alias ? ABSENT : k;
    if (alias) chosen[keyOf(alias)] = viaAlias ? k : ABSENT;
    return chosen;
  });
}

/** A conforming plan with one to three things broken. */
export function violatingPlan(op: FuzzOperation, resolve: Resolve): fc.Arbitrary<Plan> {
  const breakers = breakersOf(op, resolve);
  return fc
    .tuple(conformingPlan(op, resolve), fc.array(fc.oneof(...breakers), { minLength: 1, maxLength: 3 }))
    .map(([plan, breaks]) => {
      const broken: Plan = {
        ...plan,
        mode: 'violating',
        values: { ...plan.values },
        extraQuery: [],
        broken: [],
      };
      for (const apply of breaks) apply(broken);
      return broken;
    });
}

type Breaker = fc.Arbitrary<(plan: Plan) => void>;

function breakersOf(op: FuzzOperation, resolve: Resolve): Breaker[] {
  const breakers: Breaker[] = [badCaller(op), extraQuery(op)];
  for (const p of op.parameters) breakers.push(badParameter(p, resolve));
  breakers.push(badBody(op, resolve));
  return breakers;
}

function badCaller(op: FuzzOperation): Breaker {
  const callers: Caller[] = ['none', 'garbage', 'other-scheme', 'tampered', 'foreign-key', 'alg-none', 'signed-out'];
  return fc.constantFrom<Caller>(...callers, 'huge').map((caller) => (plan: Plan) => {
    plan.caller = caller;
    plan.broken.push(`caller ${caller}${op.secured ? '' : ' (on a public operation)'}`);
  });
}

function badParameter(p: Parameter, resolve: Resolve): Breaker {
  const key = keyOf(p);
  const wrong: fc.Arbitrary<Value>[] = [
    violating(p.schema, resolve).map((value): Value => ({ kind: 'value', value })),
    hostileString.map((value): Value => ({ kind: 'value', value })),
  ];
  if (isHeader(p, 'if-match'))
    wrong.push(
      fc
        .constantFrom('*', 'W/"0"', '"-2"', '"99999999999999999999"', '"1", "2"', '0', '""', '"\u00e9"')
        .map((value): Value => ({ kind: 'value', value })),
    );
  if (!p.required || p.in === 'path') wrong.push(fc.constant(ABSENT));
  if (p.in === 'path')
    wrong.push(
      fc
        .constantFrom('%', '%E0%A4%A', '%zz', '..', '.', '%2F', '%2e%2e', 'a%00b', '%C0%AF', '%F0%9F%98', ';x', 'a?b=c')
        .map((text): Value => ({ kind: 'raw', text })),
    );
  return fc.oneof(...wrong).map((value) => (plan: Plan) => {
    plan.values[key] = value;
    const shown =
      value.kind === 'value' ? JSON.stringify(value.value)?.slice(0, 80) : value.kind === 'raw' ? value.text : 'absent';
    plan.broken.push(`${key} ${shown}`);
  });
}

function extraQuery(op: FuzzOperation): Breaker {
  const declared = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
  const names = fc.oneof(hostileString, fc.constantFrom('limit', 'cursor', 'minPosition', '__proto__', ...declared));
  return fc.tuple(names, hostileString).map(([name, value]) => (plan: Plan) => {
    plan.extraQuery.push([name, value]);
    plan.broken.push(`query ${JSON.stringify(name)}=${JSON.stringify(value).slice(0, 80)}`);
  });
}

/** Bodies that are wrong: by the schema, not JSON, of another type, nested deep, huge, or sent as something else. */
function badBody(op: FuzzOperation, resolve: Resolve): Breaker {
  const schema: Json = op.body?.schema ?? { type: 'object', additionalProperties: false };
  const json = (value: unknown, contentType = JSON_TYPE): Body => ({ kind: 'json', value, contentType });
  const raw = (text: string, contentType = JSON_TYPE): Body => ({ kind: 'raw', text, contentType });
  const bodies: fc.Arbitrary<Body>[] = [
    violating(schema, resolve).map((value) => json(value)),
    anyJson.map((value) => json(value)),
    fc.constantFrom(
      raw('{'),
      raw('{"amount": 1e400}'),
      raw('{"price": -1e400, "itemId": "x"}'),
      raw('{"a":1,"a":2}'),
      raw('[1,2'),
      raw('\uFEFF{}'),
      raw('nul'),
      raw(''),
      raw(`${'['.repeat(5000)}${']'.repeat(5000)}`),
      raw(`{"x":"${'y'.repeat(1_100_000)}"}`),
      raw('{}', 'text/plain'),
      raw('a=1&b=2', 'application/x-www-form-urlencoded'),
      raw('{}', 'application/json; charset=latin1'),
      raw('{}', 'application/problem+json'),
      raw('{}', 'multipart/form-data; boundary=x'),
      raw('{}', ''),
    ),
    conforming(schema, resolve).map((value) => json(value, 'text/plain')),
  ];
  if (op.body) bodies.push(fc.constant<Body>({ kind: 'absent' }));
  return fc.oneof(...bodies).map((body) => (plan: Plan) => {
    plan.body = body;
    const shown = body.kind === 'absent' ? 'absent' : body.kind === 'json' ? JSON.stringify(body.value) : body.text;
    plan.broken.push(
      `body ${(shown ?? 'undefined').slice(0, 80)} as ${'contentType' in body ? body.contentType : '-'}`,
    );
  });
}
