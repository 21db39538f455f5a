/**
 * An event's fields, and the named types they use, read from the JSON Schemas generated from
 * its zod schema (infra/asyncapi/event-json-schemas.ts): name, type as a short text, whether
 * optional, and the description.
 */
import { SCHEMA_REF_PREFIX, type JsonSchema } from '../event-schemas/json-schemas.js';

export interface FieldDefinition {
  name: string;
  /** The type in short: `string`, `Cents`, `'deal' | 'order'`, `string | null`. */
  type: string;
  optional: boolean;
  doc: string;
  /** Named types the type mentions (documented in the catalogue's named types). */
  references: string[];
}

/** A type fields share: an object (`fields`), a union of objects (`variants`), or anything else (`definition`). */
export interface NamedTypeDefinition {
  name: string;
  file: string;
  doc: string;
  fields?: FieldDefinition[];
  variants?: FieldDefinition[][];
  definition?: string;
}

/** The fields of an object schema, in declaration order. */
export function fieldsOf(schema: JsonSchema): FieldDefinition[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const references: string[] = [];
    return {
      name,
      type: typeText(property, references),
      optional: !required.has(name),
      doc: String(property.description ?? ''),
      references,
    };
  });
}

export function namedTypeOf(name: string, file: string, schema: JsonSchema): NamedTypeDefinition {
  const doc = String(schema.description ?? '');
  const union = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (schema.type === 'object') return { name, file, doc, fields: fieldsOf(schema) };
  if (union?.every((member) => member.type === 'object')) return { name, file, doc, variants: union.map(fieldsOf) };
  return { name, file, doc, definition: typeText(schema, []) };
}

/** A JSON Schema as a short type text, collecting the named types it refers to. */
function typeText(schema: JsonSchema, references: string[]): string {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.slice(SCHEMA_REF_PREFIX.length);
    if (!references.includes(name)) references.push(name);
    return name;
  }
  if ('const' in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ');
  const union = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (union) return union.map((member) => typeText(member, references)).join(' | ');
  if (Array.isArray(schema.type))
    return schema.type.map((type) => typeText({ ...schema, type }, references)).join(' | ');
  if (schema.type === 'array') return `${typeText((schema.items ?? {}) as JsonSchema, references)}[]`;
  return typeof schema.type === 'string' ? schema.type : 'unknown';
}

const literal = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));
