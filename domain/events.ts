/**
 * Every event of the system, by the stream it is appended to: what the event store checks
 * appends against and upcasts reads with, and what the event catalogue (docs/events.md) and
 * the AsyncAPI document (`/asyncapi.json`) describe.
 */
import { accountEvents, accountStream } from './billing/events.js';
import { EventRegistry, type EventType } from './event-schema.js';
import { emailEvents, emailStream, userEvents, userStream } from './identity/events.js';
import { accessEvents, accessStream, brokerEvents, brokerStream } from './identity/admin-events.js';
import { repairEvents, repairsStream } from './operations/events.js';
import { inboxEvents, inboxStream } from './notifications/events.js';
import { customerOrderEvents, customerOrdersStream } from './ordering/events.js';
import { marketEvents, marketStream, traderOrdersEvents, traderOrdersStream } from './trading/events.js';

export interface StreamKind {
  /** The business module declaring it: the folder under `domain/`. */
  module: string;
  /** The function naming its streams, and the name of its parameter. */
  name: (key: string) => string;
  functionName: string;
  parameter: string;
  events: readonly EventType[];
}

export const streamKinds: readonly StreamKind[] = [
  { module: 'billing', name: accountStream, functionName: 'accountStream', parameter: 'userId', events: accountEvents },
  { module: 'identity', name: userStream, functionName: 'userStream', parameter: 'userId', events: userEvents },
  { module: 'identity', name: emailStream, functionName: 'emailStream', parameter: 'claimKey', events: emailEvents },
  { module: 'identity', name: accessStream, functionName: 'accessStream', parameter: 'userId', events: accessEvents },
  {
    module: 'identity',
    name: brokerStream,
    functionName: 'brokerStream',
    parameter: 'marketplace',
    events: brokerEvents,
  },
  {
    module: 'ordering',
    name: customerOrdersStream,
    functionName: 'customerOrdersStream',
    parameter: 'userId',
    events: customerOrderEvents,
  },
  { module: 'trading', name: marketStream, functionName: 'marketStream', parameter: 'itemId', events: marketEvents },
  {
    module: 'trading',
    name: traderOrdersStream,
    functionName: 'traderOrdersStream',
    parameter: 'userId',
    events: traderOrdersEvents,
  },
  {
    module: 'operations',
    name: repairsStream,
    functionName: 'repairsStream',
    parameter: 'subscription',
    events: repairEvents,
  },
  { module: 'notifications', name: inboxStream, functionName: 'inboxStream', parameter: 'userId', events: inboxEvents },
];

/** The address pattern of a stream kind, e.g. `account-{userId}`. */
export function streamPattern(kind: StreamKind): string {
  return kind.name(`{${kind.parameter}}`);
}

export const domainEvents = new EventRegistry(streamKinds.flatMap((kind) => kind.events));
