/**
 * Catch-up subscriptions, after the server's Enumerators.StreamSubscription / AllSubscription /
 * AllSubscriptionFiltered and its SubscriptionsService.
 *
 * Order on the wire: `confirmation` (with a subscription id), the catch-up events, `caught_up`,
 * then live events as they are written, in log order, until the client cancels. A subscription
 * starts *after* its starting point: after revision R for a stream; for `$all`, after the first
 * event at or after position P (the server reads one event at P and resumes past it).
 *
 * Filtered `$all` subscriptions also send `checkpoint`s. Catching up, the server reads pages
 * that examine at most `maxSearchWindow` events (and return at most 32 matches); it counts the
 * events examined and, when the count reaches multiplier × window on a page that is not the
 * last, sends a checkpoint at the page's last match (or the page's start if none matched).
 * Live, every written event counts, matching or not, and reaching the interval sends a
 * checkpoint at that event; the count carries over from the catch-up.
 *
 * Catch-up and the switch to live happen in one synchronous step here, so no event can slip
 * between them and the server's "transition" read has nothing to do.
 */
import { randomUUID } from 'node:crypto';

import type { ServerWritableStream } from '@grpc/grpc-js';

import type { DoubleContext } from './context.js';
import { eventResponse } from './convert.js';
import { handlerException } from './errors.js';
import { READ_BATCH_SIZE, type EventFilter } from './filters.js';
import { streamsPb, type ReadReq, type ReadResp } from './pb.js';
import { firstIndexFrom, positionAfter, positionOf, type LogPosition } from './positions.js';
import type { AllStart, StreamStart } from './read.js';
import type { RecordedEvent } from './store.js';

type Call = ServerWritableStream<ReadReq, ReadResp>;

/**
 * Confirms the subscription, registers it where dropSubscriptions()/stop() can end it, and
 * removes it for good once the call is cancelled (client unsubscribe, dispose, deadline) or ends.
 */
function open(context: DoubleContext, call: Call): { onClose(release: () => void): void } {
  const releases: Array<() => void> = [];
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
  call.on('cancelled', close);
  call.on('error', close);
  call.on('close', close);
  call.on('finish', close);

  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID());
  call.write(new streamsPb.ReadResp().setConfirmation(confirmation));
  return { onClose: (release) => (closed ? release() : releases.push(release)) };
}

const caughtUp = (): ReadResp => new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp());

function checkpoint(position: LogPosition): ReadResp {
  return new streamsPb.ReadResp().setCheckpoint(
    new streamsPb.ReadResp.Checkpoint()
      .setCommitPosition(position.commit.toString())
      .setPreparePosition(position.prepare.toString()),
  );
}

export function subscribeToStream(
  context: DoubleContext,
  call: Call,
  streamId: string,
  start: StreamStart,
  structuredIds: boolean,
): void {
  const subscription = open(context, call);
  const send = (event: RecordedEvent): void => {
    call.write(eventResponse(event, { structuredIds, withOriginalPosition: false }));
  };

  const last = context.log.lastRevision(streamId);
  let next = start.kind === 'start' ? 0 : start.kind === 'end' ? last + 1 : Number(start.revision) + 1;
  for (const event of context.log.streamEvents(streamId)?.slice(next) ?? []) send(event);
  next = Math.max(next, last + 1);
  call.write(caughtUp());

  subscription.onClose(
    context.log.onAppended((events) => {
      for (const event of events) {
        if (event.streamId === streamId && event.revision >= next) send(event);
      }
    }),
  );
}

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
  const subscription = open(context, call);
  const send = (event: RecordedEvent): void => {
    call.write(eventResponse(event, { structuredIds, withOriginalPosition: true }));
  };
  const { all } = context.log;

  // Where catch-up begins, and the position a first empty page would checkpoint at.
  let from: number;
  let pageStart: LogPosition;
  if (start.kind === 'start') {
    from = 0;
    pageStart = { commit: 0n, prepare: 0n };
  } else if (start.kind === 'end') {
    from = all.length;
    pageStart = { commit: 0n, prepare: 0n }; // unused: no catch-up from the end
  } else {
    const first = firstIndexFrom(context.log, start.position);
    from = first < all.length ? first + 1 : all.length;
    pageStart = first < all.length ? positionAfter(all[first]!) : start.position;
  }

  if (filter === undefined) {
    for (const event of all.slice(from)) send(event);
    call.write(caughtUp());
    subscription.onClose(context.log.onAppended((events) => events.forEach(send)));
    return;
  }

  const interval = filter.checkpointIntervalMultiplier * filter.maxSearchWindow;
  let examinedSinceCheckpoint = 0;
  if (start.kind !== 'end') {
    let index = from;
    for (;;) {
      let examined = 0;
      let matched = 0;
      let pagePosition = pageStart;
      let endOfLog = false;
      while (matched < READ_BATCH_SIZE && examined < filter.maxSearchWindow) {
        const event = all[index];
        if (event === undefined) {
          endOfLog = true;
          break;
        }
        index += 1;
        examined += 1;
        if (filter.matches(event)) {
          send(event);
          matched += 1;
          pagePosition = positionOf(event);
        }
      }
      examinedSinceCheckpoint += examined;
      if (endOfLog) break;
      if (examinedSinceCheckpoint >= interval) {
        examinedSinceCheckpoint %= interval;
        call.write(checkpoint(pagePosition));
      }
      pageStart = positionAfter(all[index - 1]!); // a full page examined at least one event
    }
  }
  call.write(caughtUp());

  subscription.onClose(
    context.log.onAppended((events) => {
      for (const event of events) {
        if (filter.matches(event)) send(event);
        examinedSinceCheckpoint += 1;
        if (examinedSinceCheckpoint >= interval) {
          examinedSinceCheckpoint = 0;
          call.write(checkpoint(positionOf(event)));
        }
      }
    }),
  );
}
