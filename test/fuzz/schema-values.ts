/**
 * Values from a JSON Schema of the OpenAPI document, as fast-check arbitraries: ones the
 * schema accepts (`conforming`) and ones it refuses (`violating`). Both are checked with
 * Ajv against the schema itself, so what the fuzzer calls valid is what the document says
 * is valid, whatever shortcut a generator takes.
 *
 * A leaf of a conforming value may be a `Pick`: a value the server handed out before (an
 * item id, an email that registered), resolved when the request is sent, since that is
 * what a real client sends back.
 */
import fc from 'fast-check';
import type { Json } from '../../infra/http/openapi/document.js';

/** Resolves `$ref`s of the document (`#/components/...`). */
export type Resolve = (schema: Json) => Json;

/** A value the server gave out earlier under `field`: the `index`-th one (modulo), else `fallback`. */
export class Pick {
  constructor(
    readonly field: string,
    readonly index: number,
    readonly fallback: unknown,
  ) {}
}

/** An earlier accepted body with the members this schema requires, cut to the members it describes. */
export class RecordPick extends Pick {
  constructor(
    index: number,
    fallback: unknown,
    readonly properties: string[],
    readonly required: string[],
  ) {
    super('#record', index, fallback);
  }
}

/** The strings that break parsers and length checks: unicode of every plane, controls, huge ones. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uFEFF',
    '\uD800',
    '𝕏'.repeat(120),
    '👩‍👩‍👧‍👦',
    'a'.repeat(5_000),
    '{"$gt":""}',
    "' OR 1=1 --",
    '../../etc/passwd',
    '%00',
    '__proto__',
    'constructor',
  ),
);

/** JSON values of every type, the odd ones included. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, -0.5, 1e21, -1e21, 2 ** 53 + 2, Number.MIN_VALUE, [], {}),
  hostileString,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

const typeOf = (schema: Json): string | undefined => (typeof schema.type === 'string' ? schema.type : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** Values the schema accepts; `field` names the property (for picks of earlier values). */
export function conforming(schema: Json, resolve: Resolve, field?: string): fc.Arbitrary<unknown> {
  const own = conformingOwn(resolve(schema), resolve);
  if (!field || typeOf(resolve(schema)) === 'object') return own;
  return fc.oneof(
    { arbitrary: own, weight: 2 },
    { arbitrary: fc.tuple(fc.nat(), own).map(([index, fallback]) => new Pick(field, index, fallback)), weight: 1 },
  );
}

function conformingOwn(schema: Json, resolve: Resolve): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const alternatives = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (alternatives) return fc.oneof(...alternatives.map((s) => conforming(s, resolve)));
  switch (typeOf(schema)) {
    case 'string':
      return conformingString(schema);
    case 'integer':
      return conformingInteger(num(schema.minimum) ?? -(2 ** 31), num(schema.maximum) ?? 2 ** 31);
    case 'number':
      return conformingNumber(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(conforming((schema.items ?? {}) as Json, resolve), {
        minLength: num(schema.minItems) ?? 0,
        maxLength: Math.min(num(schema.maxItems) ?? 3, 3),
      });
    case 'object':
      return conformingObject(schema, resolve);
    default:
      throw new Error(`the fuzzer cannot generate values of the schema ${JSON.stringify(schema)}`);
  }
}

function conformingString(schema: Json): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = num(schema.maxLength) ?? 300;
  const fits = (s: string) => [...s].length >= minLength && [...s].length <= maxLength;
  if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  switch (schema.format) {
    case 'email':
      return fc.oneof(fc.emailAddress(), simpleEmail).filter(fits);
    case 'date-time':
      return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
    case 'uuid':
      return fc.uuid();
    case undefined:
      return fc
        .oneof(
          fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 30) }),
          fc.string({ unit: 'grapheme', minLength, maxLength: Math.min(maxLength, minLength + 30) }),
          fc.string({ minLength: maxLength, maxLength }),
        )
        .filter(fits);
    default:
      throw new Error(`the fuzzer cannot generate strings of format ${String(schema.format)}`);
  }
}

const simpleEmail = fc
  .tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), fc.stringMatching(/^[a-z0-9]{1,10}\.[a-z]{2,5}$/))
  .map(([local, domain]) => `${local}@${domain}`);

/**
 * Integers in range, mostly near the minimum: a count of 10,000 is as valid as one of 3, and
 * tried too, but each such listing makes thousands of units the server then carries.
 */
function conformingInteger(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.integer({ min, max: Math.min(max, min + 20) }), weight: 3 },
    { arbitrary: fc.integer({ min, max }), weight: 1 },
  );
}

