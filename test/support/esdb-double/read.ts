/**
 * Streams.Read (server streaming), after the server's Streams.Read.cs and its enumerators.
 *
 * With `count` it is a read, answered at once and ended; with `subscription` it is a
 * subscription (see subscriptions.ts) that never ends by itself. Combinations the server
 * rejects (a filtered stream read, a backwards subscription) fail as its InvalidOperation does.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';

import type { DoubleContext } from './context.js';
import { eventResponse, streamIdentifier, streamName } from './convert.js';
import { handlerException, invalidPosition, unavailable, unimplemented } from './errors.js';
import { refusal } from './guard.js';
import { toEventFilter, type EventFilter } from './filters.js';
import { streamsPb, type ReadReq, type ReadResp } from './pb.js';
import { firstIndexFrom, lastIndexBefore, type LogPosition } from './positions.js';
import type { RecordedEvent } from './store.js';
import { subscribeToAll, subscribeToStream } from './subscriptions.js';

const Options = streamsPb.ReadReq.Options;
const { StreamOptionCase, CountOptionCase, FilterOptionCase, ReadDirection } = Options;
const { RevisionOptionCase } = Options.StreamOptions;
const { AllOptionCase } = Options.AllOptions;

/** Where a stream read or subscription starts. */
export type StreamStart = { kind: 'start' } | { kind: 'end' } | { kind: 'revision'; revision: bigint };
/** Where an `$all` read or subscription starts. */
export type AllStart = { kind: 'start' } | { kind: 'end' } | { kind: 'position'; position: LogPosition };

export function readHandler(context: DoubleContext) {
  return (call: ServerWritableStream<ReadReq, ReadResp>): void => {
    if (context.faults.take('read')) {
      call.emit('error', unavailable());
      return;
    }
    const refused = refusal(context, call.metadata);
    if (refused !== undefined) return void call.emit('error', refused);
    const options = call.request.getOptions();
    if (options === undefined) {
      call.emit('error', handlerException());
      return;
    }
    // Link events are stored and read as they are; resolving them is not modelled.
    if (options.getResolveLinks()) return void call.emit('error', unimplemented('resolveLinkTos'));

    let filter: EventFilter | undefined;
    let stream: { streamId: string; start: StreamStart } | undefined;
    let all: AllStart | undefined;
    try {
      if (options.getFilterOptionCase() === FilterOptionCase.FILTER) filter = toEventFilter(options.getFilter()!);
      if (options.getStreamOptionCase() === StreamOptionCase.STREAM) stream = readStreamOptions(options.getStream()!);
      else if (options.getStreamOptionCase() === StreamOptionCase.ALL) all = readAllOptions(options.getAll()!);
    } catch {
      call.emit('error', handlerException());
      return;
    }
    const structuredIds = options.getUuidOption()?.hasStructured() ?? false;
    const backwards = options.getReadDirection() === ReadDirection.BACKWARDS;

    if (options.getCountOptionCase() === CountOptionCase.SUBSCRIPTION) {
      if (backwards) return void call.emit('error', handlerException());
      if (stream !== undefined && filter === undefined) {
        subscribeToStream(context, call, stream.streamId, stream.start, structuredIds);
        return;
      }
      if (all !== undefined) {
        subscribeToAll(context, call, all, filter, structuredIds);
        return;
      }
      return void call.emit('error', handlerException());
    }

    const count = Number(BigInt(options.getCount()));
    if (stream !== undefined && filter === undefined) {
      const events = context.log.readableStreamEvents(stream.streamId);
      if (events === undefined) {
        // A missing stream is a message, not an error status.
        const notFound = new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(stream.streamId));
        call.write(new streamsPb.ReadResp().setStreamNotFound(notFound));
      } else {
        for (const event of readStream(events, stream.start, backwards, count)) {
          call.write(eventResponse(event, { structuredIds, withOriginalPosition: false }));
        }
      }
      call.end();
      return;
    }
    if (all !== undefined) {
      if (all.kind === 'position' && !context.log.isRecordBoundary(all.position.commit)) {
        return void call.emit('error', invalidPosition());
      }
      for (const event of readAll(context, all, backwards, count, filter)) {
        call.write(eventResponse(event, { structuredIds, withOriginalPosition: true }));
      }
      call.end();
      return;
    }
    call.emit('error', handlerException());
  };
}

function readStreamOptions(options: InstanceType<typeof Options.StreamOptions>): {
  streamId: string;
  start: StreamStart;
} {
  const streamId = streamName(options.getStreamIdentifier());
  switch (options.getRevisionOptionCase()) {
    case RevisionOptionCase.START:
      return { streamId, start: { kind: 'start' } };
    case RevisionOptionCase.END:
      return { streamId, start: { kind: 'end' } };
    case RevisionOptionCase.REVISION:
      return { streamId, start: { kind: 'revision', revision: BigInt(options.getRevision()) } };
    default:
      throw new Error('stream revision option not set');
  }
}

function readAllOptions(options: InstanceType<typeof Options.AllOptions>): AllStart {
  switch (options.getAllOptionCase()) {
    case AllOptionCase.START:
      return { kind: 'start' };
    case AllOptionCase.END:
      return { kind: 'end' };
    case AllOptionCase.POSITION: {
      const position = options.getPosition()!;
      return {
        kind: 'position',
        position: { commit: BigInt(position.getCommitPosition()), prepare: BigInt(position.getPreparePosition()) },
      };
    }
    default:
      throw new Error('$all position option not set');
  }
}

/**
 * Forwards from a revision (inclusive), or backwards from it down to 0; End means the last
 * event. `events` are the readable ones, so revisions may not start at 0 (metadata.ts).
 */
function readStream(
  events: readonly RecordedEvent[],
  start: StreamStart,
  backwards: boolean,
  count: number,
): RecordedEvent[] {
  if (!backwards) {
    const from = start.kind === 'start' ? 0 : start.kind === 'end' ? Number.POSITIVE_INFINITY : Number(start.revision);
    return events.filter((event) => event.revision >= from).slice(0, count);
  }
  const from = start.kind === 'start' ? 0 : start.kind === 'end' ? Number.POSITIVE_INFINITY : Number(start.revision);
  return events
    .filter((event) => event.revision <= from)
    .reverse()
    .slice(0, count);
}

function readAll(
  context: DoubleContext,
  start: AllStart,
  backwards: boolean,
  count: number,
  filter: EventFilter | undefined,
): RecordedEvent[] {
  const { all } = context.log;
  const result: RecordedEvent[] = [];
  const keep = (event: RecordedEvent): boolean => filter === undefined || filter.matches(event);
  if (!backwards) {
    const from =
      start.kind === 'start' ? 0 : start.kind === 'end' ? all.length : firstIndexFrom(context.log, start.position);
    for (let index = from; index < all.length && result.length < count; index += 1) {
      if (keep(all[index]!)) result.push(all[index]!);
    }
  } else {
    const from =
      start.kind === 'start'
        ? -1
        : start.kind === 'end'
          ? all.length - 1
          : lastIndexBefore(context.log, start.position);
    for (let index = from; index >= 0 && result.length < count; index -= 1) {
      if (keep(all[index]!)) result.push(all[index]!);
    }
  }
  return result;
}
