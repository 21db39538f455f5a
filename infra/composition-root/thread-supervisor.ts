/**
 * Keeps a worker thread running: when it dies (an uncaught error, out of memory, an exit
 * nobody asked for) it is started again after a backoff, and while it is down `down()`
 * says why (`/ready` answers not ready). A thread that keeps dying — `maxDeaths` times
 * within `windowMs` — is not started again: `giveUp` is told, with one line that says so,
 * and ends the process (an orchestrator restarts it, a human reads why).
 */
import type { Worker } from 'node:worker_threads';
import { backoffDelay, type BackoffPolicy } from '../eventsourcing/backoff.js';

export interface SupervisorLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface SupervisorOptions {
  /** What the thread is, for the log (`projector thread`). */
  name: string;
  spawn(): Worker;
  /** Every message of the thread; `{ ready: true }` also marks it up. */
  onMessage(message: unknown): void;
  /** Told when the thread dies, with why (its stand-ins can show it). */
  onDown?(reason: string): void;
  log: SupervisorLog;
  /** The thread kept dying: the process must end; `line` says why. */
  giveUp(line: string): void;
  restartBackoff?: BackoffPolicy;
  maxDeaths?: number;
  windowMs?: number;
  now?: () => number;
}

const RESTART_BACKOFF: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 30_000 };

export class ThreadSupervisor {
  private worker: Worker | null = null;
  private downReason: string | null = null;
  private stopped: (() => void) | null = null;
  private deaths: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private lastError: Error | null = null;

  constructor(private readonly options: SupervisorOptions) {}

  start(): void {
    const worker = this.options.spawn();
    this.worker = worker;
    this.lastError = null;
    worker.on('message', (message: unknown) => {
      if ((message as { stopped?: unknown })?.stopped === true) this.stopped?.();
      if (this.worker !== worker) return;
      if ((message as { ready?: unknown })?.ready === true) this.up();
      this.options.onMessage(message);
    });
    worker.on('error', (error) => {
      this.lastError = error;
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.died(code);
    });
  }

  /** Why the thread is not running now; null while it runs. */
  down(): string | null {
    return this.downReason;
  }

  post(message: unknown): void {
    this.worker?.postMessage(message);
  }

  /** Asks the thread to stop (`'stop'`, answered by `{ stopped: true }` or its exit) and starts it no more. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      this.stopped = resolve;
      worker.once('exit', () => resolve());
      worker.postMessage('stop');
    });
    this.worker = null;
  }

  private up(): void {
    if (this.downReason !== null && this.deaths.length > 0)
      this.options.log.info(
        { thread: this.options.name, deaths: this.deaths.length },
        `${this.options.name} restarted`,
      );
    this.downReason = null;
  }

  private died(code: number): void {
    this.worker = null;
    if (this.stopping) return;
    const now = (this.options.now ?? Date.now)();
    const windowMs = this.options.windowMs ?? 10 * 60_000;
    const maxDeaths = this.options.maxDeaths ?? 5;
    this.deaths = [...this.deaths.filter((at) => now - at < windowMs), now];
    const why = this.lastError ? this.lastError.message : `exit code ${code}`;
    this.downReason = `${this.options.name} died (${why})`;
    this.options.onDown?.(this.downReason);
    if (this.deaths.length >= maxDeaths) {
      this.stopping = true;
      this.options.giveUp(
        `${this.options.name} died ${this.deaths.length} times within ${Math.round(windowMs / 1000)} s, last: ${why}; giving up, the process exits`,
      );
      return;
    }
    const delayMs = backoffDelay(this.deaths.length - 1, this.options.restartBackoff ?? RESTART_BACKOFF);
    this.options.log.error(
      {
        thread: this.options.name,
        err: this.lastError ?? undefined,
        exitCode: code,
        deaths: this.deaths.length,
        delayMs,
      },
      `${this.downReason}; restarting in ${delayMs} ms`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.start();
    }, delayMs);
  }
}
