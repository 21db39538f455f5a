/**
 * Catch-up subscriptions, after the 24.x enumerators Enumerator.AllSubscription,
 * Enumerator.AllSubscriptionFiltered and Enumerator.StreamSubscription, with the live side of
 * SubscriptionsService.
 *
 * Each subscription first registers for live events (numbered, in a bounded channel that drops
 * its oldest: live.ts), confirms, then loops: catch up from its checkpoint by reading pages of the
 * log, send `caught_up`, and forward live events; a gap in the live numbering (the subscriber
 * was too slow and events were dropped) sends it back to catching up from the last thing it sent,
 * after which `caught_up` comes again. 24.10 does not send `fell_behind` to gRPC clients
 * (Streams.Read.cs: "currently not sent to clients"); `sendFellBehind` makes the double send it.
 *
 * A subscription starts strictly after its starting point: after revision R, or after `$all`
 * position P. A starting point at or past the head goes live at once and skips live events at or
 * before it. A position inside a record fails with InvalidPosition when catch-up reads there.
 *
 * Filtered `$all` subscriptions send checkpoints: catching up, when the events considered since
 * this catch-up began reach multiplier × window (the count restarts with every catch-up), and at
 * the end of every catch-up, each at the later of the last event sent and the page's start
 * (whose prepare position is 0); live, every `interval` events written since the subscription
 * began, at that event; and on falling behind, at the last thing sent. A checkpoint not after the
 * previous one is not sent again.
 */
import { randomUUID } from 'node:crypto';

import type { ServerWritableStream } from '@grpc/grpc-js';

import { readAllPage, InvalidPositionError } from './all-pages.js';
import type { DoubleContext } from './context.js';
import { eventResponse } from './convert.js';
import { handlerException, invalidPosition } from './errors.js';
import { READ_BATCH_SIZE, type EventFilter } from './filters.js';
import { CallClosed, LiveBuffer, ResponseWriter } from './live.js';
import { streamsPb, type ReadReq, type ReadResp } from './pb.js';
import { HEAD_OF_LOG, comparePositions, positionOf, type LogPosition } from './positions.js';
import type { AllStart, StreamStart } from './read.js';
import type { RecordedEvent } from './store.js';

type Call = ServerWritableStream<ReadReq, ReadResp>;

const caughtUp = (): ReadResp => new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp());
const fellBehind = (): ReadResp => new streamsPb.ReadResp().setFellBehind(new streamsPb.ReadResp.FellBehind());
const confirmation = (): ReadResp =>
  new streamsPb.ReadResp().setConfirmation(
    new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID()),
  );

function checkpointResponse(position: LogPosition): ReadResp {
  return new streamsPb.ReadResp().setCheckpoint(
    new streamsPb.ReadResp.Checkpoint()
      .setCommitPosition(position.commit.toString())
      .setPreparePosition(position.prepare.toString()),
  );
}

/**
 * Registers the call where dropSubscriptions()/stop() can end it, and releases everything once
 * it is cancelled (client unsubscribe, dispose, deadline) or ends.
 */
function open<T>(
  context: DoubleContext,
  call: Call,
): { writer: ResponseWriter; live: LiveBuffer<T>; onClose(release: () => void): void } {
  const writer = new ResponseWriter(call);
  const live = new LiveBuffer<T>(context.liveBufferSize, () => (context.stats.liveEventsDropped += 1));
  const releases: Array<() => void> = [() => writer.close(), () => live.close()];
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    forget();
    for (const release of releases) release();
  };
  const forget = context.calls.add({
    kind: 'subscription',
    abort: (error) => {
      close();
      call.emit('error', error);
    },
  });
  for (const event of ['cancelled', 'error', 'close', 'finish']) call.on(event, close);
  return { writer, live, onClose: (release) => (closed ? release() : releases.push(release)) };
}

/** Runs a subscription's loop; it ends by the call closing, or with an error sent to the client. */
function run(call: Call, loop: () => Promise<void>): void {
  loop().catch((error: unknown) => {
    if (error instanceof CallClosed) return;
    call.emit('error', error instanceof InvalidPositionError ? invalidPosition() : handlerException());
  });
}

type AllItem = { event: RecordedEvent } | { checkpoint: LogPosition };

