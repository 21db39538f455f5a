import { sleep } from '../backoff.js';
import { isDeadLocalOwner } from './lease-owners.js';
import type { LeaseStore } from './leases.js';
import { errorMessage, type RunnerLog } from './runner-status.js';

/** The lease was taken away (a rebuild asked for it): stop before writing anything more. */
export class LeaseLost extends Error {}

export interface LeaseHolderOptions {
  leases: LeaseStore;
  /** The lease's name (the handler's). */
  name: string;
  ttlMs: number;
  log: RunnerLog;
  /** Resolves once the commit being written, if any, has landed: a lost lease is given back only then. */
  settled(): Promise<void>;
}

/**
 * A runner's hold on its handler's lease (leases.ts): waits for it, freeing at once the
 * lease of a process of this host that is gone, then renews it every third of its time to
 * live. When a renewal finds that someone else asked for it (a rebuild), `held` turns false
 * (the runner stops before its next commit) and the lease is given back once the commit
 * being written has landed.
 */
export class LeaseHolder {
  private isHeld = false;
  private renewTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: LeaseHolderOptions) {}

  get held(): boolean {
    return this.isHeld;
  }

  /** Waits until `owner` holds the lease (unless it is held already), then keeps renewing it; holds nothing if `signal` aborts first. */
  async hold(owner: string, signal: AbortSignal): Promise<void> {
    if (this.isHeld) return;
    const { leases, name, ttlMs, log } = this.options;
    while (!signal.aborted && !(await leases.acquire(name, owner, ttlMs))) {
      const lease = (await leases.list()).find((l) => l.name === name);
      if (lease?.holder && isDeadLocalOwner(lease.holder)) {
        log.info('freeing the lease of a process that is gone', { projection: name, holder: lease.holder });
        await leases.release(name, lease.holder);
        continue;
      }
      await sleep(ttlMs / 5, signal);
    }
    if (signal.aborted) return;
    this.isHeld = true;
    this.renewTimer = setInterval(() => void this.renew(owner), ttlMs / 3);
  }

  /** Stops renewing and gives the lease back if it is held. */
  async release(owner: string): Promise<void> {
    this.stopRenewing();
    try {
      if (this.isHeld) await this.options.leases.release(this.options.name, owner);
    } finally {
      this.isHeld = false;
    }
  }

  private async renew(owner: string): Promise<void> {
    const { leases, name, ttlMs } = this.options;
    try {
      if (await leases.acquire(name, owner, ttlMs)) return;
      this.isHeld = false;
      this.stopRenewing();
      await this.options.settled();
      await leases.release(name, owner);
    } catch (error) {
      this.options.log.warn('could not renew projection lease', { projection: name, error: errorMessage(error) });
    }
  }

  private stopRenewing(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
  }
}
