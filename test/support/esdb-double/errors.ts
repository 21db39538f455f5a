/**
 * Errors as the server sends them.
 *
 * Plain RPCs fail with a gRPC status plus, for the errors the client names, an `exception`
 * trailer and its companion keys (RpcExceptions.cs). The client reads the companions without
 * checking them, so an `exception` without them throws inside the client and the call never
 * settles: every helper here sends the full set.
 *
 * BatchAppend instead answers each append with a google.rpc.Status whose `details` packs one of
 * the shared error messages (Status.cs).
 */
import { Metadata, status, type ServerErrorResponse } from '@grpc/grpc-js';

import { anyPb, codePb, googleEmptyPb, sharedPb, statusPb, type RpcStatus } from './pb.js';
import { REQUIRED_METADATA } from './convert.js';
import type { ExpectedRevision } from './store.js';

function rpcError(code: status, details: string, trailers: Record<string, string> = {}): ServerErrorResponse {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

/** Server not ready / restarting: the client reports UnavailableError and reconnects. */
export function unavailable(details = 'Server Is Not Ready'): ServerErrorResponse {
  return rpcError(status.UNAVAILABLE, details);
}

export function maximumAppendSizeExceeded(maxAppendSize: number): ServerErrorResponse {
  return rpcError(status.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`, {
    exception: 'maximum-append-size-exceeded',
    'maximum-append-size': String(maxAppendSize),
  });
}

export function requiredMetadataPropertyMissing(property: string): ServerErrorResponse {
  return rpcError(status.INVALID_ARGUMENT, `Required Metadata Property '${property}' is missing`, {
    exception: 'missing-required-metadata-property',
    'required-metadata-properties': REQUIRED_METADATA.join(','),
  });
}

/** RpcExceptions.InvalidArgument: a request field holds no valid choice. */
export function invalidArgument(details: string): ServerErrorResponse {
  return rpcError(status.INVALID_ARGUMENT, details);
}

/** What ASP.NET gRPC reports for an exception the handler did not map (a malformed request). */
export function handlerException(): ServerErrorResponse {
  return rpcError(status.UNKNOWN, 'Exception was thrown by handler.');
}

function packed(code: number, message: string, detail: { serializeBinary(): Uint8Array }, typeName: string): RpcStatus {
  const details = new anyPb.Any();
  details.pack(detail.serializeBinary(), typeName);
  return new statusPb.Status().setCode(code).setMessage(message).setDetails(details);
}

export const batchStatus = {
  wrongExpectedVersion(currentRevision: number, expected: ExpectedRevision): RpcStatus {
    const detail = new sharedPb.WrongExpectedVersion();
    if (currentRevision < 0) detail.setCurrentNoStream(new googleEmptyPb.Empty());
    else detail.setCurrentStreamRevision(String(currentRevision));
    switch (expected.kind) {
      case 'any':
        detail.setExpectedAny(new googleEmptyPb.Empty());
        break;
      case 'no_stream':
        detail.setExpectedNoStream(new googleEmptyPb.Empty());
        break;
      case 'stream_exists':
        detail.setExpectedStreamExists(new googleEmptyPb.Empty());
        break;
      case 'revision':
        detail.setExpectedStreamPosition(expected.revision.toString());
        break;
    }
    return packed(
      codePb.Code.ALREADY_EXISTS,
      'WrongExpectedVersion',
      detail,
      'event_store.client.WrongExpectedVersion',
    );
  },
  timeout(): RpcStatus {
    return packed(codePb.Code.DEADLINE_EXCEEDED, 'Timeout', new sharedPb.Timeout(), 'event_store.client.Timeout');
  },
  maximumAppendSizeExceeded(maxAppendSize: number): RpcStatus {
    const detail = new sharedPb.MaximumAppendSizeExceeded().setMaxappendsize(maxAppendSize);
    return packed(
      codePb.Code.INVALID_ARGUMENT,
      'MaximumAppendSizeExceeded',
      detail,
      'event_store.client.MaximumAppendSizeExceeded',
    );
  },
  /** Packed as Unknown (the client reads a detail from every error status; it has no Unimplemented one). */
  unimplemented(what: string): RpcStatus {
    return packed(
      codePb.Code.UNIMPLEMENTED,
      `Not modelled by the EventStoreDB double: ${what}`,
      new sharedPb.Unknown(),
      'event_store.client.Unknown',
    );
  },
  badRequest(message: string): RpcStatus {
    return packed(
      codePb.Code.INVALID_ARGUMENT,
      'BadRequest',
      new sharedPb.BadRequest().setMessage(message),
      'event_store.client.BadRequest',
    );
  },
};

/**
 * A call (or an option of one) the double does not model. The server answers a method it does
 * not serve with UNIMPLEMENTED; the double does the same for what it cannot reproduce, rather
 * than ignore it.
 */
export function unimplemented(what: string): ServerErrorResponse {
  return rpcError(status.UNIMPLEMENTED, `Not modelled by the EventStoreDB double: ${what}`);
}

/** RpcExceptions.LeaderInfo: NOT_FOUND with the leader's address for the client to reconnect to. */
export function notLeader(host: string, port: number): ServerErrorResponse {
  return rpcError(status.NOT_FOUND, `Leader info available`, {
    exception: 'not-leader',
    'leader-endpoint-host': host,
    'leader-endpoint-port': String(port),
  });
}

/** RpcExceptions.InvalidPositionException: a read or subscription from inside a record. */
export function invalidPosition(): ServerErrorResponse {
  return rpcError(status.INVALID_ARGUMENT, 'Trying to read from an invalid position.');
}
