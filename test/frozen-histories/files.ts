/** The files of a frozen history (see README.md here): their shapes, reading them, and reading read models the same way. */
import Database from 'better-sqlite3';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CollectionSpec } from '../../infra/eventsourcing/read-store/read-store.js';
import { storageName } from '../../infra/eventsourcing/read-store/catalog.js';

/** One event of a frozen history, as a line of `events.jsonl`. */
export interface FrozenEvent {
  position: string;
  streamId: string;
  revision: number;
  id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  created: string;
}

/** What reading the history must refuse: an event parked by the named projections, a stream no command can load. */
export interface FrozenFaults {
  parked: Array<{
    projection: string;
    eventId: string;
    eventType: string;
    streamId: string;
    position: string;
    errorIncludes: string[];
  }>;
  unreadableStreams: Array<{ streamId: string; errorIncludes: string[] }>;
}

/** A stream's state as its decider folded it, in the snapshot codec's encoding (of `codecVersion`). */
export interface FrozenState {
  aggregate: string;
  codecVersion: number;
  state: unknown;
}

export interface FrozenHistory {
  name: string;
  events: FrozenEvent[];
  /** Collection → id → document. */
  readModels: Record<string, Record<string, unknown>>;
  states: Record<string, FrozenState>;
  faults: FrozenFaults;
}

export const HISTORIES_DIR = 'test/frozen-histories';

/** Every recorded history under `dir`, oldest first (folders are numbered). */
export function readHistories(dir: string): FrozenHistory[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const file = (f: string) => readFileSync(join(dir, name, f), 'utf8');
      return {
        name,
        events: file('events.jsonl')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as FrozenEvent),
        readModels: JSON.parse(file('read-models.json')) as FrozenHistory['readModels'],
        states: JSON.parse(file('states.json')) as FrozenHistory['states'],
        faults: JSON.parse(file('faults.json')) as FrozenFaults,
      };
    });
}

/** Every document of these collections of an embedded read store, by collection and id. */
export function dumpReadModels(file: string, collections: CollectionSpec[]): Record<string, Record<string, unknown>> {
  const db = new Database(file, { readonly: true });
  try {
    const dump: Record<string, Record<string, unknown>> = {};
    for (const { name } of collections) {
      const rows = db
        .prepare<[], { id: string; doc: string }>(`SELECT id, doc FROM ${storageName(name)} ORDER BY id`)
        .all();
      dump[name] = Object.fromEntries(rows.map((r) => [r.id, JSON.parse(r.doc) as unknown]));
    }
    return dump;
  } finally {
    db.close();
  }
}
