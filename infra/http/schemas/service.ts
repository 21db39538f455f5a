/** Response bodies of the service's own endpoints: the probes and the API description. */
import * as z from 'zod';

export const health = z.strictObject({ status: z.literal('ok') });

export const readiness = z
  .strictObject({
    status: z.enum(['ready', 'unavailable']),
  })
  .meta({
    description:
      'Whether every store answered in time and the read models are current; which did not, and why, is for operators (the log, `/metrics`).',
  });

/** The outline of an OpenAPI 3.1 document (the whole of it is defined by the OpenAPI specification). */
export const apiDocument = z
  .looseObject({
    openapi: z.string().regex(/^3\.1\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.looseObject({})),
  })
  .meta({ description: 'An OpenAPI 3.1 document: this one.' });

/** The outline of an AsyncAPI 3.0 document (the whole of it is defined by the AsyncAPI specification). */
export const eventsDocument = z
  .looseObject({
    asyncapi: z.string().regex(/^3\.0\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    channels: z.record(z.string(), z.looseObject({})),
  })
  .meta({ description: 'An AsyncAPI 3.0 document: the domain events, their streams, payloads and metadata.' });
