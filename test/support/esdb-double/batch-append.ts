/**
 * Streams.BatchAppend (bidirectional), after the server's Streams.BatchAppend.cs.
 *
 * One long-lived stream carries many appends, each identified by a correlation id: its first
 * request holds the options, its last one `is_final`; the reply echoes the correlation id and
 * the stream, with either `success` or `error`, a google.rpc.Status packing the detail. The
 * server bounds each pending append by min(requested deadline, its write timeout).
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';

import { sizeOnDisk, type DoubleContext } from './context.js';
import { streamIdentifier, streamName, toProposedEvent, uuidToString } from './convert.js';
import { batchStatus, unavailable } from './errors.js';
import { refusal } from './guard.js';
import { unmodelledWrite } from './append.js';
import {
  googleEmptyPb,
  sharedPb,
  streamsPb,
  type BatchAppendReq,
  type BatchAppendResp,
  type RpcStatus,
  type Uuid,
} from './pb.js';
import type { ExpectedRevision, ProposedEvent } from './store.js';

const { ExpectedStreamPositionCase } = streamsPb.BatchAppendReq.Options;

/** The server's default write timeout (WriteTimeoutMs), the upper bound of any append's wait. */
const WRITE_TIMEOUT_MS = 2_000;

interface PendingAppend {
  streamId: string;
  expected: ExpectedRevision;
  events: ProposedEvent[];
  size: number;
  timer: NodeJS.Timeout;
  /** When the server stops waiting for this write and answers Timeout (the write may still happen). */
  deadlineAt: number;
}

