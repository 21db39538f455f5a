/** Open streaming calls, so the test hooks and `stop()` can end them as a server would. */
import type { ServerErrorResponse } from '@grpc/grpc-js';

export type CallKind = 'subscription' | 'read' | 'batchAppend';

interface OpenCall {
  kind: CallKind;
  /** Ends the call with this status and releases what it holds (live listeners, timers). */
  abort(error: ServerErrorResponse): void;
}

export class OpenCalls {
  private readonly calls = new Set<OpenCall>();

  /** Registers a call; the returned function forgets it (call it once the call is over). */
  add(call: OpenCall): () => void {
    this.calls.add(call);
    return () => this.calls.delete(call);
  }

  count(kind: CallKind): number {
    return [...this.calls].filter((call) => call.kind === kind).length;
  }

  abortAll(error: ServerErrorResponse, kind?: CallKind): void {
    for (const call of [...this.calls]) {
      if (kind === undefined || call.kind === kind) {
        this.calls.delete(call);
        call.abort(error);
      }
    }
  }
}
