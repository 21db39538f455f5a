/**
 * Commits announced to the other threads of the process that read the same file: whoever
 * commits (the writer thread) says so on a BroadcastChannel named after the file as soon
 * as the commit is durable, and a store listening there (the projector thread's) wakes its
 * live subscriptions at once. The thread that asked for the commit, the one serving
 * requests, then has no message to relay per commit.
 */
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';

export function commitsChannel(file: string): BroadcastChannel {
  return new BroadcastChannel(`embedded-event-store-commits:${resolve(file)}`);
}

/** Calls `wake` on every commit announced for `file` until closed; never keeps the thread alive by itself. */
export function hearCommits(file: string, wake: () => void): { close(): void } {
  const channel = commitsChannel(file);
  channel.onmessage = () => wake();
  channel.unref();
  return { close: () => channel.close() };
}
