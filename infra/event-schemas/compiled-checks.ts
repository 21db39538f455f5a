/**
 * The event schemas compiled into fast checks: Ajv compiles the JSON Schemas generated from
 * the zod schemas (json-schemas.ts) into plain functions, much faster than zod's own
 * checks. Every append and every read of every subscription is checked, so this is on the
 * hot path; zod stays the one source of the schemas, and test/event-schema-checks.test.ts
 * holds both to the same answers.
 *
 * Each version is compiled the first time an event of it is checked (a process reads few
 * old versions, and compiling all of them takes a while). Measurements: docs/PERFORMANCE.md,
 * "Why the code is as it is", "Checking events".
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { VersionCheck } from '../../domain/event-schema.js';
import { eventJsonSchemas, SCHEMA_REF_PREFIX, schemaName } from './json-schemas.js';

export function compiledChecks(): VersionCheck {
  // Set up at the first check, not at start-up: time a thread of a process which never reads an event would waste.
  let ajv: Ajv2020 | undefined;
  const schemas = (): Ajv2020 => {
    if (ajv) return ajv;
    // Formats are documented, not checked (see `instant` in domain/event-schema.ts): zod does not check them either.
    ajv = new Ajv2020({ strict: true, validateFormats: false, allErrors: false });
    for (const [name, schema] of Object.entries(eventJsonSchemas()))
      ajv.addSchema(schema, `${SCHEMA_REF_PREFIX}${name}`);
    return ajv;
  };
  // By type, then version: no key is built per check (this runs for every event read).
  const compiled = new Map<string, Array<ValidateFunction | undefined>>();
  const compile = (type: string, version: number): ValidateFunction | undefined => {
    const validate = schemas().getSchema(`${SCHEMA_REF_PREFIX}${schemaName(type, version)}`);
    let versions = compiled.get(type);
    if (!versions) {
      versions = [];
      compiled.set(type, versions);
    }
    versions[version] = validate;
    return validate;
  };
  return (type, version, data) => {
    const validate = compiled.get(type)?.[version] ?? compile(type, version);
    if (!validate) return [`(data): no schema for ${type} version ${version}`];
    return validate(data) ? null : (validate.errors ?? []).map(describe);
  };
}

/** `amount: must be integer`, in the shape of zod's problems (`path: why`). */
function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(data)' : error.instancePath.slice(1).replaceAll('/', '.');
  const extra = typeof error.params.additionalProperty === 'string' ? ` (${error.params.additionalProperty})` : '';
  return `${path}: ${error.message ?? error.keyword}${extra}`;
}
