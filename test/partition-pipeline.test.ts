import { expect } from 'chai';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { Position } from '../infra/eventsourcing/event-store/position.js';
import { PartitionPipeline } from '../infra/eventsourcing/subscriptions/partition-pipeline.js';

const pos = (n: number): Position => ({ commit: BigInt(n), prepare: BigInt(n) });
const event = (n: number): RecordedEvent => ({
  id: `e${n}`,
  streamId: 's',
  type: 'T',
  revision: n,
  position: pos(n),
  data: {},
  metadata: {},
  created: new Date(0),
});

/** A handler whose calls finish only when the test says so. */
function controlled() {
  const started: number[] = [];
  const finish = new Map<number, (failure?: Error) => void>();
  const handle = (e: RecordedEvent) =>
    new Promise<void>((resolve, reject) => {
      const n = Number(e.position.commit);
      started.push(n);
      finish.set(n, (failure) => (failure ? reject(failure) : resolve()));
    });
  return { started, finish: (n: number, failure?: Error) => finish.get(n)!(failure), handle };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('partition pipeline (process managers handle events as they are read)', () => {
  it('handles a partition in order and partitions side by side; reports only what nothing before is still missing', async () => {
    const handler = controlled();
    const reported: Array<[number, boolean]> = [];
    const pipeline = new PartitionPipeline({
      handle: handler.handle,
      capacity: 100,
      onHandled: (p, caughtUp) => reported.push([Number(p.commit), caughtUp]),
    });
    pipeline.add(event(1), 'deal-a');
    pipeline.add(event(2), 'deal-b');
    pipeline.add(event(3), 'deal-a');
    pipeline.mark(pos(4), false);
    pipeline.add(event(5), 'deal-b');
    pipeline.mark(pos(6), true);
    await turn();
    // deal-a's second event waits for its first; deal-b's first runs at once.
    expect(handler.started).to.deep.equal([1, 2]);
    handler.finish(2);
    await turn();
    expect(handler.started).to.deep.equal([1, 2, 5]);
    handler.finish(5);
    await turn();
    expect(reported, 'event 1 is still being handled').to.deep.equal([]);
    handler.finish(1);
    await turn();
    expect(handler.started).to.deep.equal([1, 2, 5, 3]);
    expect(reported).to.deep.equal([[2, false]]);
    handler.finish(3);
    await pipeline.drained();
    expect(reported).to.deep.equal([
      [2, false],
      [6, true],
    ]);
  });

  it('holds the reader back at its capacity', async () => {
    const handler = controlled();
    const pipeline = new PartitionPipeline({ handle: handler.handle, capacity: 2, onHandled: () => undefined });
    pipeline.add(event(1), 'a');
    pipeline.add(event(2), 'b');
    let roomy = false;
    const room = pipeline.room().then(() => (roomy = true));
    await turn();
    expect(roomy).to.equal(false);
    handler.finish(2);
    await room;
    expect(roomy).to.equal(true);
    handler.finish(1);
    await pipeline.drained();
  });

  it('stops reporting at a failure and throws it to the reader', async () => {
    const handler = controlled();
    const reported: number[] = [];
    const pipeline = new PartitionPipeline({
      handle: handler.handle,
      capacity: 100,
      onHandled: (p) => reported.push(Number(p.commit)),
    });
    pipeline.add(event(1), 'a');
    pipeline.add(event(2), 'b');
    pipeline.add(event(3), 'c');
    handler.finish(1);
    await turn();
    handler.finish(2, new Error('store refused'));
    handler.finish(3);
    await turn();
    expect(reported).to.deep.equal([1]);
    let thrown: unknown = null;
    await pipeline.room().catch((error: unknown) => (thrown = error));
    expect(String(thrown)).to.contain('store refused');
    thrown = null;
    await pipeline.drained().catch((error: unknown) => (thrown = error));
    expect(String(thrown)).to.contain('store refused');
  });
});
