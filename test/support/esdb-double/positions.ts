/**
 * `$all` positions, compared as the server's TFPos: (commit, prepare), commit first.
 * Events are stored with commit = prepare = their record's offset.
 */
import type { EventLog, RecordedEvent } from './store.js';

export interface LogPosition {
  commit: bigint;
  prepare: bigint;
}

export function comparePositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

const at = (offset: bigint): LogPosition => ({ commit: offset, prepare: offset });

/** Forward reads include an event exactly at `from`: index of the first event at or after it. */
export function firstIndexFrom(log: EventLog, from: LogPosition): number {
  let index = log.firstIndexAtOrAfter(from.commit);
  while (index < log.all.length && comparePositions(at(log.all[index]!.position), from) < 0) index += 1;
  return index;
}

/**
 * Backward reads return only records that end at or before `from` (the server reads the
 * records *preceding* the position), so an event exactly at `from` is not included.
 * Returns the index of the last such event, or -1.
 */
export function lastIndexBefore(log: EventLog, from: LogPosition): number {
  let index = log.firstIndexAtOrAfter(from.commit) - 1;
  while (index >= 0 && comparePositions(at(log.all[index]!.postPosition), from) > 0) index -= 1;
  return index;
}

export function positionOf(event: RecordedEvent): LogPosition {
  return at(event.position);
}

/** Where a forward read resumes after this event: the next record, prepare position 0 (AllReader). */
export function positionAfter(event: RecordedEvent): LogPosition {
  return { commit: event.postPosition, prepare: 0n };
}

/** TFPos.HeadOfTf: "before everything", what a subscription from the start begins at. */
export const HEAD_OF_LOG: LogPosition = { commit: -1n, prepare: -1n };
