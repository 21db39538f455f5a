/**
 * What checking events against their schemas costs, per event, on this machine: the check of
 * an append, the read of a current event (checked, handed over as it is), the read of an
 * older one (checked, upcast, checked again), beside the JSON parsing every read does anyway.
 * The events are the frozen histories' (a realistic mix), cycled to 100,000.
 *
 * `npm run build && node dist/test/bench/event-validation.js` (a few seconds, one core).
 */
import { join } from 'node:path';
import { domainEvents } from '../../domain/events.js';
import { compiledChecks } from '../../infra/event-schemas/compiled-checks.js';
import { HISTORIES_DIR, readHistories, type FrozenEvent } from '../frozen-histories/files.js';
import { repoDir } from '../support/process.js';

const COUNT = 100_000;
const ROUNDS = 7;

const histories = readHistories(join(repoDir, HISTORIES_DIR));
const readable = (e: FrozenEvent) => domainEvents.read(e.type, e.metadata.schemaVersion, e.data).readable;
const unversioned = histories.find((h) => h.name === '01-unversioned')!.events.filter(readable);
const current = histories.at(-1)!.events.filter(readable);
const cycle = (events: FrozenEvent[]) => Array.from({ length: COUNT }, (_, i) => events[i % events.length]!);
const currentEvents = cycle(current);
const oldEvents = cycle(unversioned.filter((e) => domainEvents.currentVersion(e.type)! > 1));
const texts = currentEvents.map((e) => JSON.stringify(e.data));

/** The best of `ROUNDS` runs over the events, in nanoseconds per event. */
function measure(what: string, run: (i: number) => unknown): number {
  let best = Infinity;
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < COUNT; i++) if (run(i)) sink++;
    best = Math.min(best, Number(process.hrtime.bigint() - start) / COUNT);
  }
  console.log(
    `${what.padEnd(58)} ${best.toFixed(0).padStart(6)} ns/event  (${Math.round(1e9 / best).toLocaleString('en-US')} events/s on one core)${sink < 0 ? '' : ''}`,
  );
  return best;
}

console.log(
  `${COUNT.toLocaleString('en-US')} events from the frozen histories (${new Set(current.map((e) => e.type)).size} types), best of ${ROUNDS} runs`,
);
const json = measure('JSON.parse of the data (what every read does anyway)', (i) => JSON.parse(texts[i]!));
const costs: Record<string, { append: number; read: number }> = {};
for (const [name, registry] of [
  ['zod', domainEvents],
  ['compiled (what the server uses)', domainEvents.withChecks(compiledChecks())],
] as const) {
  console.log(`${name}:`);
  const append = measure(
    '  append: check against the current schema',
    (i) => registry.problemWith(currentEvents[i]!.type, currentEvents[i]!.data) === null,
  );
  const read = measure(
    '  read of a current event: check, hand over as it is',
    (i) =>
      registry.read(currentEvents[i]!.type, currentEvents[i]!.metadata.schemaVersion, currentEvents[i]!.data).readable,
  );
  measure(
    '  read of a version-1 event: check, upcast, check again',
    (i) => registry.read(oldEvents[i]!.type, undefined, oldEvents[i]!.data).readable,
  );
  costs[name] = { append, read };
}

// bench:trading: ~2,000 orders/s, two orders a deal, 11 events a deal; every event is checked once
// on append and read by about 3 subscriptions (the projections and process managers whose filters admit it).
const eventsPerSecond = (2_000 / 2) * 11;
const share = (ns: number) => ((eventsPerSecond * ns) / 1e9) * 100;
for (const [name, { append, read }] of Object.entries(costs)) {
  console.log(
    `${name} at bench:trading's ~${eventsPerSecond.toLocaleString('en-US')} events/s: appends ${share(append).toFixed(1)} % of a core, reads ${share(3 * read).toFixed(1)} % (3 subscriptions each)`,
  );
}
console.log(`(JSON.parse of the same reads: ${share(3 * json).toFixed(1)} %)`);
