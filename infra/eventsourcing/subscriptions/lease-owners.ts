/**
 * Lease owners are named `<role>@<host>:<pid>`. A lease held by a process of this host
 * that no longer exists (killed, crashed) need not be waited out: it can be freed at once,
 * so a restarted single-node server resumes its projections immediately.
 */
import { hostname } from 'node:os';

export function ownerName(role: string): string {
  return `${role}@${hostname()}:${process.pid}`;
}

export function isDeadLocalOwner(owner: string | null): boolean {
  const match = owner ? /^[^@]+@(.+):(\d+)$/.exec(owner) : null;
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Whether a lease owner names this very process (`<role>@<host>:<pid>`, a rebuild's too). */
export function isThisProcess(owner: string): boolean {
  return owner.endsWith(`@${hostname()}:${process.pid}`);
}

const REBUILDER = 'rebuild:';

/**
 * A rebuild holds the lease under a name of its own, so every process sharing the leases
 * can tell a view is being replayed (readiness); `rebuild:` keeps the `role@host:pid` shape.
 */
export function rebuilderName(owner: string): string {
  return `${REBUILDER}${owner}`;
}

export function isRebuilder(holder: string | null | undefined): boolean {
  return holder?.startsWith(REBUILDER) ?? false;
}
