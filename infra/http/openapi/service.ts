/** The service's own endpoints: liveness and readiness probes, and this description. */
import * as z from 'zod';
import { messages } from '../../../domain/messages.js';
import { apiDocument, eventsDocument, health, readiness } from '../schemas/service.js';
import { docsAssetNames, docsMediaTypes } from './docs-page.js';
import { quoted, type Operation } from './operation.js';

const tag = 'service';

export const serviceOperations: Operation[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag,
    summary: 'Liveness: the process answers',
    description: 'Consults no dependency, so a slow store never gets the process restarted.',
    audience: 'service',
    answers: [{ status: 200, description: 'Alive.', body: health }],
  },
  {
    method: 'get',
    path: '/ready',
    operationId: 'ready',
    tag,
    summary: 'Readiness: every store answers and the read models are current',
    audience: 'service',
    answers: [
      {
        status: 200,
        description:
          'Every store answered in time and no read model the API reads is being rebuilt or lags beyond `READY_MAX_LAG_EVENTS` / `READY_MAX_LAG_MS`: the instance can take traffic.',
        body: readiness,
      },
      {
        status: 503,
        description:
          "A store failed or did not answer in time, or a read model is being rebuilt or lags too far. Which, and why, is not told here (the probe is public): the log has a line naming it, and `/metrics` has `marketplace_ready{dependency}` with the read models' lag.",
        body: readiness,
      },
    ],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag,
    summary: 'Metrics in the Prometheus text format',
    description:
      'HTTP latency by route template and status, commands by type and outcome, expected-version conflicts, events appended, projection and process-manager lag (events and seconds), parked events, rebuilds, whether each dependency of `/ready` answers, and the process metrics.',
    audience: 'service',
    answers: [{ status: 200, description: 'The current values.', media: ['text/plain'] }],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'apiDescription',
    tag,
    summary: 'This API description (OpenAPI 3.1)',
    audience: 'service',
    answers: [{ status: 200, description: 'The document.', body: apiDocument }],
  },
  {
    method: 'get',
    path: '/asyncapi.json',
    operationId: 'eventsDescription',
    tag,
    summary: 'The domain events (AsyncAPI 3.0)',
    description:
      'Every event type and version with its payload schema, the streams they are appended to as channels, and their metadata (correlation and causation ids, schema version). Generated from the schemas every append and read is checked against.',
    audience: 'service',
    answers: [{ status: 200, description: 'The document.', body: eventsDocument }],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'apiDocs',
    tag,
    summary: 'A page to browse this description (works offline)',
    audience: 'service',
    answers: [
      {
        status: 200,
        description: 'The page (Swagger UI).',
        media: ['text/html'],
        headers: ['Content-Security-Policy'],
      },
    ],
  },
  {
    method: 'get',
    path: '/docs/{asset}',
    operationId: 'apiDocsAsset',
    tag,
    summary: 'A file of the docs page',
    audience: 'service',
    pathParameters: z.strictObject({ asset: z.enum(docsAssetNames).meta({ description: 'the file' }) }),
    answers: [{ status: 200, description: 'The file.', media: [...docsMediaTypes], headers: ['Cache-Control'] }],
    refusals: { 404: [`${quoted(messages.notFound)}: not a file of the page`] },
  },
];