export function batchAppendHandler(context: DoubleContext) {
  return (call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void => {
    const pending = new Map<string, PendingAppend>();
    let open = true;
    const refused = refusal(context, call.metadata);
    if (refused !== undefined) {
      call.emit('error', refused);
      return;
    }

    const close = (): void => {
      open = false;
      forget();
      for (const write of pending.values()) clearTimeout(write.timer);
      pending.clear();
    };
    const forget = context.calls.add({
      kind: 'batchAppend',
      abort: (error) => {
        close();
        call.emit('error', error);
      },
    });

    const reply = (correlationId: Uuid | undefined, streamId: string, result: RpcStatus | Success): void => {
      if (!open) return;
      const response = new streamsPb.BatchAppendResp()
        .setCorrelationId(correlationId)
        .setStreamIdentifier(streamIdentifier(streamId));
      if (result instanceof streamsPb.BatchAppendResp.Success) response.setSuccess(result);
      else response.setError(result as RpcStatus);
      call.write(response);
    };

    call.on('data', (request: BatchAppendReq) => {
      if (!open) return;
      const correlationId = request.getCorrelationId();
      let key: string;
      try {
        key = uuidToString(correlationId);
      } catch (error) {
        return reply(correlationId, '', batchStatus.badRequest((error as Error).message));
      }

      if (request.hasOptions()) {
        const options = request.getOptions()!;
        if (!options.hasStreamIdentifier()) {
          return reply(correlationId, '', batchStatus.badRequest('Required field StreamIdentifier not set.'));
        }
        const streamId = streamName(options.getStreamIdentifier());
        const expected = readExpected(options);
        if (expected === undefined) {
          return reply(correlationId, streamId, batchStatus.badRequest('expected stream position not set'));
        }
        const timeout = Math.min(requestedTimeoutMs(options), WRITE_TIMEOUT_MS);
        if (timeout <= 0) return reply(correlationId, streamId, batchStatus.timeout());
        if (!pending.has(key)) {
          const timer = setTimeout(() => {
            if (pending.delete(key)) reply(correlationId, streamId, batchStatus.timeout());
          }, timeout);
          timer.unref();
          pending.set(key, { streamId, expected, events: [], size: 0, timer, deadlineAt: Date.now() + timeout });
        }
      }

      const write = pending.get(key);
      if (write === undefined) return; // no options seen for this id (or it already failed)

      try {
        for (const message of request.getProposedMessagesList()) {
          const event = toProposedEvent(message);
          // The server indexes the metadata map directly; a missing key is a bad request.
          if ('missing' in event)
            throw new Error(`The given key '${event.missing}' was not present in the dictionary.`);
          write.size += sizeOnDisk(event);
          write.events.push(event);
        }
      } catch (error) {
        pending.delete(key);
        clearTimeout(write.timer);
        return reply(correlationId, write.streamId, batchStatus.badRequest((error as Error).message));
      }
      if (write.size > context.maxAppendSize) {
        pending.delete(key);
        clearTimeout(write.timer);
        return reply(correlationId, write.streamId, batchStatus.maximumAppendSizeExceeded(context.maxAppendSize));
      }
      if (!request.getIsFinal()) return;

      pending.delete(key);
      clearTimeout(write.timer);
      if (context.faults.take('batchAppend')) {
        // As if the server went away mid-stream: every append waiting on this stream fails.
        close();
        call.emit('error', unavailable());
        return;
      }
      const unmodelled = unmodelledWrite(write.streamId, write.events);
      if (unmodelled !== undefined) return reply(correlationId, write.streamId, batchStatus.unimplemented(unmodelled));
      const outcome = context.log.append(write.streamId, write.expected, write.events);
      const answer = lateAnswer(context.late.take('batchAppend'), write.deadlineAt, (result) =>
        reply(correlationId, write.streamId, result),
      );
      if (outcome.kind === 'wrong_expected_version') {
        return answer(batchStatus.wrongExpectedVersion(outcome.currentRevision, write.expected));
      }
      const success = new streamsPb.BatchAppendResp.Success().setPosition(
        new sharedPb.AllStreamPosition()
          .setCommitPosition(outcome.position.toString())
          .setPreparePosition(outcome.position.toString()),
      );
      if (outcome.currentRevision < 0) success.setNoStream(new googleEmptyPb.Empty());
      else success.setCurrentRevision(String(outcome.currentRevision));
      answer(success);
    });

    // The client half-closed: nothing more will come; finish with OK like the server does.
    call.on('end', () => {
      if (!open) return;
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
  };
}

type Success = InstanceType<typeof streamsPb.BatchAppendResp.Success>;

/**
 * Answers a write that took `delayMs`: at once, later, or, when that is past the append's
 * deadline, with Timeout at the deadline although the write happened.
 */
function lateAnswer(delayMs: number, deadlineAt: number, send: (result: RpcStatus | Success) => void) {
  return (result: RpcStatus | Success): void => {
    if (delayMs === 0) {
      send(result);
      return;
    }
    const left = deadlineAt - Date.now();
    if (delayMs >= left) setTimeout(() => send(batchStatus.timeout()), Math.max(0, left)).unref();
    else setTimeout(() => send(result), delayMs).unref();
  };
}

function readExpected(options: InstanceType<typeof streamsPb.BatchAppendReq.Options>): ExpectedRevision | undefined {
  switch (options.getExpectedStreamPositionCase()) {
    case ExpectedStreamPositionCase.STREAM_POSITION:
      return { kind: 'revision', revision: BigInt(options.getStreamPosition()) };
    case ExpectedStreamPositionCase.NO_STREAM:
      return { kind: 'no_stream' };
    case ExpectedStreamPositionCase.ANY:
      return { kind: 'any' };
    case ExpectedStreamPositionCase.STREAM_EXISTS:
      return { kind: 'stream_exists' };
    default:
      return undefined;
  }
}

/** The client sends an absolute deadline (field `deadline_21_10_0` on the server's side). */
function requestedTimeoutMs(options: InstanceType<typeof streamsPb.BatchAppendReq.Options>): number {
  const deadline = options.getDeadline();
  if (deadline === undefined) return Number.POSITIVE_INFINITY;
  return deadline.toDate().getTime() - Date.now();
}
