/** `?asOf=`: the point in the past a balance or a portfolio is read at. */
import * as z from 'zod';

const POSITION = /^\d{1,20}(?:-\d{1,20})?$/;
const ISO_TIME =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

export const asOfQuery = z.looseObject({
  asOf: z
    .string()
    .refine((text) => POSITION.test(text) || (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text))), {
      message: 'This value should be an event position (`X-Event-Position`) or an ISO 8601 time with its offset.',
    })
    .optional()
    .meta({
      // The refinement above, as the document can say it: a position or a time.
      pattern: `^(?:${POSITION.source.slice(1, -1)}|${ISO_TIME.source.slice(1, -1)})$`,
      description:
        'read the past: as it was just after the event at this position (an `X-Event-Position`), or at this time (ISO 8601 with `Z` or an offset). In the future: 422; before the account existed: 404.',
    }),
});

/** Whether the text is a position (else it is a time). */
export const isPositionText = (text: string) => POSITION.test(text);
