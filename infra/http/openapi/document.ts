/**
 * The OpenAPI 3.1 document, generated from the operations of each section and the zod
 * schemas the server validates requests with and types its answers by. Built once, on
 * first use.
 */
import * as z from 'zod';
import { accessToken, jwks, user } from '../schemas/identity.js';
import { directoryUser } from '../schemas/admin.js';
import { account, operation } from '../schemas/billing.js';
import { problem } from '../schemas/common.js';
import { customerOrder } from '../schemas/ordering.js';
import { dailyItemStat, dailyTotal, deal, topItem } from '../schemas/reports.js';
import { notification, orderUpdate, streamTicket } from '../schemas/notifications.js';
import { apiDocument, eventsDocument, health, readiness } from '../schemas/service.js';
import {
  candle,
  holding,
  itemWithMarket,
  order,
  orderBook,
  trackedOrder,
  tradingItem,
  tradingItemWithQuote,
} from '../schemas/trading.js';
import { POSITION_HEADER } from '../read-your-writes.js';
import { billingOperations } from './billing.js';
import { headers, parameters, parametersOf, refusalsOf, responseHeadersOf } from './conventions.js';
import { identityOperations } from './identity.js';
import { adminOperations } from './admin.js';
import { marketDataOperations } from './market-data.js';
import type { Operation } from './operation.js';
import { notificationOperations } from './notifications.js';
import { orderingOperations } from './ordering.js';
import { reportOperations } from './reports.js';
import { serviceOperations } from './service.js';
import { tradingOperations } from './trading.js';

/** A JSON Schema or any other part of the document that is plain JSON. */
export type Json = Record<string, unknown>;

export interface MediaObject {
  schema?: Json;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, Json>;
  content?: Record<string, MediaObject>;
}

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters: Json[];
  requestBody?: { required: boolean; content: Record<string, MediaObject> };
  responses: Record<string, ResponseObject>;
}

export type Method = Operation['method'];

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<Method, OperationObject>>>;
  components: {
    schemas: Record<string, Json>;
    parameters: Record<string, Json>;
    headers: Record<string, Json>;
    securitySchemes: Record<string, Json>;
  };
}

/** Every endpoint, section by section. */
export const operations: readonly Operation[] = [
  ...identityOperations,
  ...billingOperations,
  ...tradingOperations,
  ...marketDataOperations,
  ...reportOperations,
  ...notificationOperations,
  ...orderingOperations,
  ...adminOperations,
  ...serviceOperations,
];

/** Named schemas (`#/components/schemas/<name>`); any other body is written where it is used. */
const namedSchemas: Record<string, z.ZodType> = {
  Problem: problem,
  User: user,
  AccessToken: accessToken,
  Jwks: jwks,
  Account: account,
  AccountOperation: operation,
  TradingItem: tradingItem,
  TradingItemWithQuote: tradingItemWithQuote,
  ItemWithMarket: itemWithMarket,
  OrderBook: orderBook,
  Candle: candle,
  Order: order,
  TrackedOrder: trackedOrder,
  Holding: holding,
  Deal: deal,
  DailyItemStat: dailyItemStat,
  DailyTotal: dailyTotal,
  TopItem: topItem,
  Notification: notification,
  OrderUpdate: orderUpdate,
  StreamTicket: streamTicket,
  CustomerOrder: customerOrder,
  DirectoryUser: directoryUser,
  Health: health,
  Readiness: readiness,
  OpenApiDocument: apiDocument,
  AsyncApiDocument: eventsDocument,
};

const tags = [
  { name: 'identity', description: 'Registering, signing in and out, the profile, the signing keys.' },
  { name: 'billing', description: "The caller's account: balance (with `ETag`), deposits, withdrawals, operations." },
  { name: 'trading', description: 'Items, purchase and sell orders (matched when placed), the portfolio.' },
  { name: 'market data', description: 'Public: each item with its market summary, its order book, its candles.' },
  { name: 'history', description: "The caller's completed deals." },
  { name: 'statistics', description: 'Public deal statistics.' },
  {
    name: 'notifications',
    description: "The caller's letters (read or not), and the live stream of letters and order changes.",
  },
  { name: 'ordering', description: 'Plain orders paid from the balance.' },
  {
    name: 'admin',
    description: 'Administrators only: finding, blocking and unblocking users; parked events; the consistency check.',
  },
  { name: 'service', description: 'Probes and this description.' },
];

