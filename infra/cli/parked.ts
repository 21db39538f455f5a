/**
 * `npm run cli -- parked …`: the events projections and process managers parked, and the
 * operator's two ways out — try it again, or skip it for good with a reason kept in the log.
 *
 * - A process manager's event is handled again here, by the same handler (its commands are
 *   harmless when repeated), on the redelivery floor its runner would give; once that
 *   succeeds it is unparked and the process (the deal, the order) continues from the events
 *   the step appended, followed live by the running server.
 * - A read model cannot take one old event out of order (its documents moved on since), so
 *   retrying a projection's parked event rebuilds that projection: every event replayed in
 *   order, the parked ones included.
 * - Skipping records `ParkedEventSkipped` (domain/operations) in the handler's repairs stream,
 *   then unparks the event.
 */
import { repairCommands } from '../../command-handlers/commands.js';
import type { CommandEnvironment } from '../eventsourcing/command-handling/handle-command.js';
import type { EventStore, RecordedEvent } from '../eventsourcing/event-store/event-store.js';
import { comparePositions, formatPosition, type Position } from '../eventsourcing/event-store/position.js';
import type { ParkedEvent, ReadStore } from '../eventsourcing/read-store/read-store.js';
import type { EventHandler } from '../eventsourcing/subscriptions/event-handler.js';
import { errorMessage } from '../eventsourcing/subscriptions/runner-status.js';
import { UsageError } from './usage-error.js';

export interface ParkedTools {
  eventStore: EventStore;
  readStore: ReadStore;
  handlers: EventHandler[];
  /** What the skip's command runs with (the system's services). */
  services: CommandEnvironment & { now(): Date };
}

/** A parked event as the operator names it: `<projection>/<event id>`. */
export function parkedId(parked: Pick<ParkedEvent, 'projection' | 'eventId'>): string {
  return `${parked.projection}/${parked.eventId}`;
}

export interface ParkedRow {
  id: string;
  eventType: string;
  streamId: string;
  position: string;
  attempts: number;
  parkedAt: string;
  /** A process manager's: the instance (deal, order) that stopped at this event. */
  stuck: string;
  error: string;
}

/** The parked events, of one handler or all, each with what it holds up. */
export async function listParkedEvents(tools: ParkedTools, name?: string): Promise<ParkedRow[]> {
  if (name !== undefined) handlerNamed(tools, name);
  const parked = await tools.readStore.listParked(name);
  return Promise.all(
    parked.map(async (p) => ({
      id: parkedId(p),
      eventType: p.eventType,
      streamId: p.streamId,
      position: formatPosition(p.position),
      attempts: p.attempts,
      parkedAt: p.parkedAt.toISOString(),
      stuck: await stuckInstance(tools, p),
      error: p.error,
    })),
  );
}

export function formatParked(rows: ParkedRow[]): string {
  if (rows.length === 0) return 'no parked events';
  return rows
    .map((r) =>
      [
        r.id,
        `  ${r.eventType} in ${r.streamId} at ${r.position}, ${r.attempts} tries, parked ${r.parkedAt}`,
        ...(r.stuck ? [`  stuck: ${r.stuck}`] : []),
        `  error: ${r.error}`,
      ].join('\n'),
    )
    .join('\n');
}

/** The parked events `target` names: `--all`, `<projection>/<event id>`, or an event id (every handler that parked it). */
export async function parkedTargets(tools: ParkedTools, target: string): Promise<ParkedEvent[]> {
  const parked = await tools.readStore.listParked();
  if (target === '--all') return parked;
  const found = parked.filter((p) => parkedId(p) === target || p.eventId === target);
  if (found.length === 0) throw new UsageError(`no parked event "${target}" (npm run cli -- parked list)`);
  return found;
}

export interface RetryOutcome {
  id: string;
  ok: boolean;
  what: string;
}

/**
 * Hands each of a process manager's parked events to its handler again: unparked when it
 * succeeds, parked again with the new error (one more try) when not. Projections are
 * returned apart: they are retried by a rebuild (the caller's, with its progress output).
 */
