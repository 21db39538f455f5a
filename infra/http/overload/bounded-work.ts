/**
 * A bound on work that costs a thread and memory per call (password hashing: scrypt takes
 * a thread of libuv's pool and 16 MiB for tens of milliseconds): at most `concurrency` at
 * once, at most `queue` more waiting in line; past that, refused at once with 503 and
 * `Retry-After` instead of piling up behind the pool.
 */
import type { PasswordHashing } from '../../../command-handlers/identity.js';
import { HttpError } from '../errors.js';
import { httpMessages } from '../messages.js';

export class WorkBound {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
    private readonly refusal: () => Error,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw this.refusal();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get busy(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}

export function hashingBound(concurrency: number, queue: number): WorkBound {
  return new WorkBound(
    concurrency,
    queue,
    () => new HttpError(503, httpMessages.hashingBusy, { 'Retry-After': String(HASHING_RETRY_AFTER_S) }),
  );
}

const HASHING_RETRY_AFTER_S = 1;

/**
 * `passwords()` hashing within `bound`. Read at each call: a test may swap the hasher of a
 * running server. Checking whether a hash needs upgrading computes nothing.
 */
export function boundedHashing(passwords: () => PasswordHashing, bound: WorkBound): PasswordHashing {
  return {
    hash: (password) => bound.run(() => passwords().hash(password)),
    verify: (password, stored) => bound.run(() => passwords().verify(password, stored)),
    needsRehash: (stored) => passwords().needsRehash(stored),
  };
}
