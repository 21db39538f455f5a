/**
 * One page of a forward `$all` read, after the server's AllReader.ReadAllEventsForwardInternal:
 * from `position` (inclusive), up to `maxCount` matching events among at most `maxSearchWindow`
 * considered. `nextPosition` is just past the last considered record with prepare position 0;
 * `currentPosition` is where the page began. The page reaches the end of the stream only when it
 * tried to read past the last record. A position inside a record fails (InvalidPosition).
 */
import type { EventFilter } from './filters.js';
import { comparePositions, positionAfter, positionOf, type LogPosition } from './positions.js';
import type { EventLog, RecordedEvent } from './store.js';

export class InvalidPositionError extends Error {}

export interface AllPage {
  events: RecordedEvent[];
  considered: number;
  currentPosition: LogPosition;
  nextPosition: LogPosition;
  endOfStream: boolean;
}

export function readAllPage(
  log: EventLog,
  position: LogPosition,
  maxCount: number,
  maxSearchWindow: number,
  filter: EventFilter | undefined,
): AllPage {
  const from = position.commit < 0n ? { commit: 0n, prepare: 0n } : position;
  if (from.commit < log.endPosition() && !log.isRecordBoundary(from.commit)) throw new InvalidPositionError();
  const page: AllPage = { events: [], considered: 0, currentPosition: from, nextPosition: from, endOfStream: false };
  let index = log.firstIndexAtOrAfter(from.commit);
  while (page.events.length < maxCount && page.considered < maxSearchWindow) {
    const event = log.all[index];
    if (event === undefined) {
      page.endOfStream = true;
      break;
    }
    index += 1;
    if (comparePositions(positionOf(event), from) < 0) continue;
    page.considered += 1;
    if (filter === undefined || filter.matches(event)) page.events.push(event);
    page.nextPosition = positionAfter(event);
  }
  return page;
}
