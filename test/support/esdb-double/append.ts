/**
 * Streams.Append (client streaming), after the server's Streams.Append.cs: the first message
 * carries the options, each further one a proposed event; the write happens when the client
 * ends its stream. A conflict is a normal response (`wrong_expected_version`), not an error.
 */
import type { sendUnaryData, ServerErrorResponse, ServerReadableStream } from '@grpc/grpc-js';

import { sizeOnDisk, type DoubleContext } from './context.js';
import { streamName, toProposedEvent } from './convert.js';
import {
  handlerException,
  invalidArgument,
  maximumAppendSizeExceeded,
  requiredMetadataPropertyMissing,
  unavailable,
  unimplemented,
} from './errors.js';
import { refusal } from './guard.js';
import { isMetastream, unmodelledMetadata } from './metadata.js';
import { sharedPb, streamsPb, type AppendReq, type AppendResp } from './pb.js';
import type { ExpectedRevision, ProposedEvent } from './store.js';

const { ExpectedStreamRevisionCase } = streamsPb.AppendReq.Options;

export function appendHandler(context: DoubleContext) {
  return (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void => {
    let options: { streamId: string; expected: ExpectedRevision } | undefined;
    const events: ProposedEvent[] = [];
    let size = 0;
    let settled = false;
    const refused = refusal(context, call.metadata);

    const fail = (error: ServerErrorResponse): void => {
      if (settled) return;
      settled = true;
      callback(error);
    };

    call.on('data', (request: AppendReq) => {
      if (refused !== undefined) return fail(refused);
      if (settled) return;
      try {
        if (options === undefined) {
          if (!request.hasOptions()) return fail(handlerException());
          options = readOptions(request.getOptions()!);
          if (options === undefined) {
            return fail(invalidArgument("'None' is not a valid ExpectedStreamRevisionOneofCase"));
          }
          return;
        }
        if (!request.hasProposedMessage()) return fail(handlerException());
        const event = toProposedEvent(request.getProposedMessage()!);
        if ('missing' in event) return fail(requiredMetadataPropertyMissing(event.missing));
        size += sizeOnDisk(event);
        if (size > context.maxAppendSize) return fail(maximumAppendSizeExceeded(context.maxAppendSize));
        events.push(event);
      } catch {
        fail(handlerException()); // e.g. an id that is not a UUID
      }
    });

    call.on('end', () => {
      if (refused !== undefined) return fail(refused);
      if (settled) return;
      if (options === undefined) return fail(handlerException());
      if (context.faults.take('append')) return fail(unavailable());
      const unmodelled = unmodelledWrite(options.streamId, events);
      if (unmodelled !== undefined) return fail(unimplemented(unmodelled));
      settled = true;
      const { streamId, expected } = options;
      const outcome = context.log.append(streamId, expected, events);
      // The write is done; only its answer may come late, after the client stopped waiting.
      const delay = context.late.take('append');
      if (delay === 0) callback(null, toResponse(outcome, expected));
      else setTimeout(() => callback(null, toResponse(outcome, expected)), delay).unref();
    });

    // A call cancelled before its end (the client's deadline while sending) writes nothing.
    call.on('cancelled', () => {
      settled = true;
    });
    call.on('error', () => {
      settled = true;
    });
  };
}

/** Metadata the double would store without honouring it (an ACL, for one) is refused. */
export function unmodelledWrite(streamId: string, events: readonly ProposedEvent[]): string | undefined {
  if (!isMetastream(streamId)) return undefined;
  for (const event of events) {
    const unmodelled = unmodelledMetadata(event.data);
    if (unmodelled !== undefined) return unmodelled;
  }
  return undefined;
}

function readOptions(
  options: InstanceType<typeof streamsPb.AppendReq.Options>,
): { streamId: string; expected: ExpectedRevision } | undefined {
  const streamId = streamName(options.getStreamIdentifier());
  switch (options.getExpectedStreamRevisionCase()) {
    case ExpectedStreamRevisionCase.REVISION:
      return { streamId, expected: { kind: 'revision', revision: BigInt(options.getRevision()) } };
    case ExpectedStreamRevisionCase.NO_STREAM:
      return { streamId, expected: { kind: 'no_stream' } };
    case ExpectedStreamRevisionCase.ANY:
      return { streamId, expected: { kind: 'any' } };
    case ExpectedStreamRevisionCase.STREAM_EXISTS:
      return { streamId, expected: { kind: 'stream_exists' } };
    default:
      return undefined;
  }
}

function toResponse(outcome: ReturnType<DoubleContext['log']['append']>, expected: ExpectedRevision): AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'wrong_expected_version') {
    // Only the current fields; the deprecated *_2060 twins are not read by the client.
    const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
    if (outcome.currentRevision < 0) wrong.setCurrentNoStream(new sharedPb.Empty());
    else wrong.setCurrentRevision(String(outcome.currentRevision));
    switch (expected.kind) {
      case 'any':
        wrong.setExpectedAny(new sharedPb.Empty());
        break;
      case 'stream_exists':
        wrong.setExpectedStreamExists(new sharedPb.Empty());
        break;
      case 'no_stream':
        wrong.setExpectedNoStream(new sharedPb.Empty());
        break;
      case 'revision':
        wrong.setExpectedRevision(expected.revision.toString());
        break;
    }
    return response.setWrongExpectedVersion(wrong);
  }

  const success = new streamsPb.AppendResp.Success();
  if (outcome.currentRevision < 0) success.setNoStream(new sharedPb.Empty());
  else success.setCurrentRevision(String(outcome.currentRevision));
  success.setPosition(
    new streamsPb.AppendResp.Position()
      .setCommitPosition(outcome.position.toString())
      .setPreparePosition(outcome.position.toString()),
  );
  return response.setSuccess(success);
}
