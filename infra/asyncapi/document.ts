/**
 * The AsyncAPI 3.0 document of the domain events (served at `/asyncapi.json`): each kind of
 * stream is a channel (its address a pattern such as `account-{userId}`), each event type and
 * version a message whose payload is its data's schema and whose headers are its metadata —
 * correlation and causation ids, and the schema version. Generated from the same zod schemas
 * that check every append and read (event-json-schemas.ts), so it cannot drift from them.
 */
import { streamKinds, streamPattern, type StreamKind } from '../../domain/events.js';
import type { EventType } from '../../domain/event-schema.js';
import { eventJsonSchemas, SCHEMA_REF_PREFIX, schemaName, type JsonSchema } from '../event-schemas/json-schemas.js';

export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description: string };
  defaultContentType: string;
  channels: Record<string, JsonSchema>;
  operations: Record<string, JsonSchema>;
  components: {
    schemas: Record<string, JsonSchema>;
    messages: Record<string, JsonSchema>;
    correlationIds: Record<string, JsonSchema>;
  };
}

/** What each kind of stream is, in words, by the function naming it. */
const channelDescriptions: Record<string, { title: string; description: string; parameter: string }> = {
  accountStream: {
    title: 'Billing account',
    description:
      "One user's billing account: deposits, withdrawals, payments, accruals and commissions, each with the balance after it.",
    parameter: "the account's user id",
  },
  userStream: {
    title: 'User',
    description:
      'One user: registration, profile, password and role changes, signed-out tokens, sign-outs everywhere, and the deletion that forgets them. Its personal fields are stored sealed with the user’s key.',
    parameter: 'the user id',
  },
  emailStream: {
    title: 'Email claim',
    description:
      'The claim of an email address, which keeps addresses unique; released when its user is forgotten. Named by a keyed hash of the address, so no stream name carries one (builds before named it `email-{address}`: still read, never written).',
    parameter:
      'the claim key: `h1-` and the hex HMAC-SHA256 of the address (lower-cased, trimmed) under the deployment’s secret',
  },
  accessStream: {
    title: 'User access',
    description:
      'Whether one user may use the API: blocked and unblocked by administrators (who is named in each event).',
    parameter: 'the user id',
  },
  brokerStream: {
    title: 'Broker appointments',
    description: 'The one broker of the marketplace: each appointment retires the broker before.',
    parameter: 'always `marketplace`: there is one marketplace',
  },
  customerOrdersStream: {
    title: 'Plain orders',
    description: "One customer's plain orders of the ordering flow, and how each ended.",
    parameter: "the customer's user id",
  },
  marketStream: {
    title: 'Market',
    description: "One item's market: its listing, every placement, match, cancel and settlement step.",
    parameter: 'the item id',
  },
  traderOrdersStream: {
    title: "Trader's orders",
    description:
      "Every order one trader submitted (its revision is the ETag of their order lists), and the market's refusals.",
    parameter: "the trader's user id",
  },
  repairsStream: {
    title: 'Repairs',
    description:
      "The operator's decisions about the events one projection or process manager parked (`npm run cli -- parked skip`), each with its reason.",
    parameter: 'the name of the projection or process manager',
  },
  inboxStream: {
    title: 'Inbox',
    description: 'What one user did with their letters: each letter they marked read.',
    parameter: "the user's id",
  },
};

const description = `The domain events of the marketplace: every state change is one of them, appended to an event stream (EventStoreDB, or the embedded SQLite store), and every read model is built from them.

- **Channels** are the kinds of stream; a stream's name is the channel's address with its parameter filled in (\`account-{userId}\`).
- **Payload**: the event's \`data\`, a JSON object; money is a whole number of cents.
- **Headers**: the event's \`metadata\` — \`correlationId\` (the request that started the flow), \`causationId\` (the event that caused this one, when a process manager appended it), and \`schemaVersion\`, the version of the payload's shape. An event stored without one is version 1.
- **Versions**: an event type keeps every version of its shape; the marketplace writes the latest and reads the earlier ones by turning them into the latest (upcasting). The earlier versions are listed too, as messages named \`<Type>.v<N>\`, since the store still holds them.
- The event catalogue (docs/events.md) says the same, with each event's consumers.`;

