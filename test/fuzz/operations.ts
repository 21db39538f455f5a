/**
 * The operations of the OpenAPI document as the fuzzer drives them: each one's parameters
 * (path, query, header) and body with their schemas, and whether it needs a bearer token.
 * Read from the document the server serves, never listed by hand: an operation added to
 * the document is fuzzed as soon as it is there, and one the fuzzer cannot drive (a
 * parameter in a cookie, a body that is not JSON, another security scheme) fails here,
 * naming it, instead of being skipped.
 */
import type { Json, Method, OpenApiDocument, OperationObject } from '../../infra/http/openapi/document.js';

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Json;
}

export interface FuzzOperation {
  method: Method;
  template: string;
  /** `GET /api/v1/billing/account`. */
  title: string;
  operation: OperationObject;
  parameters: Parameter[];
  body?: { schema: Json; required: boolean };
  /** Needs `Authorization: Bearer <token>`. */
  secured: boolean;
  /** Where the `If-Match` of this operation comes from: the nearest GET at its path or above that answers an ETag. */
  etagSource?: string;
  /** The path the ids of `{…}` parameters are listed at: the template up to its first parameter. */
  collection: string;
}

const LOCATIONS = new Set(['path', 'query', 'header']);

export function operationsOf(document: OpenApiDocument): FuzzOperation[] {
  const resolve = resolverOf(document);
  const found: FuzzOperation[] = [];
  for (const [template, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [Method, OperationObject][]) {
      const title = `${method.toUpperCase()} ${template}`;
      const parameters = operation.parameters.map((p) => parameterOf(resolve(p), title));
      const secured = securityOf(operation, document, title);
      const body = operation.requestBody && bodyOf(operation.requestBody, title);
      const hasIfMatch = parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === 'if-match');
      const etagSource = hasIfMatch ? etagSourceOf(document, template, title) : undefined;
      const collection = template.split('/{')[0]!;
      found.push({ method, template, title, operation, parameters, body, secured, etagSource, collection });
    }
  }
  return found;
}

/** Follows a local `$ref` of the document; anything else is returned as it is. */
export function resolverOf(document: OpenApiDocument): (value: Json) => Json {
  return function resolve(value: Json): Json {
    const ref = value.$ref;
    if (typeof ref !== 'string') return value;
    if (!ref.startsWith('#/')) throw new Error(`the fuzzer cannot follow the $ref ${ref}`);
    let at: unknown = document;
    for (const part of ref.slice(2).split('/'))
      at = (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!at || typeof at !== 'object') throw new Error(`unresolved $ref ${ref}`);
    return resolve(at as Json);
  };
}

function parameterOf(declared: Json, title: string): Parameter {
  const where = String(declared.in);
  if (!LOCATIONS.has(where)) throw new Error(`${title}: the fuzzer cannot drive a parameter in ${where}`);
  if (!declared.schema) throw new Error(`${title}: parameter ${String(declared.name)} has no schema to fuzz`);
  return {
    name: String(declared.name),
    in: where as Parameter['in'],
    required: declared.required === true || where === 'path',
    schema: declared.schema as Json,
  };
}

function securityOf(operation: OperationObject, document: OpenApiDocument, title: string): boolean {
  const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  for (const name of schemes) {
    const scheme = document.components.securitySchemes[name];
    if (scheme?.type !== 'http' || scheme.scheme !== 'bearer')
      throw new Error(`${title}: the fuzzer cannot drive the security scheme ${name}`);
  }
  return schemes.length > 0;
}

function bodyOf(requestBody: NonNullable<OperationObject['requestBody']>, title: string): FuzzOperation['body'] {
  const types = Object.keys(requestBody.content);
  const schema = requestBody.content['application/json']?.schema;
  if (types.length !== 1 || !schema) throw new Error(`${title}: the fuzzer cannot drive a body of ${types.join(', ')}`);
  return { schema, required: requestBody.required };
}

function etagSourceOf(document: OpenApiDocument, template: string, title: string): string {
  for (let path = template; path.length > 0; path = path.slice(0, path.lastIndexOf('/'))) {
    const headers = document.paths[path]?.get?.responses['200']?.headers ?? {};
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'etag')) return path;
  }
  throw new Error(`${title}: takes If-Match, but no GET at its path or above answers an ETag to send`);
}
