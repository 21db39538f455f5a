/**
 * The operator's tools of the CLI (infra/cli/parked.ts, infra/cli/check.ts) for the admin
 * endpoints: the same modules, given this process's stores and handlers. An id that names no
 * parked event, or a handler name no handler has, is `null` (the endpoint's 404).
 */
import { auditEventStore } from '../cli/check.js';
import {
  listParkedEvents,
  parkedTargets,
  retryProcessSteps,
  skipParked,
  type ParkedTools,
  type RetryOutcome,
} from '../cli/parked.js';
import { UsageError } from '../cli/usage-error.js';
import type { OperatorTools } from '../http/routes/context.js';

export function operatorTools(tools: ParkedTools): OperatorTools {
  return {
    listParked: (name) => orNull(() => listParkedEvents(tools, name)),
    retryParked: (id) =>
      orNull(async () => {
        const { outcomes, projections } = await retryProcessSteps(tools, await parkedTargets(tools, id));
        return [...outcomes, ...projections.map(rebuildNeeded(id))];
      }),
    skipParked: (id, reason, by) => orNull(async () => skipParked(tools, await parkedTargets(tools, id), reason, by)),
    check: (graceMs) => auditEventStore(tools.eventStore, tools.services.now(), graceMs),
  };
}

/** A projection's parked event is retried by replaying the projection, which only the CLI does (it hands the projection over). */
function rebuildNeeded(id: string): (name: string) => RetryOutcome {
  return (name) => ({
    id,
    ok: false,
    what: `still parked: a projection's parked event is retried by rebuilding ${name} (npm run cli -- parked retry ${id})`,
  });
}

async function orNull<T>(run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof UsageError) return null;
    throw error;
  }
}