let built: AsyncApiDocument | undefined;

export function eventsDescription(): AsyncApiDocument {
  built ??= buildDocument();
  return built;
}

function buildDocument(): AsyncApiDocument {
  const messages: Record<string, JsonSchema> = {};
  const channels: Record<string, JsonSchema> = {};
  const operations: Record<string, JsonSchema> = {};
  for (const kind of streamKinds) {
    const words = channelDescriptions[kind.functionName];
    if (!words) throw new Error(`no description of the channel of ${kind.functionName}`);
    const channelMessages: Record<string, JsonSchema> = {};
    for (const event of kind.events) {
      for (const { version } of event.versions) {
        const name = messageName(event, version);
        messages[name] = message(event, version);
        channelMessages[name] = { $ref: `#/components/messages/${name}` };
      }
    }
    const channel = channelName(kind);
    channels[channel] = {
      address: streamPattern(kind),
      title: words.title,
      description: words.description,
      parameters: { [kind.parameter]: { description: words.parameter } },
      messages: channelMessages,
    };
    operations[`append-${channel}`] = {
      action: 'send',
      title: `Append to a ${words.title.toLowerCase()} stream`,
      summary: `What the marketplace appends to ${streamPattern(kind)} (the current version of each event).`,
      channel: { $ref: `#/channels/${channel}` },
      messages: kind.events.map((event) => ({
        $ref: `#/channels/${channel}/messages/${messageName(event, event.version)}`,
      })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: { title: 'Marketplace domain events', version: '1.0.0', description },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      schemas: eventJsonSchemas(),
      messages,
      correlationIds: {
        request: {
          description: 'The request that started the flow; every event the flow appends carries it.',
          location: '$message.header#/correlationId',
        },
      },
    },
  };
}

/** The current version is named after the type; earlier ones `<Type>.v<N>`. */
function messageName(event: EventType, version: number): string {
  return version === event.version ? event.type : schemaName(event.type, version);
}

/** `market-{itemId}` → `market`: the stream kind's name. */
function channelName(kind: StreamKind): string {
  return streamPattern(kind).replace(/-\{[^}]+\}$/, '');
}

function message(event: EventType, version: number): JsonSchema {
  const payload = eventJsonSchemas()[schemaName(event.type, version)]!;
  const current = version === event.version;
  const change = event.versions[version - 1]?.change;
  return {
    name: event.type,
    title: current ? event.type : `${event.type}, version ${version}`,
    summary: current
      ? String(payload.description ?? event.type)
      : `Version ${version} of ${event.type}: still in the store, read as version ${event.version}.`,
    ...(change ? { description: `Version ${version}: ${change}` } : {}),
    contentType: 'application/json',
    correlationId: { $ref: '#/components/correlationIds/request' },
    headers: metadataSchema(version, version === 1),
    payload: { $ref: `${SCHEMA_REF_PREFIX}${schemaName(event.type, version)}` },
  };
}

/** The event's metadata. Version 1 events may lack `schemaVersion` (written before it was recorded). */
function metadataSchema(version: number, versionOptional: boolean): JsonSchema {
  return {
    type: 'object',
    properties: {
      correlationId: { type: 'string', description: 'the request that started the flow (its request id)' },
      causationId: {
        type: 'string',
        description: 'the id of the event that caused this one (appended by a process manager)',
      },
      schemaVersion: {
        type: 'integer',
        const: version,
        description: versionOptional
          ? "the version of the payload's shape; absent in events written before versions were recorded"
          : "the version of the payload's shape",
      },
    },
    ...(versionOptional ? {} : { required: ['schemaVersion'] }),
  };
}
