/** State shared by the double's handlers. */
import type { EventLog, ProposedEvent } from './store.js';
import type { OpenCalls } from './calls.js';
import type { ClusterMember, DoubleCluster } from './cluster.js';

export type FaultyMethod = 'append' | 'batchAppend' | 'read';
export type SlowMethod = 'append' | 'batchAppend';

/** Test hook behind `failNext`: a count of calls still to fail per method. */
export class Faults {
  private readonly pending = new Map<FaultyMethod, number>();

  failNext(method: FaultyMethod, count: number): void {
    this.pending.set(method, (this.pending.get(method) ?? 0) + count);
  }

  /** True when this call must fail; consumes one. */
  take(method: FaultyMethod): boolean {
    const left = this.pending.get(method) ?? 0;
    if (left <= 0) return false;
    this.pending.set(method, left - 1);
    return true;
  }
}

/** Test hook behind `answerLate`: appends written at once but answered after a delay. */
export class LateAnswers {
  private readonly pending = new Map<SlowMethod, number[]>();

  answerLate(method: SlowMethod, delayMs: number): void {
    this.pending.set(method, [...(this.pending.get(method) ?? []), delayMs]);
  }

  /** The delay for this append (0: answer at once); consumes one. */
  take(method: SlowMethod): number {
    return this.pending.get(method)?.shift() ?? 0;
  }
}

export interface DoubleContext {
  log: EventLog;
  faults: Faults;
  late: LateAnswers;
  /** Send `fell_behind` to subscriptions (24.10 keeps it to itself; the protocol has it). */
  sendFellBehind: boolean;
  /** Live events a subscription buffers before dropping the oldest (the server's 32). */
  liveBufferSize: number;
  /** Live events dropped so far by slow subscriptions (test introspection). */
  stats: { liveEventsDropped: number };
  /** Set when this double is a member of a cluster. */
  node?: { cluster: DoubleCluster; member: ClusterMember };
  calls: OpenCalls;
  /** The server's MaxAppendSize (default 1 MiB), over the sum of the events' sizes on disk. */
  maxAppendSize: number;
}

/** The server's Event.SizeOnDisk: data + metadata + the type counted as UTF-16. */
export function sizeOnDisk(event: ProposedEvent): number {
  return event.data.length + event.metadata.length + event.type.length * 2;
}
