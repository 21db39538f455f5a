/**
 * The JSON Schemas of every version of every event, and of the types their fields share,
 * generated from the zod schemas the events are declared with (domain/*\/events.ts): what
 * the AsyncAPI document and the event catalogue say cannot differ from what is checked.
 */
import * as z from 'zod';
import { accrualPurpose, commissionSource, failureReason, paymentPurpose } from '../../domain/billing/events.js';
import { cents, instant } from '../../domain/event-schema.js';
import { domainEvents } from '../../domain/events.js';
import { role } from '../../domain/identity/events.js';
import { operationMemory } from '../../domain/operation-memory.js';
import { side } from '../../domain/trading/events.js';

export type JsonSchema = Record<string, unknown>;

/** Types the fields of several events share, named once in the documents, with the file declaring them. */
export const namedFieldTypes: ReadonlyArray<{ name: string; schema: z.ZodType; file: string }> = [
  { name: 'Cents', schema: cents, file: 'domain/event-schema.ts' },
  { name: 'Instant', schema: instant, file: 'domain/event-schema.ts' },
  { name: 'OperationMemory', schema: operationMemory, file: 'domain/operation-memory.ts' },
  { name: 'PaymentPurpose', schema: paymentPurpose, file: 'domain/billing/events.ts' },
  { name: 'AccrualPurpose', schema: accrualPurpose, file: 'domain/billing/events.ts' },
  { name: 'CommissionSource', schema: commissionSource, file: 'domain/billing/events.ts' },
  { name: 'FailureReason', schema: failureReason, file: 'domain/billing/events.ts' },
  { name: 'Role', schema: role, file: 'domain/identity/events.ts' },
  { name: 'Side', schema: side, file: 'domain/trading/events.ts' },
];

/** The name of one version's schema among the components: `MoneyDeposited.v1`. */
export const schemaName = (type: string, version: number) => `${type}.v${version}`;

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

let built: Record<string, JsonSchema> | undefined;

/** Every event version's data and every named field type, by name, referring to each other with `#/components/schemas/<name>`. */
export function eventJsonSchemas(): Record<string, JsonSchema> {
  built ??= build();
  return built;
}

function build(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const named of namedFieldTypes) registry.add(named.schema, { id: named.name });
  for (const type of domainEvents.all())
    for (const { version, schema } of type.versions) registry.add(schema, { id: schemaName(type.type, version) });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `${SCHEMA_REF_PREFIX}${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => [id, standalonePartsRemoved(schema as JsonSchema)]),
  );
}

/** `$schema` and `$id` belong to stand-alone schemas; inside a document they would mislead. */
function standalonePartsRemoved(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}
