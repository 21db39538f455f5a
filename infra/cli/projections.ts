import type { EventHandler } from '../eventsourcing/subscriptions/event-handler.js';
import type { EventStore } from '../eventsourcing/event-store/event-store.js';
import { formatPosition, type Position } from '../eventsourcing/event-store/position.js';
import type { ReadStore } from '../eventsourcing/read-store/read-store.js';
import type { LeaseStore } from '../eventsourcing/subscriptions/leases.js';
import type { ProjectionRunner } from '../eventsourcing/subscriptions/runner.js';
import { ProgressReporter } from './progress.js';

export interface ProjectionRow {
  name: string;
  checkpoint: string;
  lag: string;
  parked: number;
  runBy: string;
}

/** Counting stops here: past it the lag is shown as "≥ N" (counting reads every event). */
const LAG_COUNT_LIMIT = 1_000_000;

/** Events after `from` that the handler would read: the projection's lag, in events. */
export async function countLag(eventStore: EventStore, handler: EventHandler, from: Position | null): Promise<string> {
  let count = 0;
  let cursor: Position | 'start' = from ?? 'start';
  for (;;) {
    const page = await eventStore.readAll({ fromPosition: cursor, maxCount: 5000, filter: handler.filter });
    // Reads include their starting position; the checkpoint event itself was handled already.
    const fresh =
      from && cursor !== 'start' && page[0] && formatPosition(page[0].position) === formatPosition(cursor)
        ? page.slice(1)
        : page;
    count += fresh.length;
    if (page.length < 5000 || count >= LAG_COUNT_LIMIT)
      return count >= LAG_COUNT_LIMIT ? `≥ ${count.toLocaleString('en-US')}` : count.toLocaleString('en-US');
    cursor = page[page.length - 1]!.position;
    from = cursor;
  }
}

export async function projectionStatus(
  handlers: EventHandler[],
  stores: { eventStore: EventStore; readStore: ReadStore; leases: LeaseStore },
): Promise<{ rows: ProjectionRow[]; parked: string[] }> {
  const leases = new Map((await stores.leases.list()).map((l) => [l.name, l]));
  const parkedEvents = await stores.readStore.listParked();
  const rows: ProjectionRow[] = [];
  for (const handler of handlers) {
    const checkpoint = await stores.readStore.getCheckpoint(handler.name);
    const lease = leases.get(handler.name);
    rows.push({
      name: handler.name,
      checkpoint: checkpoint.position ? formatPosition(checkpoint.position) : 'none',
      lag: await countLag(stores.eventStore, handler, checkpoint.position),
      parked: parkedEvents.filter((p) => p.projection === handler.name).length,
      runBy: lease?.handoverTo
        ? `${lease.holder ?? 'nobody'} (handing over to ${lease.handoverTo})`
        : (lease?.holder ?? 'nobody'),
    });
  }
  const parked = parkedEvents.map(
    (p) =>
      `${p.projection}: ${p.eventType} ${p.eventId} in ${p.streamId} at ${formatPosition(p.position)}, ${p.attempts} tries, parked ${p.parkedAt.toISOString()}: ${p.error}`,
  );
  return { rows, parked };
}

export function formatTable(rows: ProjectionRow[]): string {
  const header: ProjectionRow = {
    name: 'PROJECTION',
    checkpoint: 'CHECKPOINT',
    lag: 'LAG (events)',
    parked: 0,
    runBy: 'RUN BY',
  };
  const cells = [header, ...rows].map((r, i) => [
    r.name,
    r.checkpoint,
    r.lag,
    i === 0 ? 'PARKED' : String(r.parked),
    r.runBy,
  ]);
  const widths = cells[0]!.map((_, col) => Math.max(...cells.map((row) => row[col]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Replays one projection from scratch, showing progress against the head of `$all`. */
export async function rebuild(
  runner: ProjectionRunner,
  eventStore: EventStore,
  stream?: NodeJS.WriteStream,
): Promise<number> {
  const head = await eventStore.headPosition();
  const progress = new ProgressReporter({ label: runner.handler.name, total: head ? Number(head.commit) : 0, stream });
  let events = 0;
  await runner.rebuild((p) => {
    events = p.events;
    progress.update(p.position ? Number(p.position.commit) : 0, p.events);
  });
  progress.finish(events);
  return events;
}
