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
import { GroupWriter, type AppendRequest } from './group-writer.js';
import { configure, type Durability } from './schema.js';

export interface WriterThreadData {
  file: string;
  durability: Durability;
}

export type WriterRequest = { id: number; group: AppendRequest[]; created: number } | 'close';
type GroupRequest = Exclude<WriterRequest, 'close'>;

const port = parentPort!;
const { file, durability } = workerData as WriterThreadData;
const db = new Database(file);
configure(db, durability);
const writer = new GroupWriter(db);

port.on('message', (first: WriterRequest) => {
  const requests: GroupRequest[] = [];
  let closing = false;
  for (let message: WriterRequest | undefined = first; message !== undefined; message = receiveMessageOnPort(port)?.message as WriterRequest | undefined) {
    if (message === 'close') closing = true;
    else requests.push(message);
  }
  if (requests.length > 0) commit(requests);
  if (closing) {
    db.close();
    port.close();
  }
});

function commit(requests: GroupRequest[]): void {
  try {
    const outcomes = writer.write(requests);
    requests.forEach(({ id }, i) => port.postMessage({ id, outcomes: outcomes[i] }));
  } catch (error) {
    for (const { id } of requests) port.postMessage({ id, failure: (error as Error).message });
  }
}