/** Numbers in range, mostly with at most two decimals (this API's money and percents), some with more. */
function conformingNumber(schema: Json): fc.Arbitrary<number> {
  const min = num(schema.minimum) ?? num(schema.exclusiveMinimum) ?? -1e9;
  const max = num(schema.maximum) ?? num(schema.exclusiveMaximum) ?? 1e9;
  const cents = fc.integer({ min: Math.ceil(min * 100), max: Math.floor(max * 100) }).map((c) => c / 100);
  const ends = fc.constantFrom(min, max);
  const inRange = (n: number) => n >= min && n <= max && n !== schema.exclusiveMinimum && n !== schema.exclusiveMaximum;
  return fc.oneof(cents, ends, fc.integer({ min: Math.ceil(min), max: Math.floor(max) })).filter(inRange);
}

function conformingObject(schema: Json, resolve: Resolve): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = (schema.required ?? []) as string[];
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, property] of Object.entries(properties)) model[name] = conforming(property, resolve, name);
  return fc.record(model, { requiredKeys: required });
}

/** A body: from its schema, or (one time in three) the members of a body the server accepted before. */
export function conformingBody(schema: Json, resolve: Resolve): fc.Arbitrary<unknown> {
  const own = resolve(schema);
  const fresh = conforming(own, resolve);
  if (typeOf(own) !== 'object') return fresh;
  const properties = Object.keys((own.properties ?? {}) as Json);
  const required = (own.required ?? []) as string[];
  return fc.oneof(
    { arbitrary: fresh, weight: 2 },
    {
      arbitrary: fc.tuple(fc.nat(), fresh).map(([i, fallback]) => new RecordPick(i, fallback, properties, required)),
      weight: 1,
    },
  );
}

/**
 * Values the schema refuses: another type, out of range, too long or too short, off the
 * pattern, a required member missing, a member not described, a member that is wrong.
 * Candidates that happen to conform (`anyJson` may give a string where a string is due)
 * are not dropped here: whether the request as sent conforms is decided when it is sent.
 */
export function violating(schema: Json, resolve: Resolve): fc.Arbitrary<unknown> {
  const own = resolve(schema);
  const candidates: fc.Arbitrary<unknown>[] = [anyJson];
  switch (typeOf(own)) {
    case 'string':
      candidates.push(violatingString(own));
      break;
    case 'integer':
    case 'number':
      candidates.push(violatingNumber(own));
      break;
    case 'object':
      candidates.push(violatingObject(own, resolve));
      break;
  }
  return fc.oneof(...candidates);
}

function violatingString(schema: Json): fc.Arbitrary<unknown> {
  const maxLength = num(schema.maxLength);
  const minLength = num(schema.minLength);
  const options: fc.Arbitrary<unknown>[] = [hostileString];
  if (maxLength !== undefined)
    options.push(fc.integer({ min: maxLength + 1, max: maxLength + 2000 }).map((n) => 'x'.repeat(n)));
  if (minLength !== undefined && minLength > 0) options.push(fc.string({ maxLength: minLength - 1 }));
  return fc.oneof(...options);
}

function violatingNumber(schema: Json): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [
    fc.constantFrom(-1, 0, 0.001, 1.005, 1e21, -1e21, 2 ** 53 + 1, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom('1', '10.5', '', 'NaN', 'Infinity', '1e3'),
  ];
  const min = num(schema.minimum);
  const max = num(schema.maximum);
  if (min !== undefined) options.push(fc.double({ max: min, noNaN: true, noDefaultInfinity: true }));
  if (max !== undefined) options.push(fc.double({ min: max, noNaN: true, noDefaultInfinity: true }));
  return fc.oneof(...options);
}

function violatingObject(schema: Json, resolve: Resolve): fc.Arbitrary<unknown> {
  const base = conformingObject(schema, resolve);
  const properties = Object.keys((schema.properties ?? {}) as Json);
  const required = (schema.required ?? []) as string[];
  const options: fc.Arbitrary<unknown>[] = [
    base.chain((value) =>
      fc.tuple(hostileString, anyJson).map(([key, extra]) => ({ ...value, [key || 'extra']: extra })),
    ),
    fc.constantFrom([], [{}], 'object', 0, null),
  ];
  if (required.length > 0)
    options.push(
      fc.tuple(base, fc.constantFrom(...required)).map(([value, gone]) => {
        const { [gone]: _gone, ...rest } = value;
        return rest;
      }),
    );
  for (const name of properties) {
    const property = ((schema.properties ?? {}) as Record<string, Json>)[name]!;
    options.push(
      fc
        .tuple(base, fc.oneof(violatingLeaf(resolve(property)), anyJson))
        .map(([value, wrong]) => ({ ...value, [name]: wrong })),
    );
  }
  return fc.oneof(...options);
}

function violatingLeaf(schema: Json): fc.Arbitrary<unknown> {
  switch (typeOf(schema)) {
    case 'string':
      return violatingString(schema);
    case 'integer':
    case 'number':
      return violatingNumber(schema);
    default:
      return anyJson;
  }
}
