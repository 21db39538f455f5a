/** A live stream's client that does not read is closed once its buffer passes the bound, holding nothing more. */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import { EventStream } from '../infra/http/live/event-stream.js';

/** A response whose socket takes nothing: everything written waits. */
class StuckResponse extends EventEmitter {
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  write(text: string): boolean {
    this.writableLength += Buffer.byteLength(text);
    return false;
  }
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

describe('live stream: a slow client', () => {
  it('is disconnected once more than the buffer waits for it, and no longer written to', () => {
    const res = new StuckResponse();
    let closed = 0;
    // A stand-in for the socket's response: only what EventStream uses.
    const stream = new EventStream('u1', res as unknown as ServerResponse, null, 1024, () => closed++);
    stream.goLive();
    const letter = { id: 'e1:buyer', message: 'x'.repeat(200), createdAt: '2026-03-01T10:00:00.000Z', read: false };
    for (let n = 0; n < 100; n++)
      stream.deliver({
        entry: {
          kind: 'notification',
          userId: 'u1',
          seq: sortablePosition({ commit: BigInt(n), prepare: BigInt(n) }),
          data: letter,
        },
        rank: 0,
      });
    expect(res.destroyed).to.equal(true);
    expect(closed).to.equal(1);
    expect(stream.isClosed).to.equal(true);
    expect(res.writableLength).to.be.below(1024 + 400);
  });
});
