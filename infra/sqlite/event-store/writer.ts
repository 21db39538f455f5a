import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { commitsChannel } from './commit-announcements.js';
import type { GroupCommit } from './group-commit.js';
import { GroupWriter, type AppendOutcome } from './group-writer.js';
import type { Durability } from './schema.js';
import type { WriterRequest, WriterThreadData } from './writer-thread.js';

/** Commits in the calling thread: simplest, and what short-lived tools need. `announceFor`: the file whose commits to announce. */
export function commitInThisThread(db: Database.Database, announceFor: string | null = null): GroupCommit {
  const writer = new GroupWriter(db);
  const channel = announceFor === null ? null : commitsChannel(announceFor);
  return {
    write: async (group, created) => {
      const outcomes = writer.write([{ group, created }])[0]!;
      channel?.postMessage(null);
      return outcomes;
    },
    writeSnapshot: async (snapshot) => {
      writer.write([], [snapshot]);
    },
    maxInFlight: 1,
    close: async () => channel?.close(),
  };
}

type WriterAnswer = { id: number; outcomes: AppendOutcome[] } | { id: number; failure: string; code?: string };

/** Groups handed to the writer thread before the first is answered (it commits all that queued at once). */
const WRITER_THREAD_IN_FLIGHT = 8;

interface Waiting {
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: Error): void;
}

/** A JavaScript heap that is little more than messages passing through: no need for V8's default young generation. */
const WRITER_YOUNG_GENERATION_MB = 8;
/** Its live data is the groups in flight (at most WRITER_THREAD_IN_FLIGHT of them, bodies capped by the HTTP edge). */
const WRITER_OLD_GENERATION_MB = 64;

/**
 * Commits in a writer thread with its own connection to the file. The thread starts with
 * the first append (a store that only reads never pays for it) and holds the process
 * open only while a commit is under way.
 */
export function commitInWriterThread(
  file: string,
  durability: Durability,
  announce = false,
  pageCacheMb = 64,
): GroupCommit {
  const thread = new WriterThread({ file, durability, announce, pageCacheMb });
  return {
    write: (group, created) => thread.send((id) => ({ id, group, created })),
    // Shares the next commit with whatever appends queue beside it.
    writeSnapshot: async (snapshot) => {
      await thread.send((id) => ({ id, snapshot }));
    },
    maxInFlight: WRITER_THREAD_IN_FLIGHT,
    close: () => thread.close(),
  };
}

/** The writer thread (started with the first request) and the requests it has not answered yet, by id. */
class WriterThread {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly data: WriterThreadData) {}

  send(request: (id: number) => WriterRequest): Promise<AppendOutcome[]> {
    this.worker ??= this.start();
    const id = this.nextId++;
    const thread = this.worker;
    thread.ref();
    return new Promise<AppendOutcome[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      thread.postMessage(request(id));
    });
  }

  async close(): Promise<void> {
    const thread = this.worker;
    if (!thread) return;
    this.worker = null;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.ref();
    thread.postMessage('close' satisfies WriterRequest);
    await exited;
  }

  private start(): Worker {
    const started = new Worker(new URL('./writer-thread.js', import.meta.url), {
      workerData: this.data,
      resourceLimits: {
        maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: WRITER_OLD_GENERATION_MB,
      },
    });
    started.on('message', (answers: WriterAnswer[]) => {
      for (const answer of answers) {
        const w = this.waiting.get(answer.id);
        this.waiting.delete(answer.id);
        if ('failure' in answer) w?.reject(writeFailure(answer));
        else w?.resolve(answer.outcomes);
      }
      if (this.waiting.size === 0) started.unref();
    });
    started.on('error', (error) => this.failAll(error));
    started.on('exit', (code) => {
      if (this.worker === started) this.worker = null;
      this.failAll(new Error(`writer thread stopped (exit code ${code})`));
    });
    return started;
  }

  private failAll(error: Error): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }
}

/** The writer thread's failure as an error again, with the SQLite code it had there. */
function writeFailure(answer: { failure: string; code?: string }): Error {
  return Object.assign(new Error(answer.failure), answer.code ? { code: answer.code } : {});
}
