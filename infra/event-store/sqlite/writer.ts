import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { GroupCommit } from './group-commit.js';
import { GroupWriter, type AppendOutcome } from './group-writer.js';
import type { Durability } from './schema.js';
import type { WriterRequest, WriterThreadData } from './writer-thread.js';

/** Commits in the calling thread: simplest, and what short-lived tools need. */
export function commitInThisThread(db: Database.Database): GroupCommit {
  const writer = new GroupWriter(db);
  return {
    write: async (group, created) => writer.write([{ group, created }])[0]!,
    maxInFlight: 1,
    close: async () => undefined,
  };
}

type WriterAnswer = { id: number; outcomes: AppendOutcome[] } | { id: number; failure: string };

/** Groups handed to the writer thread before the first is answered (it commits all that queued at once). */
const WRITER_THREAD_IN_FLIGHT = 8;

interface Waiting {
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: Error): void;
}

/**
 * Commits in a writer thread with its own connection to the file. The thread starts with
 * the first append (a store that only reads never pays for it) and holds the process
 * open only while a commit is under way.
 */
export function commitInWriterThread(file: string, durability: Durability): GroupCommit {
  let worker: Worker | null = null;
  let nextId = 0;
  const waiting = new Map<number, Waiting>();

  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  const start = (): Worker => {
    const started = new Worker(new URL('./writer-thread.js', import.meta.url), { workerData: { file, durability } satisfies WriterThreadData });
    started.on('message', (answer: WriterAnswer) => {
      const w = waiting.get(answer.id);
      waiting.delete(answer.id);
      if (waiting.size === 0) started.unref();
      if ('failure' in answer) w?.reject(new Error(answer.failure));
      else w?.resolve(answer.outcomes);
    });
    started.on('error', (error) => failAll(error));
    started.on('exit', (code) => {
      if (worker === started) worker = null;
      failAll(new Error(`writer thread stopped (exit code ${code})`));
    });
    return started;
  };

  return {
    write(group, created) {
      worker ??= start();
      const id = nextId++;
      const thread = worker;
      thread.ref();
      return new Promise<AppendOutcome[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        thread.postMessage({ id, group, created } satisfies WriterRequest);
      });
    },
    maxInFlight: WRITER_THREAD_IN_FLIGHT,
    async close() {
      const thread = worker;
      if (!thread) return;
      worker = null;
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      thread.ref();
      thread.postMessage('close' satisfies WriterRequest);
      await exited;
    },
  };
}

