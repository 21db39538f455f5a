/**
 * Stream metadata as the server's index reader applies it (IndexReader.GetStreamMetadata and
 * the stream reads; StreamMetadata.FromJsonBytes): the last event of `$$<stream>` holds JSON
 * whose `$maxCount`, `$maxAge` (seconds) and `$tb` (truncate before) make older events of the
 * stream unreadable by stream reads; `$all` keeps them until a scavenge. Metadata that does not
 * parse counts as none (the server eats the exception). A metastream's own metadata is fixed:
 * `$maxCount: 1` (only its last event is readable).
 */
import type { RecordedEvent } from './store.js';

export interface StreamMetadata {
  maxCount?: number;
  maxAgeSeconds?: number;
  truncateBefore?: number;
}

/** What the double models; any other `$`-key is a server feature it does not reproduce. */
const MODELLED_KEYS = new Set(['$maxCount', '$maxAge', '$tb', '$cacheControl']);

export const isMetastream = (streamId: string): boolean => streamId.startsWith('$$');

/** Why metadata written to a metastream cannot be modelled (an ACL, for one), or undefined. */
export function unmodelledMetadata(data: Uint8Array): string | undefined {
  const parsed = parseJson(data);
  if (parsed === undefined) return undefined;
  const unknown = Object.keys(parsed).filter((key) => key.startsWith('$') && !MODELLED_KEYS.has(key));
  return unknown.length > 0 ? `stream metadata ${unknown.join(', ')} is not modelled by the double` : undefined;
}

export function parseStreamMetadata(data: Uint8Array): StreamMetadata {
  const parsed = parseJson(data);
  if (parsed === undefined) return {};
  const maxCount = positiveInteger(parsed.$maxCount);
  const maxAgeSeconds = positiveInteger(parsed.$maxAge);
  const truncateBefore = nonNegativeInteger(parsed.$tb);
  // The server's StreamMetadata constructor throws on an out-of-range value; the whole
  // metadata then counts as empty.
  if (maxCount === null || maxAgeSeconds === null || truncateBefore === null) return {};
  return { maxCount, maxAgeSeconds, truncateBefore };
}

/**
 * The events a stream read may return, oldest first: the last `$maxCount`, none before
 * `$tb`, none older than `$maxAge`. Revisions are untouched: they keep counting.
 */
export function readableEvents(
  events: readonly RecordedEvent[],
  metadata: StreamMetadata,
  nowMs: number,
): RecordedEvent[] {
  const last = events.length - 1;
  let first = 0;
  if (metadata.maxCount !== undefined) first = Math.max(first, last - metadata.maxCount + 1);
  if (metadata.truncateBefore !== undefined) first = Math.max(first, metadata.truncateBefore);
  const readable = events.slice(first);
  if (metadata.maxAgeSeconds === undefined) return readable;
  const oldestTicks = BigInt(nowMs - metadata.maxAgeSeconds * 1000) * 10_000n;
  return readable.filter((event) => event.created >= oldestTicks);
}

function parseJson(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** undefined: absent; null: present but invalid. */
function positiveInteger(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : null;
}

function nonNegativeInteger(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : null;
}
