/**
 * The event catalogue (docs/events.md): every event type with its fields and versions, the
 * stream it lives in and who consumes it. Fields come from the JSON Schemas generated from
 * the events' zod schemas (domain/*\/events.ts, via event-catalogue-fields.ts); streams from
 * `streamKinds` (domain/events.ts); consumers from the subscription filters of the handlers
 * the composition root wires up (every projection and process manager), matched the way the
 * event store matches them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { streamKinds, streamPattern } from '../../domain/events.js';
import { eventJsonSchemas, namedFieldTypes, schemaName } from '../event-schemas/json-schemas.js';
import type { AllFilter } from '../eventsourcing/event-store/event-store.js';
import { compileFilter } from '../sqlite/event-store/reader.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/log.js';
import { openSystem } from '../composition-root/system.js';
import { fieldsOf, namedTypeOf, type FieldDefinition, type NamedTypeDefinition } from './event-catalogue-fields.js';

/** The repository root (this file runs as `dist/infra/cli/event-catalogue.js`). */
export const repoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface Consumer {
  name: string;
  kind: 'projection' | 'process-manager';
  /** What its subscription admits, in words. */
  subscribesTo: string;
}

export interface EventVersionEntry {
  version: number;
  fields: FieldDefinition[];
  /** What changed from the version before (absent for version 1). */
  change?: string;
}

export interface CataloguedEvent {
  /** The event's type, as stored (`MoneyDeposited`). */
  type: string;
  /** `billing`, `identity`…: the folder under `domain/`. */
  module: string;
  /** Where it is declared, from the repository root. */
  file: string;
  doc: string;
  /** The version this build writes. */
  version: number;
  /** The current version's fields. */
  fields: FieldDefinition[];
  /** Every version, oldest first (the last is the current one). */
  versions: EventVersionEntry[];
  /** The stream's name with its parameters in braces, e.g. `account-{userId}`. */
  stream: string;
  consumers: Consumer[];
}

export interface EventCatalogue {
  events: CataloguedEvent[];
  namedTypes: NamedTypeDefinition[];
  streams: Array<{ pattern: string; module: string; function: string; events: string[] }>;
  consumers: Array<Consumer & { events: string[] }>;
}

interface HandlerSummary {
  name: string;
  kind?: 'projection' | 'process-manager';
  filter?: AllFilter;
}

export async function buildEventCatalogue(): Promise<EventCatalogue> {
  const handlers = await wiredHandlers();
  const schemas = eventJsonSchemas();
  const consumers = handlers.map((h) => ({
    name: h.name,
    kind: h.kind ?? 'projection',
    subscribesTo: describeFilter(h.filter),
    events: [] as string[],
  }));
  const events: CataloguedEvent[] = [];
  const streams: EventCatalogue['streams'] = [];
  for (const kind of streamKinds) {
    const stream = streamPattern(kind);
    streams.push({
      pattern: stream,
      module: kind.module,
      function: kind.functionName,
      events: kind.events.map((e) => e.type),
    });
    for (const event of kind.events) {
      const admitting = handlers.filter((h) => !h.filter || compileFilter(h.filter)(stream, event.type));
      for (const h of admitting) consumers.find((c) => c.name === h.name)!.events.push(event.type);
      const versions = event.versions.map(({ version, change }) => ({
        version,
        fields: fieldsOf(schemas[schemaName(event.type, version)]!),
        ...(change ? { change } : {}),
      }));
      events.push({
        type: event.type,
        module: kind.module,
        file: `domain/${kind.module}/events.ts`,
        doc: String(schemas[schemaName(event.type, event.version)]!.description ?? ''),
        version: event.version,
        fields: versions[versions.length - 1]!.fields,
        versions,
        stream,
        consumers: admitting.map((h) => consumers.find((c) => c.name === h.name)!).map(({ events: _, ...c }) => c),
      });
    }
  }
  const namedTypes = namedFieldTypes
    .map(({ name, file }) => namedTypeOf(name, file, schemas[name]!))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { events, namedTypes, streams, consumers };
}

/** The handlers exactly as the composition root wires them (opened on a throw-away embedded store). */
async function wiredHandlers(): Promise<HandlerSummary[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'market-catalogue-'));
  try {
    const system = await openSystem(
      loadConfig({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal' }),
      createLogger('silent', 'stderr'),
      'cli',
    );
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
  if (filter?.eventTypePrefixes?.length)
    parts.push(`types ${filter.eventTypePrefixes.map((p) => `\`${p}*\``).join(', ')}`);
  return parts.length > 0 ? parts.join(' and ') : 'every event';
}
