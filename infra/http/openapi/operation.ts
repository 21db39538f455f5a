/**
 * How one endpoint is described: what it is and what is particular to it. What follows
 * from where it is mounted (who may call it, which middleware runs before it) is added
 * by `conventions.ts`, so each fact is written once.
 */
import type * as z from 'zod';

/**
 * Where the route is mounted, which decides the middleware in front of it (see server.ts):
 * - `service`: outside the API (probes, this description): nothing but the request id;
 * - `public`: the API without a token (body parser, read-your-writes on GETs);
 * - `signed-in`: the API behind a bearer token (and idempotency keys on POSTs).
 */
export type Audience = 'service' | 'public' | 'signed-in';

export type ResponseHeader = 'ETag' | 'X-Event-Position' | 'Link' | 'Cache-Control' | 'Content-Security-Policy';

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 428 | 429 | 431 | 500 | 503;

/** An answer other than the `{ code, message }` errors. */
export interface Answer {
  status: number;
  description: string;
  /** The JSON body; none when omitted (and no `media`). */
  body?: z.ZodType;
  /** Media types of a body that is not JSON (HTML, CSS…). */
  media?: string[];
  headers?: ResponseHeader[];
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI path template, e.g. `/api/v1/ordering/orders/{id}`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  audience: Audience;
  /** Only the broker may call it (anyone else: 403). */
  brokerOnly?: true;
  /** Only an administrator may call it (anyone else: 403). */
  adminOnly?: true;
  /**
   * Path parameters: the schema the route checks them with (each field's `description` in
   * its `.meta()`), so the document says exactly what is accepted.
   */
  pathParameters?: z.ZodObject;
  /** Query parameters particular to it: the schema the route checks them with (optional fields are optional). */
  queryParameters?: z.ZodObject;
  /** Request headers particular to it, with the schema of each. */
  headerParameters?: z.ZodObject;
  /** The JSON request body, validated with this schema (422 naming the fields). */
  requestBody?: z.ZodType;
  /** A list: `limit` and `cursor`, the next page in `Link`. */
  list?: true;
  /** Needs `If-Match` (or an `Idempotency-Key`): 428 without, 412 when stale. */
  precondition?: true;
  /** Runs a command: the stream may change under it (409, retry). */
  command?: true;
  answers: Answer[];
  /** Refusals particular to this endpoint, by status: what the client reads. */
  refusals?: Partial<Record<ErrorStatus, string[]>>;
}

/** An exact message, quoted for the description. */
export const quoted = (message: string) => `\`${message}\``;
