/**
 * The embedded read side's WAL copied back into `read.db` from a thread of its own.
 *
 * SQLite checkpoints inline by default: the connection whose commit takes the WAL past
 * `wal_autocheckpoint` pages copies it back and syncs, there and then. On `read.db` that
 * stalled the projector thread under load (so a completed deal showed in history later; the
 * figures are in docs/PERFORMANCE.md, "read.db's checkpointer every 500 ms"), and whichever other connection committed past the
 * mark (a lease renewal, a process manager's checkpoint) stalled the thread serving
 * requests the same way. A PASSIVE checkpoint from another connection blocks no writer and
 * no reader, so it runs here, every `everyMs`; the other connections keep an inline
 * checkpoint only as a backstop, far out (`BACKSTOP_CHECKPOINT_PAGES`), for when this thread
 * is not running or falls behind.
 */
import { Worker } from 'node:worker_threads';

/** Inline checkpoints of a connection nobody checkpoints for: every ~40 MB of WAL (copies each hot page back once per 40 MB instead of once per 4 MB). */
export const INLINE_CHECKPOINT_PAGES = 10_000;
/** Inline checkpoints of a connection the checkpointer serves: only past ~200 MB of WAL. */
export const BACKSTOP_CHECKPOINT_PAGES = 50_000;

export interface WalCheckpointer {
  close(): Promise<void>;
}

export function startWalCheckpointer(
  file: string,
  options: { everyMs: number; onError(error: unknown): void },
): WalCheckpointer {
  const worker = new Worker(new URL('./wal-checkpointer-thread.js', import.meta.url), {
    workerData: { file, everyMs: options.everyMs },
    // A timer and a pragma: the smallest young generation V8 allows is plenty.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
  // Never what keeps a process alive: a checkpoint cut short by exit is safe (SQLite redoes it).
  worker.unref();
  worker.on('error', options.onError);
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError(new Error(`WAL checkpoint of ${file} failed: ${message.error}`));
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async close() {
      // Waited for, it must hold the process open: with nothing else left (the last step of
      // a shutdown), an unref'd thread would let the process end in the middle of close().
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
