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
  conflict: 'The resource changed while the request was processed; retry',
  notCaughtUp: 'The read models have not caught up with the given position yet; retry',
  invalidPosition: 'Invalid event position',
  invalidCursor: 'Invalid cursor',
  invalidLimit: "violation at 'limit': This value should be between 1 and 500.",
  malformedJson: 'Malformed JSON body',
  notJson: 'Unsupported Content-Type: send the body as application/json',
  nestedTooDeeply: 'The JSON body is nested too deeply',
  bodyTooLarge: 'Request body too large (limit 1 MB)',
  storeUnavailable: 'The service is temporarily unavailable; retry',
  internal: 'Internal server error',
  asOfInvalid:
    "violation at 'asOf': This value should be an event position (`X-Event-Position`) or an ISO 8601 time with its offset.",
  asOfInFuture: "violation at 'asOf': This point is in the future: it has not happened yet.",
  asOfBeforeAccount: 'The account did not exist yet at that point',
  ticketInvalid: 'Unauthorized: the stream ticket is unknown, expired or used',
} as const;