export async function retryProcessSteps(
  tools: ParkedTools,
  targets: ParkedEvent[],
): Promise<{ outcomes: RetryOutcome[]; projections: string[] }> {
  const outcomes: RetryOutcome[] = [];
  const projections = new Set<string>();
  for (const parked of targets) {
    const handler = handlerNamed(tools, parked.projection);
    if (handler.kind !== 'process-manager') {
      projections.add(handler.name);
      continue;
    }
    outcomes.push(await retryStep(tools, handler, parked));
  }
  return { outcomes, projections: [...projections] };
}

async function retryStep(tools: ParkedTools, handler: EventHandler, parked: ParkedEvent): Promise<RetryOutcome> {
  const id = parkedId(parked);
  try {
    const event = await parkedEvent(tools.eventStore, parked);
    if (event.unreadable !== undefined) throw new Error(`the event cannot be read: ${event.unreadable}`);
    await handler.handle(event, { get: async () => null }, { redeliveryFloor: await redeliveryFloor(tools, handler) });
    await tools.readStore.unpark(parked.projection, parked.eventId);
    return { id, ok: true, what: 'handled, unparked' };
  } catch (error) {
    await tools.readStore.park({ ...parked, error: errorMessage(error), attempts: parked.attempts + 1 });
    return { id, ok: false, what: `failed again, still parked: ${errorMessage(error)}` };
  }
}

/** Records the operator's decision to skip each event for good, then unparks it. */
export async function skipParked(
  tools: ParkedTools,
  targets: ParkedEvent[],
  reason: string,
  by: string = 'cli',
): Promise<RetryOutcome[]> {
  const outcomes: RetryOutcome[] = [];
  for (const parked of targets) {
    handlerNamed(tools, parked.projection);
    await repairCommands.handle(tools.services, {
      type: 'SkipParkedEvent',
      subscription: parked.projection,
      eventId: parked.eventId,
      eventType: parked.eventType,
      streamId: parked.streamId,
      position: formatPosition(parked.position),
      error: parked.error,
      reason,
      by,
      at: tools.services.now().toISOString(),
    });
    await tools.readStore.unpark(parked.projection, parked.eventId);
    outcomes.push({ id: parkedId(parked), ok: true, what: `skipped: ${reason}` });
  }
  return outcomes;
}

function handlerNamed(tools: ParkedTools, name: string): EventHandler {
  const handler = tools.handlers.find((h) => h.name === name);
  if (!handler) {
    throw new UsageError(
      `unknown projection or process manager "${name}"; known: ${tools.handlers.map((h) => h.name).join(', ')}`,
    );
  }
  return handler;
}

/** The parked event itself, read at its position in `$all` (reads include their starting position). */
async function parkedEvent(eventStore: EventStore, parked: ParkedEvent): Promise<RecordedEvent> {
  const [event] = await eventStore.readAll({ fromPosition: parked.position, maxCount: 1 });
  if (!event || event.id !== parked.eventId) {
    throw new Error(`event ${parked.eventId} is not at ${formatPosition(parked.position)} in $all`);
  }
  return event;
}

/** A process manager's instance that stopped at a parked event ("" for a projection, or an event no longer readable). */
async function stuckInstance(tools: ParkedTools, parked: ParkedEvent): Promise<string> {
  const handler = tools.handlers.find((h) => h.name === parked.projection);
  if (handler?.kind !== 'process-manager' || !handler.partitionKey) return '';
  try {
    const event = await parkedEvent(tools.eventStore, parked);
    return event.unreadable === undefined ? `${handler.name} ${handler.partitionKey(event)}` : '';
  } catch {
    return '';
  }
}

/** What the handler's runner gives as its floor: its stored checkpoint, held back by its oldest parked event. */
async function redeliveryFloor(tools: ParkedTools, handler: EventHandler): Promise<number> {
  const stored = (await tools.readStore.getCheckpoint(handler.name)).position;
  const parked = (await tools.readStore.listParked(handler.name)).map((p) => p.position);
  const floor = [stored, ...parked]
    .filter((p): p is Position => p !== null)
    .reduce<Position | null>((low, p) => (low && comparePositions(low, p) <= 0 ? low : p), null);
  return floor ? Number(floor.commit) : -1;
}
