/**
 * FerretDB takes a lease with a read and then a write, not in one step (its conditional
 * updates are not atomic: seen taking one expired lease for up to 8 of 8 racing owners),
 * so two processes running projections there could both hold a lease and write one view
 * twice. On FerretDB the projections therefore run in one process only: `ROLE=projector`
 * (made to be replicated) is refused, and a process that would run projections — `ROLE=all`,
 * or the CLI's rebuild — is refused while another live process holds a lease. That check
 * is a read too: two such processes started in the same instant are not told apart, which
 * is why the README asks for one. `ROLE=api` processes run no projection and take no lease:
 * any number of them is fine.
 */
import type { Logger } from '../log/log.js';
import { serverName, type MongoServerInfo } from './mongo-server.js';
import { isDeadLocalOwner, isThisProcess } from '../eventsourcing/subscriptions/lease-owners.js';
import type { LeaseStore } from '../eventsourcing/subscriptions/leases.js';

/** What this process was asked to do cannot be done safely on FerretDB: one line says why. */
export class UnsafeOnFerretDb extends Error {
  override readonly name = 'UnsafeOnFerretDb';
}

interface Stores {
  readServer: MongoServerInfo | null;
  leases: LeaseStore;
}

/**
 * Refuses a process role that FerretDB cannot keep safe, before it runs anything; on
 * FerretDB, says once what this process must be.
 */
export async function checkRoleOnFerretDb(
  stores: Stores,
  role: 'all' | 'api' | 'projector',
  logger: Logger,
): Promise<void> {
  const server = stores.readServer;
  if (server?.kind !== 'ferretdb') return;
  if (role === 'projector') {
    throw new UnsafeOnFerretDb(
      `ROLE=projector needs MongoDB: ${serverName(server)} cannot take leases atomically, so projector replicas could both run one projection; ` +
        'on FerretDB run the projections in one ROLE=all process (beside any number of ROLE=api)',
    );
  }
  if (role === 'api') return;
  await refuseSecondRunnerProcess(stores, 'ROLE=all');
  logger.warn(
    { readStore: serverName(server) },
    'read store is FerretDB: this must be the only process running projections (its leases are not atomic), and kept idempotency answers are purged every minute (it has no TTL indexes)',
  );
}

/** Refuses `what` (a process that would run projections) while another live process holds a lease. */
export async function refuseSecondRunnerProcess(stores: Stores, what: string): Promise<void> {
  const server = stores.readServer;
  if (server?.kind !== 'ferretdb') return;
  const held = (await stores.leases.list()).filter(
    (l) => l.holder !== null && !isThisProcess(l.holder) && !isDeadLocalOwner(l.holder),
  );
  const first = held[0];
  if (!first) return;
  throw new UnsafeOnFerretDb(
    `${what} refused: ${serverName(server)} cannot take leases atomically, so only one process may run projections, ` +
      `and ${first.holder} runs ${held.map((l) => l.name).join(', ')} (stop it, or wait for its leases to expire if it is gone)`,
  );
}
