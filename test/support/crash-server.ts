/**
 * The whole product in one process, as `npm start` composes it (openSystem, the broker
 * provisioned from the environment, every projection and process manager running,
 * createHttpApp, listen), for crash tests. Run compiled, never by hand:
 *
 *   node dist/test/support/crash-server.js
 *
 * Environment: the product's own (DATA_DIR, PORT — 0 for any —, HOST, EVENT_STORE,
 * EVENTSTORE_CONNECTION_STRING, BROKER_EMAIL, BROKER_PASSWORD, LOG_LEVEL…), plus:
 * - CRASH_AFTER=<EventType>: right after an append that stored an event of that type —
 *   for an event with a `purpose` (payments), only one for a deal — the process kills
 *   itself with SIGKILL: no handler runs, nothing is flushed, no checkpoint is written.
 *   Test-support code wrapping the event store's `appendToStream`; the product is untouched.
 *
 * Prints `{"crashServerListening":<port>}` on stdout once it listens, and
 * `{"crashing":"<type>","streamId":"…"}` just before the kill.
 */
import { writeSync } from 'node:fs';
import { provisionBroker } from '../../command-handlers/admin.js';
import { loadConfig } from '../../infra/config/config.js';
import type { AppendOptions, EventToAppend } from '../../infra/eventsourcing/event-store/event-store.js';
import { createHttpApp, listen, type RunningServer } from '../../infra/http/server.js';
import { createLogger } from '../../infra/log/log.js';
import { openSystem, type System } from '../../infra/composition-root/system.js';

function say(line: Record<string, unknown>): void {
  // Synchronous: the line must be out before a SIGKILL that may follow at once.
  writeSync(1, `${JSON.stringify(line)}\n`);
}

function isCrashPoint(event: EventToAppend, type: string): boolean {
  if (event.type !== type) return false;
  // Payments name what they pay for: only a deal's counts (an accrual is always a deal's).
  const purpose = (event.data as { purpose?: { kind?: unknown } }).purpose;
  return purpose?.kind === undefined || purpose.kind === 'deal';
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  let system: System | null = null;
  let server: RunningServer | null = null;
  const stop = async () => {
    await server?.close(config.shutdownTimeoutMs);
    await system?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  system = await openSystem(config, logger);
  const crashAfter = process.env.CRASH_AFTER;
  if (crashAfter) {
    const store = system.eventStore;
    const append = store.appendToStream.bind(store);
    // Every user of the store (command handlers, process managers, idempotency records)
    // holds this same object, so replacing the method on it reaches them all.
    // Once the crash point's append is under way nothing else gets stored: a process
    // manager woken by the same commit could otherwise beat the kill to the next step.
    let dying = false;
    store.appendToStream = async (streamId: string, events: EventToAppend[], options?: AppendOptions) => {
      if (dying) return new Promise<never>(() => undefined);
      const hit = events.find((e) => isCrashPoint(e, crashAfter));
      if (hit) dying = true;
      const result = await append(streamId, events, options);
      if (hit) {
        say({ crashing: hit.type, streamId });
        process.kill(process.pid, 'SIGKILL');
      }
      return result;
    };
  }
  if (config.brokerEmail && config.brokerPassword) {
    await provisionBroker(system.services, {
      email: config.brokerEmail,
      password: config.brokerPassword,
      resetPassword: false,
    });
  }
  for (const runner of system.runners) runner.start();
  const app = createHttpApp({
    dependencies: [{ name: 'eventStore', ping: () => system!.eventStore.ping() }],
    logError: (error) => logger.error({ err: error }, 'request failed'),
    api: {
      services: system.services,
      tokens: system.tokens,
      signedOut: system.signedOut,
      gate: system.gate,
      readYourWritesTimeoutMs: config.readYourWritesTimeoutMs,
    },
  });
  server = await listen(app, config.port, config.host);
  say({ crashServerListening: server.port });
}

main().catch((error: unknown) => {
  console.error('crash-server could not start:', error);
  process.exit(1);
});
