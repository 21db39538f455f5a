/**
 * Pieces the response bodies share. Response schemas are declared with zod like the
 * request bodies: the routes type what they send with `z.infer`, and the OpenAPI document
 * is generated from the same objects, so the two cannot say different things.
 */
import * as z from 'zod';

/** What a money amount looks like in a response: a JSON number with at most two decimals. */
export const moneyAmount = z
  .number()
  .min(0)
  .meta({ description: 'money, a JSON number with at most 2 decimals (e.g. `1005`, `11.1`)' });

export const timestamp = z.iso.datetime().meta({ description: 'ISO 8601 UTC time' });

export const count = z.int().min(0);

/** The error body of every 4xx and 5xx: `{ code, message }` plus RFC 9457 members. */
export const problem = z
  .strictObject({
    code: z.int().min(400).max(599).meta({ description: 'the HTTP status' }),
    message: z.string().meta({ description: 'what went wrong; the texts the specification quotes are exact' }),
    type: z.string().meta({ description: 'RFC 9457 problem type (`about:blank`)' }),
    title: z.string().meta({ description: 'RFC 9457: the status text' }),
    status: z.int().min(400).max(599).meta({ description: 'RFC 9457: the HTTP status' }),
    detail: z.string().meta({ description: 'RFC 9457: the message again' }),
    violations: z
      .array(z.strictObject({ propertyPath: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'validation errors (422): each violated field and why' }),
  })
  .meta({ description: 'An error: `{ code, message }` plus RFC 9457 problem-details members.' });
export type Problem = z.infer<typeof problem>;

/**
 * An id in a path, checked before anything looks it up: the ids this API hands out are
 * uuids, or order ids made of them (`<itemId>.<uuid>`, a broker's unit `<itemId>-u<n>`, at
 * most 73 characters). A longer one, or one with other characters, is a 422 naming the
 * parameter: it could never be found, and the stores refuse such keys outright (a read
 * model's document id is at most 1,024 characters: a longer one used to answer 500).
 */
export const MAX_PATH_ID_LENGTH = 128;
export const pathId = z
  .string()
  .min(1)
  .max(MAX_PATH_ID_LENGTH)
  .regex(/^[A-Za-z0-9._~-]+$/);

/** The path of one order (`…/{id}`), a trading or a plain one. */
export const orderPath = z.strictObject({
  id: pathId.meta({
    description: `the order id (letters, digits, \`.\`, \`-\`, \`_\`, \`~\`; at most ${MAX_PATH_ID_LENGTH})`,
  }),
});