export function subscribeToAll(
  context: DoubleContext,
  call: Call,
  start: AllStart,
  filter: EventFilter | undefined,
  structuredIds: boolean,
): void {
  if (filter !== undefined && filter.checkpointIntervalMultiplier <= 0) {
    call.emit('error', handlerException()); // ArgumentOutOfRangeException on the server
    return;
  }
  const { writer, live, onClose } = open<AllItem>(context, call);
  const interval = filter === undefined ? undefined : filter.checkpointIntervalMultiplier * filter.maxSearchWindow;

  // SubscriptionsService: every event written from now on counts towards a live checkpoint.
  let liveCount = 0;
  onClose(
    context.log.onAppended((events) => {
      for (const event of events) {
        if (filter === undefined || filter.matches(event)) live.push({ event });
        if (interval === undefined) continue;
        liveCount += 1;
        if (liveCount >= interval) {
          live.push({ checkpoint: positionOf(event) });
          liveCount = 0;
        }
      }
    }),
  );
  const lastIndexed = context.log.lastIndexedPosition();
  const confirmedAt: LogPosition = { commit: lastIndexed, prepare: lastIndexed };

  let lastCheckpoint: LogPosition | undefined;
  const sendEvent = (event: RecordedEvent): Promise<void> =>
    writer.write(eventResponse(event, { structuredIds, withOriginalPosition: true }));
  const sendCheckpoint = async (position: LogPosition): Promise<void> => {
    if (comparePositions(position, HEAD_OF_LOG) === 0) return;
    if (lastCheckpoint !== undefined && comparePositions(position, lastCheckpoint) <= 0) return;
    lastCheckpoint = position;
    await writer.write(checkpointResponse(position));
  };

  const catchUp = async (from: LogPosition): Promise<LogPosition> => {
    let checkpoint = from;
    let considered = 0;
    let pagePosition = from;
    for (;;) {
      const page = readAllPage(
        context.log,
        pagePosition,
        READ_BATCH_SIZE,
        filter?.maxSearchWindow ?? READ_BATCH_SIZE,
        filter,
      );
      for (const event of page.events) {
        if (comparePositions(positionOf(event), checkpoint) <= 0) continue;
        await sendEvent(event);
        checkpoint = positionOf(event);
      }
      if (interval !== undefined) {
        considered += page.considered;
        const due = page.endOfStream || considered >= interval;
        if (!page.endOfStream && due) considered %= interval;
        if (due && comparePositions(checkpoint, page.currentPosition) < 0) checkpoint = page.currentPosition;
        if (due) await sendCheckpoint(checkpoint);
      }
      if (page.endOfStream) return checkpoint;
      pagePosition = page.nextPosition;
    }
  };

  const goLive = async (from: LogPosition, sequence: number): Promise<[LogPosition, number]> => {
    let checkpoint = from;
    await writer.write(caughtUp());
    for (;;) {
      const next = await live.take();
      const inSequence = next.sequence === sequence + 1;
      sequence = next.sequence;
      const { item } = next;
      if ('event' in item && comparePositions(positionOf(item.event), checkpoint) <= 0) continue;
      if ('checkpoint' in item && comparePositions(item.checkpoint, checkpoint) < 0) continue;
      if (!inSequence) {
        if (context.sendFellBehind) await writer.write(fellBehind());
        if (interval !== undefined) await sendCheckpoint(checkpoint);
        return [checkpoint, sequence];
      }
      if ('event' in item) {
        await sendEvent(item.event);
        checkpoint = positionOf(item.event);
      } else {
        await sendCheckpoint(item.checkpoint);
        checkpoint = item.checkpoint;
      }
    }
  };

  run(call, async () => {
    await writer.write(confirmation());
    let checkpoint = start.kind === 'start' ? HEAD_OF_LOG : start.kind === 'end' ? confirmedAt : start.position;
    let sequence = 0;
    if (comparePositions(checkpoint, confirmedAt) >= 0) [checkpoint, sequence] = await goLive(checkpoint, sequence);
    for (;;) {
      checkpoint = await catchUp(checkpoint);
      [checkpoint, sequence] = await goLive(checkpoint, sequence);
    }
  });
}

export function subscribeToStream(
  context: DoubleContext,
  call: Call,
  streamId: string,
  start: StreamStart,
  structuredIds: boolean,
): void {
  const { writer, live, onClose } = open<RecordedEvent>(context, call);
  onClose(
    context.log.onAppended((events) => {
      for (const event of events) if (event.streamId === streamId) live.push(event);
    }),
  );
  const lastRevision = context.log.lastRevision(streamId);
  const send = (event: RecordedEvent): Promise<void> =>
    writer.write(eventResponse(event, { structuredIds, withOriginalPosition: false }));

  const catchUp = async (from: number): Promise<number> => {
    let checkpoint = from;
    // Reads honour the stream's metadata: truncated events are not sent.
    for (const event of context.log.readableStreamEvents(streamId) ?? []) {
      if (event.revision <= checkpoint) continue;
      await send(event);
      checkpoint = event.revision;
    }
    return checkpoint;
  };

  const goLive = async (from: number, sequence: number): Promise<[number, number]> => {
    let checkpoint = from;
    await writer.write(caughtUp());
    for (;;) {
      const next = await live.take();
      const inSequence = next.sequence === sequence + 1;
      sequence = next.sequence;
      if (next.item.revision <= checkpoint) continue;
      if (!inSequence) {
        if (context.sendFellBehind) await writer.write(fellBehind());
        return [checkpoint, sequence];
      }
      await send(next.item);
      checkpoint = next.item.revision;
    }
  };

  run(call, async () => {
    await writer.write(confirmation());
    let checkpoint = start.kind === 'start' ? -1 : start.kind === 'end' ? lastRevision : Number(start.revision);
    let sequence = 0;
    if (checkpoint >= lastRevision) [checkpoint, sequence] = await goLive(checkpoint, sequence);
    for (;;) {
      checkpoint = await catchUp(checkpoint);
      [checkpoint, sequence] = await goLive(checkpoint, sequence);
    }
  });
}
