import { messages } from '../../domain/messages.js';

/** Texts the HTTP layer answers with; the ones quoted by the specification are exact. */
export const httpMessages = {
  notFound: messages.notFound,
  operationDenied: messages.operationDenied,
  missingIfMatch: 'Missing If-Match header',
  stateChanged: 'State of resource has changed',
  idempotencyKeyReused: 'Idempotency key reused with a different request',
  idempotencyKeyInvalid: 'Idempotency-Key must be 1 to 255 visible characters',
  unauthorized: 'Unauthorized: a valid access token is required',
  tokenRevoked: 'Unauthorized: the access token was signed out',
  userBlocked: 'Unauthorized: the user is blocked',
  conflict: 'The resource changed while the request was processed; retry',
  notCaughtUp: 'The read models have not caught up with the given position yet; retry',
  invalidPosition: 'Invalid event position',
  invalidCursor: 'Invalid cursor',
  invalidLimit: "violation at 'limit': This value should be between 1 and 500.",
  malformedJson: 'Malformed JSON body',
  notJson: 'Unsupported Content-Type: send the body as application/json',
  nestedTooDeeply: 'The JSON body is nested too deeply',
  bodyTooLarge: 'Request body too large (limit 1 MB)',
  headersTooLarge: 'Request headers too large (limit 16 KB)',
  badRequest: 'Malformed HTTP request',
  storeUnavailable: 'The service is temporarily unavailable; retry',
  internal: 'Internal server error',
  tooManyRequests: 'Too many requests; retry after the number of seconds in Retry-After',
  hashingBusy: 'Too many sign-ins and registrations at once; retry',
  streamBusy: 'Too many commands are waiting for the same resource; retry',
  tooManyWaits: 'Too many queries are waiting for their writes to be read; retry',
  positionAhead: 'The event position is past the end of the event store',
  asOfInvalid:
    "violation at 'asOf': This value should be an event position (`X-Event-Position`) or an ISO 8601 time with its offset.",
  // Not a violation of the parameter's form: a well-formed point that has not happened yet.
  asOfInFuture: 'The point asked for (asOf) is in the future: it has not happened yet',
  asOfBeforeAccount: 'The account did not exist yet at that point',
  ticketInvalid: 'Unauthorized: the stream ticket is unknown, expired or used',
} as const;
