/**
 * How far behind each projection and process manager is, how many events it parked, and
 * whether it is being rebuilt: what `/metrics` exports and `/ready` judges.
 *
 * Everything comes from what this thread can see: the runners it follows (its own, or the
 * stand-ins of the projector thread's, which report every advance), and otherwise the
 * stores every process shares — the stored checkpoint, the parked events, the leases (a
 * rebuild holds its lease under a `rebuild:` name, whichever process runs it).
 */
import type { EventHandler } from '../eventsourcing/subscriptions/event-handler.js';
import type { AllFilter, EventStore, RecordedEvent } from '../eventsourcing/event-store/event-store.js';
import { comparePositions, type Position } from '../eventsourcing/event-store/position.js';
import type { ReadStore } from '../eventsourcing/read-store/read-store.js';
import type { FollowedRunner } from '../eventsourcing/subscriptions/consistency.js';
import type { LeaseStore } from '../eventsourcing/subscriptions/leases.js';
import { isRebuilder, type RunnerState } from '../eventsourcing/subscriptions/runner.js';

export interface SubscriptionReport {
  name: string;
  kind: 'projection' | 'process-manager';
  /** Events it reads that it has yet to handle (counted up to the sources' limit). */
  lagEvents: number;
  /** Age of the oldest of those events, in seconds; 0 when caught up. */
  lagSeconds: number;
  parked: number;
  rebuilding: boolean;
  /**
   * What its runner is waiting out (a storage or connection fault, or a handler's failure
   * before it is parked), as the runner's last error; null while it moves on. Known only for
   * runners this thread follows (its own, the projector thread's).
   */
  retrying: string | null;
}

export interface HealthSources {
  eventStore: EventStore;
  readStore: ReadStore;
  leases: LeaseStore;
  handlers: EventHandler[];
  /** The runners this thread follows now (they change when the projections start). */
  runners(): readonly FollowedRunner[];
  now?: () => number;
  /** Counting stops here (counting reads the events): a lag beyond it shows as this (default 10,000). */
  lagCountLimit?: number;
}

const PAGE = 1000;
const DEFAULT_LAG_COUNT_LIMIT = 10_000;

/** A runner in one of these states is the one moving the view, so its position is the freshest there is. */
const WORKING: ReadonlySet<RunnerState> = new Set(['catching-up', 'live', 'retrying']);

export class SubscriptionHealth {
  private pending: Promise<SubscriptionReport[]> | null = null;

  constructor(private readonly sources: HealthSources) {}

  /** One report at a time: callers arriving while one is being made share it (a scrape asks four times). */
  report(): Promise<SubscriptionReport[]> {
    this.pending ??= this.measure().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async measure(): Promise<SubscriptionReport[]> {
    const { eventStore, readStore, leases, handlers } = this.sources;
    const now = (this.sources.now ?? Date.now)();
    const [head, leaseList, parked] = await Promise.all([
      eventStore.headPosition(),
      leases.list(),
      readStore.listParked(),
    ]);
    const leaseOf = new Map(leaseList.map((l) => [l.name, l]));
    const runners = this.sources.runners();
    return Promise.all(
      handlers.map(async (handler): Promise<SubscriptionReport> => {
        const status = runners.find((r) => r.handler.name === handler.name)?.status();
        const position = await this.positionOf(handler.name, runners);
        const lag = await this.lagOf(handler.filter, position, head);
        const lease = leaseOf.get(handler.name);
        return {
          name: handler.name,
          kind: handler.kind ?? 'projection',
          lagEvents: lag.events,
          lagSeconds: lag.oldest ? Math.max(0, (now - lag.oldest.created.getTime()) / 1000) : 0,
          parked: parked.filter((p) => p.projection === handler.name).length,
          rebuilding: isRebuilder(lease?.holder) || isRebuilder(lease?.handoverTo),
          retrying: status?.state === 'retrying' ? (status.lastError ?? 'a failure') : null,
        };
      }),
    );
  }

  /** Where the handler is: its working runner's position, else its stored checkpoint (another process runs it). */
  private async positionOf(name: string, runners: readonly FollowedRunner[]): Promise<Position | null> {
    const status = runners.find((r) => r.handler.name === name)?.status();
    if (status && WORKING.has(status.state)) return status.position;
    return (await this.sources.readStore.getCheckpoint(name)).position;
  }

  /** The events after `from` that pass `filter`, counted up to the limit, and the first of them. */
  private async lagOf(
    filter: AllFilter | undefined,
    from: Position | null,
    head: Position | null,
  ): Promise<{ events: number; oldest: RecordedEvent | null }> {
    if (!head || (from && comparePositions(from, head) >= 0)) return { events: 0, oldest: null };
    const limit = this.sources.lagCountLimit ?? DEFAULT_LAG_COUNT_LIMIT;
    let events = 0;
    let oldest: RecordedEvent | null = null;
    let after = from;
    for (;;) {
      const page = await this.sources.eventStore.readAll({ fromPosition: after ?? 'start', maxCount: PAGE, filter });
      // A read includes the event at its starting position, which was handled already.
      const pending = page.filter((e) => !after || comparePositions(e.position, after) > 0);
      oldest ??= pending[0] ?? null;
      events += pending.length;
      const last = page[page.length - 1];
      if (page.length < PAGE || !last || events >= limit) return { events: Math.min(events, limit), oldest };
      after = last.position;
    }
  }
}
