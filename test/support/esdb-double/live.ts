/**
 * The two buffers between the log and a subscriber, after the 24.x subscription enumerators
 * (Enumerator.cs: BoundedChannelOptions and LiveChannelOptions):
 * - live events wait in a channel of 32 that drops its oldest entry when full, each numbered
 *   in sequence, so a gap tells the subscription it fell behind;
 * - responses go out through the gRPC stream, whose writes wait on HTTP/2 flow control: a
 *   client that stops reading stops the subscription's loop, and its live channel overflows.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';

import type { ReadReq, ReadResp } from './pb.js';

/** Thrown into a subscription's loop once its call is over. */
export class CallClosed extends Error {}

export class ResponseWriter {
  private closed = false;
  private waiting: Array<() => void> = [];

  constructor(private readonly call: ServerWritableStream<ReadReq, ReadResp>) {
    call.on('drain', () => this.wake());
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Resolves once the response is accepted by the stream's buffer (after a drain if it was full). */
  async write(response: ReadResp): Promise<void> {
    if (this.closed) throw new CallClosed();
    if (!this.call.write(response)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.closed) throw new CallClosed();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}

export interface Numbered<T> {
  sequence: number;
  item: T;
}

export class LiveBuffer<T> {
  private readonly items: Array<Numbered<T>> = [];
  private lastSequence = 0;
  private waiter: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly onDrop: () => void,
  ) {}

  push(item: T): void {
    this.items.push({ sequence: ++this.lastSequence, item });
    if (this.items.length > this.capacity) {
      this.items.shift();
      this.onDrop();
    }
    this.wakeReader();
  }

  close(): void {
    this.closed = true;
    this.wakeReader();
  }

  async take(): Promise<Numbered<T>> {
    for (;;) {
      if (this.closed) throw new CallClosed();
      const next = this.items.shift();
      if (next !== undefined) return next;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private wakeReader(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