const description = `An event-sourced marketplace: traders deposit money, buy and sell units of items, a broker lists items and earns commission.

- **Money** is a JSON number with at most 2 decimals.
- **Errors** are JSON \`{ code, message }\` (\`code\` is the HTTP status) plus RFC 9457 members; validation errors (422) name each field: \`violation at 'price': This value should be greater than or equal to 1.\` A path that does not exist is 404; a method a path does not take is 405 with \`Allow\`.
- **Preconditions.** A GET of something a POST changes answers with an \`ETag\`; the POST sends it back as \`If-Match\` (missing: 428, stale: 412) or carries an \`Idempotency-Key\`.
- **Idempotency keys** (\`Idempotency-Key\`, alias \`X-Request-Id\`) make a POST run once; repeats get the first answer again.
- **Reading your own writes.** Every command answers with \`${POSITION_HEADER}\`; a query given it (header or \`?minPosition=\`) answers once its read models have caught up, or 503 with \`Retry-After\`; a position no command gave is 400 at once.
- **Overload.** Registrations, sign-ins and commands are rate-limited per client address and per account: past a limit, 429 with \`Retry-After\` (seconds). A server too busy to take a request now (passwords being hashed, a stream's queue, queries waiting for their writes) answers 503 with \`Retry-After\`. Neither changed anything: retry after that long.
- **Lists** take \`limit\` and \`cursor\`; the next page is announced in \`Link: <…>; rel="next"\`.`;

let built: OpenApiDocument | undefined;

export function apiDescription(): OpenApiDocument {
  built ??= buildDocument();
  return built;
}

function buildDocument(): OpenApiDocument {
  const bodies = responseSchemas(operations);
  const paths: OpenApiDocument['paths'] = {};
  for (const op of operations) {
    let item = paths[op.path];
    if (!item) {
      item = {};
      paths[op.path] = item;
    }
    if (item[op.method]) throw new Error(`${op.method.toUpperCase()} ${op.path} is described twice`);
    item[op.method] = operationObject(op, bodies.of);
  }
  return {
    openapi: '3.1.1',
    info: { title: 'Marketplace API', version: '1.0.0', description },
    tags,
    paths,
    components: {
      schemas: bodies.named,
      parameters,
      headers,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The `accessToken` of `POST /api/v1/identity/login`. Missing, forged, expired or signed out: 401.',
        },
      },
    },
  };
}

function operationObject(op: Operation, schemaOf: (body: z.ZodType) => Json): OperationObject {
  const responses: Record<string, ResponseObject> = {};
  for (const answer of op.answers) {
    const content = answer.body
      ? { 'application/json': { schema: schemaOf(answer.body) } }
      : answer.media
        ? Object.fromEntries(answer.media.map((type) => [type, { schema: { type: 'string' } }]))
        : undefined;
    responses[answer.status] = {
      description: answer.description,
      headers: responseHeadersOf(op, answer.headers ?? [], answer.status),
      ...(content ? { content } : {}),
    };
  }
  for (const [status, reasons] of refusalsOf(op)) {
    if (responses[status])
      throw new Error(`${op.method.toUpperCase()} ${op.path}: ${status} is both an answer and a refusal`);
    responses[status] = {
      description: reasons.map((why) => `- ${why}`).join('\n'),
      headers: responseHeadersOf(op, [], status),
      content: { 'application/json': { schema: problemWith(status) } },
    };
  }
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.audience === 'signed-in' ? { security: [{ bearer: [] }] } : {}),
    parameters: parametersOf(op),
    ...(op.requestBody
      ? { requestBody: { required: true, content: { 'application/json': { schema: requestSchema(op.requestBody) } } } }
      : {}),
    responses,
  };
}

/** The error body, with `code` and `status` fixed to the response's status. */
function problemWith(status: number): Json {
  return {
    allOf: [
      { $ref: '#/components/schemas/Problem' },
      { type: 'object', properties: { code: { const: status }, status: { const: status } } },
    ],
  };
}

/** A request body as the client writes it (before the server's transforms, e.g. money to cents). */
function requestSchema(body: z.ZodType): Json {
  return withoutSchemaIds(z.toJSONSchema(body, { io: 'input' }) as Json);
}

/**
 * Every response body converted in one go, so the named ones are referenced
 * (`$ref: #/components/schemas/Order`) wherever they appear, also inside lists.
 */
function responseSchemas(all: readonly Operation[]): { named: Record<string, Json>; of(body: z.ZodType): Json } {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(namedSchemas)) registry.add(schema, { id });
  const inline = new Set<string>();
  for (const op of all) {
    for (const { body, status } of op.answers) {
      if (!body || registry.has(body)) continue;
      const id = `${op.operationId}-${status}`;
      registry.add(body, { id });
      inline.add(id);
    }
  }
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  const named: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(schemas)) if (!inline.has(id)) named[id] = withoutSchemaIds(schema as Json);
  return {
    named,
    of(body) {
      const id = registry.get(body)!.id;
      return inline.has(id) ? withoutSchemaIds(schemas[id] as Json) : { $ref: `#/components/schemas/${id}` };
    },
  };
}

/** `$schema` and `$id` belong to stand-alone schemas; inside the document they would mislead. */
function withoutSchemaIds(schema: Json): Json {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}
