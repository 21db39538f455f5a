/**
 * Snapshots of an aggregate's state: its shape written as JSON, and read back with every
 * field checked, so that a snapshot of another shape, a foreign or a damaged one is refused
 * (`SnapshotShapeError`) and the stream is folded from its start instead — never a wrong state.
 *
 * `version` names the shape: change the state's fields and the version goes up, so older
 * snapshots are ignored rather than misread. `encode` is canonical (maps sorted by key), so
 * two equal states encode to equal JSON: what the property tests compare.
 */
import type { WindowMap, WindowMapJson } from './window-map.js';

export interface SnapshotCodec<State> {
  version: number;
  encode(state: State): unknown;
  /** Throws `SnapshotShapeError` for anything `encode` would not have written. */
  decode(json: unknown): State;
}

export class SnapshotShapeError extends Error {
  override readonly name = 'SnapshotShapeError';
}

function fail(path: string, expected: string): never {
  throw new SnapshotShapeError(`snapshot field ${path} is not ${expected}`);
}

/** Readers of a JSON value that check what they read. */
export const json = {
  object(value: unknown, path: string): Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : fail(path, 'an object');
  },
  array(value: unknown, path: string): unknown[] {
    return Array.isArray(value) ? value : fail(path, 'an array');
  },
  string(value: unknown, path: string): string {
    return typeof value === 'string' ? value : fail(path, 'a string');
  },
  nullableString(value: unknown, path: string): string | null {
    return value === null ? null : json.string(value, path);
  },
  number(value: unknown, path: string): number {
    return typeof value === 'number' && Number.isFinite(value) ? value : fail(path, 'a finite number');
  },
  nullableNumber(value: unknown, path: string): number | null {
    return value === null ? null : json.number(value, path);
  },
  integer(value: unknown, path: string): number {
    return Number.isSafeInteger(value) ? (value as number) : fail(path, 'a whole number');
  },
  /** A set's member marker. */
  yes(value: unknown, path: string): true {
    return value === true ? true : fail(path, 'true');
  },
  boolean(value: unknown, path: string): boolean {
    return typeof value === 'boolean' ? value : fail(path, 'true or false');
  },
  oneOf<const T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
    return (allowed as readonly unknown[]).includes(value) ? (value as T) : fail(path, `one of ${allowed.join(', ')}`);
  },
  /** `[key, value]` pairs, each value read by `read`. */
  entries<V>(value: unknown, path: string, read: (value: unknown, path: string) => V): Array<[string, V]> {
    return json.array(value, path).map((pair, i) => {
      const [key, item] = json.array(pair, `${path}[${i}]`);
      return [json.string(key, `${path}[${i}][0]`), read(item, `${path}[${i}][1]`)];
    });
  },
  /** What `WindowMap.toJSON` wrote, values read by `read`. */
  windowMap<V>(value: unknown, path: string, read: (value: unknown, path: string) => V): WindowMapJson<string, V> {
    const o = json.object(value, path);
    return {
      older: json.entries(o.older, `${path}.older`, read),
      olderHighest: json.nullableNumber(o.olderHighest, `${path}.olderHighest`),
      newer: json.entries(o.newer, `${path}.newer`, read),
      newerHighest: json.nullableNumber(o.newerHighest, `${path}.newerHighest`),
    };
  },
};

/** Map entries sorted by key: the same entries encode the same whatever order they were added in. */
export function sortedEntries<V>(entries: Iterable<[string, V]>): Array<[string, V]> {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function encodeWindowMap<V>(map: WindowMap<string, V>): WindowMapJson<string, V> {
  return map.toJSON();
}

/** -Infinity (nothing seen yet) has no JSON: written as null. */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
