/** `?asOf=`: the point in the past a balance or a portfolio is read at. */
import * as z from 'zod';

const POSITION = /^\d{1,20}(?:-\d{1,20})?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export const asOfQuery = z.looseObject({
  asOf: z
    .string()
    .refine((text) => POSITION.test(text) || (ISO_TIME.test(text) && !Number.isNaN(Date.parse(text))), {
      message: 'This value should be an event position (`X-Event-Position`) or an ISO 8601 time with its offset.',
    })
    .optional()
    .meta({
      description:
        'read the past: as it was just after the event at this position (an `X-Event-Position`), or at this time (ISO 8601 with `Z` or an offset). In the future: 422; before the account existed: 404.',
    }),
});

/** Whether the text is a position (else it is a time). */
export const isPositionText = (text: string) => POSITION.test(text);
