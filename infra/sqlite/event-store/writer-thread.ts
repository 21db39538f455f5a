/**
 * The embedded event store's writer: commits append groups in its own thread, so the
 * WAL sync of every commit (the slowest part of an append) never blocks the thread that
 * serves requests. See `writer.ts` for the other side.
 *
 * Groups that queued up while a commit was under way are committed together in the next
 * one: one sync for all of them, each still answered on its own.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { commitsChannel } from './commit-announcements.js';
import { GroupWriter, type AppendRequest, type SnapshotRow } from './group-writer.js';
import { configure, type Durability } from './schema.js';

export interface WriterThreadData {
  file: string;
  durability: Durability;
  /** Announce each commit to the process's other threads (commit-announcements.ts). */
  announce: boolean;
  pageCacheMb: number;
}

export type WriterRequest =
  | { id: number; group: AppendRequest[]; created: number }
  | { id: number; snapshot: SnapshotRow }
  | 'close';
type GroupRequest = Extract<WriterRequest, { group: AppendRequest[] }>;
type SnapshotRequest = Extract<WriterRequest, { snapshot: SnapshotRow }>;

const port = parentPort!;
const { file, durability, announce, pageCacheMb } = workerData as WriterThreadData;
const announcements = announce ? commitsChannel(file) : null;
const db = new Database(file);
configure(db, durability, pageCacheMb);
const writer = new GroupWriter(db);

port.on('message', (first: WriterRequest) => {
  const requests: GroupRequest[] = [];
  const snapshots: SnapshotRequest[] = [];
  let closing = false;
  for (
    let message: WriterRequest | undefined = first;
    message !== undefined;
    message = receiveMessageOnPort(port)?.message as WriterRequest | undefined
  ) {
    if (message === 'close') closing = true;
    else if ('snapshot' in message) snapshots.push(message);
    else requests.push(message);
  }
  if (requests.length > 0 || snapshots.length > 0) commit(requests, snapshots);
  if (closing) {
    announcements?.close();
    db.close();
    port.close();
  }
});

/** Every group of a commit is answered in one message: the API thread is woken once per commit, not once per group. */
function commit(requests: GroupRequest[], snapshots: SnapshotRequest[]): void {
  const answered = [...requests, ...snapshots].map(({ id }) => id);
  try {
    const outcomes = writer.write(
      requests,
      snapshots.map((s) => s.snapshot),
    );
    if (requests.length > 0) announcements?.postMessage(null);
    port.postMessage(answered.map((id, i) => ({ id, outcomes: outcomes[i] ?? [] })));
  } catch (error) {
    // The code (SQLITE_FULL, SQLITE_IOERR…) crosses too: it tells a storage fault from a refusal.
    const code = (error as { code?: unknown }).code;
    const failure = { failure: (error as Error).message, ...(typeof code === 'string' ? { code } : {}) };
    port.postMessage(answered.map((id) => ({ id, ...failure })));
  }
}
