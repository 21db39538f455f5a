/**
 * The read-your-writes gate (infra/eventsourcing/subscriptions/consistency.ts) waits on
 * its runners' reports, not on a timer: a wait is woken by a move or a change of state of
 * the runner, asks the store nothing while nothing happens, and refuses at once a position
 * past the end of the log.
 */
import { expect } from 'chai';
import type { EventStore } from '../infra/eventsourcing/event-store/event-store.js';
import { comparePositions, type Position } from '../infra/eventsourcing/event-store/position.js';
import {
  ConsistencyGate,
  PositionNotWritten,
  type FollowedRunner,
} from '../infra/eventsourcing/subscriptions/consistency.js';
import { PositionWaiters } from '../infra/eventsourcing/subscriptions/position-waiters.js';
import type { RunnerState } from '../infra/eventsourcing/subscriptions/runner-status.js';

const at = (n: number): Position => ({ commit: BigInt(n), prepare: BigInt(n) });

/** A projection's runner as the gate sees it, moved by hand. */
class HandRunner implements FollowedRunner {
  readonly handler = { name: 'hand', kind: 'projection' as const, filter: undefined };
  private readonly waiters = new PositionWaiters();
  constructor(
    private position: Position | null,
    private state: RunnerState,
  ) {}
  status() {
    return { name: 'hand', state: this.state, position: this.position, lastError: null };
  }
  hasReached(position: Position): boolean {
    return this.position !== null && comparePositions(this.position, position) >= 0;
  }
  waitFor(position: Position, signal?: AbortSignal): Promise<void> {
    return this.hasReached(position) ? Promise.resolve() : this.waiters.wait(position, signal);
  }
  nextReport(signal?: AbortSignal): Promise<void> {
    return this.waiters.nextReport(signal);
  }
  moveTo(position: Position): void {
    this.position = position;
    this.waiters.reached(position);
  }
  goLive(): void {
    this.state = 'live';
    this.waiters.reported();
  }
}

/** A log whose head is at 10 and that counts the gate's questions; `pending` is what the runner still has to handle. */
function logAt10(pending: Position[] = []) {
  const asked = { head: 0, reads: 0 };
  // Only the two reads the gate makes are stood in for.
  const store = {
    headPosition: async () => {
      asked.head++;
      return at(10);
    },
    readAll: async () => {
      asked.reads++;
      return pending.map((position) => ({ position }));
    },
  } as unknown as EventStore;
  return { store, asked };
}

const settled = (promise: Promise<unknown>) => {
  const state = { done: false, error: undefined as unknown };
  promise.then(
    () => (state.done = true),
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return state;
};

describe('read-your-writes gate', () => {
  it('refuses a position past the end of the log at once', async () => {
    const { store } = logAt10();
    const gate = new ConsistencyGate(store, [new HandRunner(at(3), 'live')]);
    const failure = await gate.waitFor(at(11), 10_000).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(PositionNotWritten);
  });

  it('asks the store nothing while the runner reports nothing, and answers at its move', async () => {
    const { store, asked } = logAt10();
    const runner = new HandRunner(at(3), 'catching-up');
    const wait = settled(new ConsistencyGate(store, [runner]).waitFor(at(5), 10_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(wait.done).to.equal(false);
    // One look at the head (the position is in the log), then nothing: a timer would have asked again and again.
    expect(asked).to.deep.equal({ head: 1, reads: 0 });
    runner.moveTo(at(4));
    await new Promise((resolve) => setImmediate(resolve));
    expect(wait.done).to.equal(false);
    runner.moveTo(at(5));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(wait).to.deep.equal({ done: true, error: undefined });
  });

  it('answers when a runner with nothing to handle up to the position goes live', async () => {
    const { store } = logAt10([at(8)]);
    const runner = new HandRunner(at(3), 'catching-up');
    const wait = settled(new ConsistencyGate(store, [runner]).waitFor(at(5), 10_000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(wait.done).to.equal(false);
    runner.goLive();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(wait).to.deep.equal({ done: true, error: undefined });
  });

  it('lets go of the request deadline once a wait ends', async () => {
    const waiters = new PositionWaiters();
    const deadline = new AbortController();
    let listeners = 0;
    const signal = deadline.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners++;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners--;
      remove(...args);
    }) as typeof remove;
    for (let i = 0; i < 20; i++) {
      const next = waiters.nextReport(signal);
      const reached = waiters.wait(at(i), signal);
      waiters.reached(at(i));
      await Promise.all([next, reached]);
    }
    expect(listeners).to.equal(0);
  });
});
