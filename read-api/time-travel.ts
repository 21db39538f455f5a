/**
 * The past on demand: a balance and a portfolio as they were at a point of the log (a
 * position) or at a time.
 *
 * - **The balance** is folded from the event store: every event of an account that moves
 *   money carries the balance after it, so the account's state at a point is its last such
 *   event at or before the point. That event is found by bisecting the account's stream by
 *   revision (one event read per step: about log2(n) reads for n events), then reading back
 *   over any refusals (a declined payment carries no balance) to the last balance.
 * - **The portfolio** is each holding's latest version at or before the point
 *   (`projections/portfolio-history.ts`): one indexed read per item the trader ever held.
 *
 * A point before the account's first event is refused (there was nothing then), and so is a
 * point in the future (not known yet): the routes answer those with 404 and 422.
 */
import type { EventStore, RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { comparePositions, sortablePosition, type Position } from '../infra/eventsourcing/event-store/position.js';
import type { ReadStore } from '../infra/eventsourcing/read-store/read-store.js';
import { holdingHeads, holdingVersions } from '../projections/read-models/portfolio-history.js';

export type AsOf = { position: Position } | { time: Date };

export type PastOutcome<T> =
  | { status: 'found'; value: T; eventsRead: number }
  | { status: 'before-account' }
  | { status: 'future' };

export interface PastAccount {
  amount: number;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

/** Events read back from the point at once while looking for the last balance. */
const BACK_PAGE = 4;

const atOf = (e: RecordedEvent) => (e.data as { at: string }).at;

function notAfter(asOf: AsOf): (e: RecordedEvent) => boolean {
  return 'position' in asOf
    ? (e) => comparePositions(e.position, asOf.position) <= 0
    : (e) => Date.parse(atOf(e)) <= asOf.time.getTime();
}

/** Whether the point is past what the store holds (a position) or past now (a time). */
export async function isFuture(eventStore: EventStore, asOf: AsOf, now: Date): Promise<boolean> {
  if ('time' in asOf) return asOf.time.getTime() > now.getTime();
  const head = await eventStore.headPosition();
  return head === null || comparePositions(asOf.position, head) > 0;
}

/** The account of `stream` as it was at the point. */
export async function accountAsOf(
  eventStore: EventStore,
  stream: string,
  asOf: AsOf,
  now: Date,
): Promise<PastOutcome<PastAccount>> {
  if (await isFuture(eventStore, asOf, now)) return { status: 'future' };
  let reads = 0;
  const at = async (revision: number | 'end'): Promise<RecordedEvent | null> => {
    const direction = revision === 'end' ? 'backwards' : 'forwards';
    const found = await eventStore.readStream(stream, { fromRevision: revision, maxCount: 1, direction });
    reads++;
    return found.status === 'found' ? (found.events[0] ?? null) : null;
  };
  const inTime = notAfter(asOf);
  const first = await at(0);
  if (!first || !inTime(first)) return { status: 'before-account' };
  const last = (await at('end'))!;
  let lo = first;
  if (inTime(last)) lo = last;
  else {
    // Invariant: the event at lo is at or before the point, the one at hi after it.
    let hi = last.revision;
    while (hi - lo.revision > 1) {
      const mid = (await at(Math.floor((lo.revision + hi) / 2)))!;
      if (inTime(mid)) lo = mid;
      else hi = mid.revision;
    }
  }
  const balance = await lastBalance(eventStore, stream, lo);
  return {
    status: 'found',
    value: { amount: balance.amount, createdAt: atOf(first), updatedAt: atOf(lo), revision: lo.revision },
    eventsRead: reads + balance.eventsRead,
  };
}

/** The balance after `from`: its own, or that of the latest event before it that has one (0 at the opening). */
async function lastBalance(
  eventStore: EventStore,
  stream: string,
  from: RecordedEvent,
): Promise<{ amount: number; eventsRead: number }> {
  const own = (from.data as { balance?: number }).balance;
  if (typeof own === 'number' || from.revision === 0) return { amount: own ?? 0, eventsRead: 0 };
  let eventsRead = 0;
  let revision = from.revision - 1;
  while (revision >= 0) {
    const page = await eventStore.readStream(stream, {
      fromRevision: revision,
      maxCount: BACK_PAGE,
      direction: 'backwards',
    });
    if (page.status !== 'found' || page.events.length === 0) break;
    for (const event of page.events) {
      eventsRead++;
      const balance = (event.data as { balance?: number }).balance;
      if (typeof balance === 'number') return { amount: balance, eventsRead };
    }
    revision = page.events[page.events.length - 1]!.revision - 1;
  }
  return { amount: 0, eventsRead };
}

export interface PastHolding {
  id: string;
  name: string;
  count: number;
  onSaleCount: number;
}

/** The trader's holdings at the point, by name: each item's latest version at or before it. */
export async function portfolioAsOf(readStore: ReadStore, userId: string, asOf: AsOf): Promise<PastHolding[]> {
  const holdings: PastHolding[] = [];
  let after: string | undefined;
  do {
    const items = await holdingHeads.find(readStore, {
      where: { userId },
      sort: { fields: ['name'], direction: 'asc' },
      limit: 500,
      after,
    });
    for (const head of items.items) {
      const version = await versionAt(readStore, userId, head.itemId, asOf);
      if (version && version.count > 0)
        holdings.push({ id: head.itemId, name: version.name, count: version.count, onSaleCount: version.onSaleCount });
    }
    after = items.next;
  } while (after);
  return holdings;
}

async function versionAt(readStore: ReadStore, userId: string, itemId: string, asOf: AsOf) {
  const [field, bound] =
    'position' in asOf
      ? (['seq', sortablePosition(asOf.position)] as const)
      : (['at', asOf.time.toISOString()] as const);
  const found = await holdingVersions.find(readStore, {
    where: { userId, itemId },
    range: { lte: bound },
    sort: { fields: [field], direction: 'desc' },
    limit: 1,
  });
  return found.items[0] ?? null;
}
