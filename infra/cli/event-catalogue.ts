/**
 * The event catalogue (docs/events.md): every event type with its fields, the stream it
 * lives in and who consumes it. Fields come from the definitions in `domain/<module>/events.ts`
 * (event-catalogue-source.ts); stream names from calling each module's stream function;
 * consumers from the subscription filters of the handlers the composition root wires up
 * (every projection and process manager), matched the way the event store matches them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AllFilter } from '../event-store/event-store.js';
import { compileFilter } from '../event-store/sqlite/reader.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log.js';
import { openSystem } from '../system.js';
import { readEventSource, type EventDefinition, type NamedTypeDefinition } from './event-catalogue-source.js';

/** The repository root (this file runs as `dist/infra/cli/event-catalogue.js`). */
export const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Which stream each group of events is appended to: a union of a module's events (or a
 * single event) → the module's function naming the stream. The code appends through these
 * functions but never states the pairing as data, so it is stated here; the catalogue
 * refuses to build while an event or a stream function is left out.
 */
export const STREAMS: ReadonlyArray<{ module: string; events: string; stream: string }> = [
  { module: 'billing', events: 'AccountEvent', stream: 'accountStream' },
  { module: 'identity', events: 'UserEvent', stream: 'userStream' },
  { module: 'identity', events: 'EmailReserved', stream: 'emailStream' },
  { module: 'ordering', events: 'CustomerOrderEvent', stream: 'customerOrdersStream' },
  { module: 'trading', events: 'MarketEvent', stream: 'marketStream' },
  { module: 'trading', events: 'TraderOrdersEvent', stream: 'traderOrdersStream' },
];

export interface Consumer {
  name: string;
  kind: 'projection' | 'process-manager';
  /** What its subscription admits, in words. */
  subscribesTo: string;
}

export interface CataloguedEvent extends EventDefinition {
  /** The stream's name with its parameters in braces, e.g. `account-{userId}`. */
  stream: string;
  consumers: Consumer[];
}

export interface EventCatalogue {
  events: CataloguedEvent[];
  namedTypes: NamedTypeDefinition[];
  streams: Array<{ pattern: string; module: string; function: string; events: string[] }>;
  consumers: Array<Consumer & { events: string[] }>;
  /** The runtime lists of event types (`accountEventTypes`…), by export name. */
  typeLists: Map<string, string[]>;
}

interface HandlerSummary {
  name: string;
  kind?: 'projection' | 'process-manager';
  filter?: AllFilter;
}

export async function buildEventCatalogue(root = repoDir): Promise<EventCatalogue> {
  const source = readEventSource(root);
  const handlers = await wiredHandlers();
  const runtime = new Map<string, Record<string, unknown>>();
  for (const module of new Set(source.events.map((e) => e.module))) {
    runtime.set(module, (await import(new URL(`../../domain/${module}/events.js`, import.meta.url).href)) as Record<string, unknown>);
  }

  const streams: EventCatalogue['streams'] = [];
  const streamOf = new Map<string, string>();
  for (const entry of STREAMS) {
    const fn = source.streamFunctions.find((f) => f.module === entry.module && f.name === entry.stream);
    const name = runtime.get(entry.module)?.[entry.stream];
    if (!fn || typeof name !== 'function') throw new Error(`STREAMS: domain/${entry.module}/events.ts exports no stream function ${entry.stream}`);
    const members = source.unions.get(entry.events) ?? source.events.filter((e) => e.module === entry.module && e.alias === entry.events).map((e) => e.type);
    if (members.length === 0) throw new Error(`STREAMS: ${entry.events} is neither an event nor a union of events of domain/${entry.module}/events.ts`);
    const pattern = String((name as (...args: string[]) => unknown)(...fn.parameters.map((p) => `{${p}}`)));
    streams.push({ pattern, module: entry.module, function: entry.stream, events: members });
    for (const type of members) {
      if (streamOf.has(type)) throw new Error(`STREAMS: ${type} is in two streams`);
      streamOf.set(type, pattern);
    }
  }
  const unplaced = source.events.filter((e) => !streamOf.has(e.type)).map((e) => e.type);
  if (unplaced.length > 0) throw new Error(`no stream for ${unplaced.join(', ')}: add it to STREAMS in infra/cli/event-catalogue.ts`);
  const unused = source.streamFunctions.filter((f) => !STREAMS.some((s) => s.module === f.module && s.stream === f.name));
  if (unused.length > 0) throw new Error(`stream functions without events: ${unused.map((f) => f.name).join(', ')}: add them to STREAMS in infra/cli/event-catalogue.ts`);

  const consumers = handlers.map((h) => ({ name: h.name, kind: h.kind ?? 'projection', subscribesTo: describeFilter(h.filter), events: [] as string[] }));
  const events = source.events.map((event): CataloguedEvent => {
    const stream = streamOf.get(event.type)!;
    const admitting = handlers.filter((h) => !h.filter || compileFilter(h.filter)(stream, event.type));
    for (const h of admitting) consumers.find((c) => c.name === h.name)!.events.push(event.type);
    return { ...event, stream, consumers: admitting.map((h) => consumers.find((c) => c.name === h.name)!).map(({ events: _, ...c }) => c) };
  });

  const typeLists = new Map<string, string[]>();
  for (const exports of runtime.values()) {
    for (const [name, value] of Object.entries(exports)) {
      if (name.endsWith('EventTypes') && Array.isArray(value)) typeLists.set(name, value.map(String));
    }
  }
  const known = new Set(events.map((e) => e.type));
  for (const [name, types] of typeLists) {
    const missing = types.filter((t) => !known.has(t));
    if (missing.length > 0) throw new Error(`${name} lists ${missing.join(', ')}, which no DomainEvent type declares`);
  }
  return { events, namedTypes: source.namedTypes, streams, consumers, typeLists };
}

/** The handlers exactly as the composition root wires them (opened on a throw-away embedded store). */
async function wiredHandlers(): Promise<HandlerSummary[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'market-catalogue-'));
  try {
    const system = await openSystem(loadConfig({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal' }), createLogger('silent', 'stderr'), 'cli');
    try {
      return system.handlers.map(({ name, kind, filter }) => ({ name, kind, filter }));
    } finally {
      await system.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function describeFilter(filter: AllFilter | undefined): string {
  const parts: string[] = [];
  if (filter?.streamPrefixes?.length) parts.push(`streams ${filter.streamPrefixes.map((p) => `\`${p}*\``).join(', ')}`);
  if (filter?.eventTypePrefixes?.length) parts.push(`types ${filter.eventTypePrefixes.map((p) => `\`${p}*\``).join(', ')}`);
  return parts.length > 0 ? parts.join(' and ') : 'every event';
}
