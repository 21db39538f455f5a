/**
 * The embedded event store's writer: commits append groups in its own thread, so the
 * WAL sync of every commit (the slowest part of an append) never blocks the thread that
 * serves requests. See `writer.ts` for the other side.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { GroupWriter, type AppendRequest } from './group-writer.js';
import { configure, type Durability } from './schema.js';

export interface WriterThreadData {
  file: string;
  durability: Durability;
}

export type WriterRequest = { id: number; group: AppendRequest[]; created: number } | 'close';

const port = parentPort!;
const { file, durability } = workerData as WriterThreadData;
const db = new Database(file);
configure(db, durability);
const writer = new GroupWriter(db);

port.on('message', (message: WriterRequest) => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: message.id, outcomes: writer.write(message.group, message.created) });
  } catch (error) {
    port.postMessage({ id: message.id, failure: (error as Error).message });
  }
});
