/** State shared by the double's handlers. */
import type { EventLog, ProposedEvent } from './store.js';
import type { OpenCalls } from './calls.js';

export type FaultyMethod = 'append' | 'batchAppend' | 'read';

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

export interface DoubleContext {
  log: EventLog;
  faults: Faults;
  calls: OpenCalls;
  /** The server's MaxAppendSize (default 1 MiB), over the sum of the events' sizes on disk. */
  maxAppendSize: number;
}

/** The server's Event.SizeOnDisk: data + metadata + the type counted as UTF-16. */
export function sizeOnDisk(event: ProposedEvent): number {
  return event.data.length + event.metadata.length + event.type.length * 2;
}
