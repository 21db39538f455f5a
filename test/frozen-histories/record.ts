/**
 * Records a frozen history: runs a realistic session of the product through its HTTP API
 * (the specification's worked example, the ordering flow, a failed deal, cancels, a refused
 * sell order, logouts, a profile update, keyed retries) on a fresh embedded store, lets every
 * projection and process manager settle, and writes into `<dir>`:
 *
 * - `events.jsonl`: `$all`, one event a line, with its position, stream, revision, id,
 *   type, data, metadata and time — exactly as this build stored it;
 * - `read-models.json`: every projection's documents, by collection and id;
 * - `states.json`: every stream folded by its decider (the snapshot codec's encoding);
 * - `faults.json`: what reading the history must refuse (see `injectFault`).
 *
 * Run once, by hand, to add a history: `npm run build && node dist/test/frozen-histories/record.js test/frozen-histories/<name> [fault]`.
 * A recorded history is never rewritten (test/frozen-histories/README.md).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadStream } from '../../infra/eventsourcing/command-handling/handle-command.js';
import { StreamStateCache } from '../../infra/eventsourcing/command-handling/stream-state-cache.js';
import { accountStream } from '../../domain/billing/events.js';
import type { EventStore, RecordedEvent } from '../../infra/eventsourcing/event-store/event-store.js';
import { formatPosition } from '../../infra/eventsourcing/event-store/position.js';
import { openSqliteEventStore } from '../../infra/sqlite/event-store/sqlite-event-store.js';
import type { System } from '../../infra/composition-root/system.js';
import { Client, positionOf } from '../http/client.js';
import { Market, eventually } from '../http/trading-client.js';
import { startApiServer } from '../support/api-server.js';
import { aggregateOf } from './aggregates.js';
import { dumpReadModels, type FrozenEvent, type FrozenFaults, type FrozenState } from './files.js';

const PASSWORD = 'secret-password';

async function main(dir: string, fault: FaultKind): Promise<void> {
  const server = await startApiServer();
  try {
    const api = new Client(server.baseUrl);
    const market = new Market(api);
    const mallory = await session(api, market, server.system);
    await settle(server.system);
    mkdirSync(dir, { recursive: true });
    // The log as stored, read (and the fault written) past the versioned store, as another tool would.
    const raw = openSqliteEventStore({
      file: join(server.config.dataDir, 'events.db'),
      durability: 'normal',
      writer: 'inline',
    });
    const events = await raw.readAll();
    const readModels = dumpReadModels(
      join(server.config.dataDir, 'read.db'),
      server.system.handlers.flatMap((h) => h.collections),
    );
    const states = await foldEveryStream(server.system.eventStore, events);
    const { event: bad, faults } = await injectFault(raw, events, mallory, fault);
    await raw.close();
    writeFileSync(join(dir, 'events.jsonl'), `${[...events, bad].map((e) => JSON.stringify(frozen(e))).join('\n')}\n`);
    writeFileSync(join(dir, 'read-models.json'), `${JSON.stringify(readModels, null, 1)}\n`);
    writeFileSync(join(dir, 'states.json'), `${JSON.stringify(states, null, 1)}\n`);
    writeFileSync(join(dir, 'faults.json'), `${JSON.stringify(faults, null, 1)}\n`);
    console.log(`${dir}: ${events.length + 1} events, ${Object.keys(states).length} streams folded`);
  } finally {
    await server.close();
  }
}

/** Everything a week of a small market might hold, request by request. */
async function session(api: Client, market: Market, system: System): Promise<string> {
  const step = () => settle(system);
  const broker = await market.broker();
  const alice = await trader(api, 'alice@frozen.test', 'Alice', 'Smith');
  const bob = await trader(api, 'bob@frozen.test', 'Bob', 'Jones');
  const carol = await trader(api, 'carol@frozen.test', 'Carol', 'White');
  const dave = await trader(api, 'dave@frozen.test', 'Dave', 'Brown');
  const erin = await trader(api, 'erin@frozen.test', 'Erin', 'Green');
  const mallory = await trader(api, 'mallory@frozen.test', 'Mallory', 'Black');
  await step();
  await noContent(api.deposit(mallory.token, 100, { 'if-match': (await api.balance(mallory.token)).etag }));

  // The worked example of the specification.
  const sword = await created(
    market.listItem(broker.token, {
      name: 'Sword of the Worked Example',
      initialCount: 1,
      initialPrice: 200,
      commissionPercent: 10,
    }),
  );
  await step();
  await accepted(
    market.postOrder(
      alice.token,
      'purchase',
      { itemId: sword.id, price: 200 },
      { 'if-match': await market.etag(alice.token, 'purchase') },
    ),
  );
  await step(); // declined: not enough money
  await noContent(api.deposit(alice.token, 1000, { 'if-match': (await api.balance(alice.token)).etag }));
  await accepted(
    market.postOrder(
      alice.token,
      'purchase',
      { itemId: sword.id, price: 200 },
      { 'if-match': await market.etag(alice.token, 'purchase') },
    ),
  );
  await step();
  await accepted(
    market.postOrder(
      alice.token,
      'sell',
      { itemId: sword.id, price: 250 },
      { 'if-match': await market.etag(alice.token, 'sell') },
    ),
  );
  await noContent(api.deposit(bob.token, 1000, { 'if-match': (await api.balance(bob.token)).etag }));
  const low = await accepted(
    market.postOrder(
      bob.token,
      'purchase',
      { itemId: sword.id, price: 200 },
      { 'if-match': await market.etag(bob.token, 'purchase') },
    ),
  );
  await ok(market.cancel(bob.token, 'purchase', String(low.id)));
  await accepted(
    market.postOrder(
      bob.token,
      'purchase',
      { itemId: sword.id, price: 260 },
      { 'if-match': await market.etag(bob.token, 'purchase') },
    ),
  );
  await step();
  const bobAccount = await api.balance(bob.token);
  await noContent(api.withdraw(bob.token, 700, { 'if-match': bobAccount.etag }));
  const again = await api.withdraw(bob.token, 700, { 'if-match': bobAccount.etag });
  if (again.status !== 412) throw new Error(`the repeated withdrawal answered ${again.status}`);

  // The ordering flow: 600 paid, 600 more declined.
  await noContent(api.deposit(carol.token, 1000, { 'idempotency-key': 'carol-first-deposit' }));
  await noContent(api.deposit(carol.token, 1000, { 'idempotency-key': 'carol-first-deposit' })); // a retry: changes nothing
  await accepted(market.postCustomerOrder(carol.token, { price: 600 }, { 'idempotency-key': 'carol-order-1' }));
  await step();
  await accepted(market.postCustomerOrder(carol.token, { price: 600 }, { 'idempotency-key': 'carol-order-2' }));
  await step();

  // A second item, several units, a commission with half-cents: deals, a failed deal, a resting bid, cancels, a refusal.
  const shield = await created(
    market.listItem(broker.token, {
      name: 'Shield of Frozen Time',
      initialCount: 3,
      initialPrice: 150,
      commissionPercent: 12.5,
    }),
  );
  await step();
  await noContent(api.deposit(dave.token, 500, { 'idempotency-key': 'dave-deposit' }));
  await accepted(market.place(dave.token, 'purchase', shield.id, 160));
  await step();
  await accepted(market.place(dave.token, 'purchase', shield.id, 155.55));
  await step();
  await accepted(market.place(erin.token, 'purchase', shield.id, 150)); // Erin has no money: the deal fails
  await step();
  const daveBid = await accepted(market.place(dave.token, 'purchase', shield.id, 99.99)); // rests below the ask
  const daveAsk = await accepted(market.place(dave.token, 'sell', shield.id, 300)); // rests above the bids
  await ok(market.cancel(dave.token, 'sell', String(daveAsk.id)));
  const refused = await market.place(carol.token, 'sell', shield.id, 120); // Carol holds no shield
  if (refused.status !== 422) throw new Error(`the refused sell order answered ${refused.status}: ${refused.text}`);
  await noContent(api.deposit(erin.token, 300, { 'idempotency-key': 'erin-deposit' }));
  await accepted(market.place(erin.token, 'purchase', shield.id, 151)); // the unit back in the book, now paid for
  await step();
  await ok(market.cancel(dave.token, 'purchase', String(daveBid.id)));

  // Profiles and sessions.
  const profile = await api.put('/api/v1/identity/profile', {
    token: carol.token,
    json: { firstName: 'Carol', lastName: 'White-Stone', phone: '+44 20 7946 0000' },
  });
  if (profile.status !== 200) throw new Error(`profile update answered ${profile.status}: ${profile.text}`);
  await noContent(api.post('/api/v1/identity/logout', { token: alice.token }));
  const bobAgain = await api.login('bob@frozen.test', PASSWORD);
  await noContent(api.post('/api/v1/identity/logout', { token: String(bobAgain.body.accessToken) }));
  await step();
  return mallory.id;
}

async function trader(api: Client, email: string, firstName: string, lastName: string) {
  const registered = await api.register({ email, password: PASSWORD, firstName, lastName });
  if (registered.status !== 201) throw new Error(`register ${email}: ${registered.status} ${registered.text}`);
  const login = await api.login(email, PASSWORD);
  const token = String(login.body.accessToken);
  await eventually(
    async () => {
      if ((await api.account(token)).status !== 200) throw new Error('no account yet');
    },
    5000,
    `the account of ${email}`,
  );
  return { id: String(registered.body.id), token };
}

async function expectStatus(answer: Promise<import('../http/client.js').Answer>, status: number) {
  const a = await answer;
  if (a.status !== status) throw new Error(`${a.describe}: expected ${status}: ${a.text}`);
  positionOf(a);
  return a.body as { id: string } & Record<string, unknown>;
}
const created = (a: Promise<import('../http/client.js').Answer>) => expectStatus(a, 201);
const accepted = (a: Promise<import('../http/client.js').Answer>) => expectStatus(a, 202);
const ok = (a: Promise<import('../http/client.js').Answer>) => expectStatus(a, 200);
const noContent = (a: Promise<import('../http/client.js').Answer>) => expectStatus(a, 204);

/** Waits until every projection and process manager has handled the whole log and nothing new was appended meanwhile. */
async function settle(system: System): Promise<void> {
  for (;;) {
    const head = await system.eventStore.headPosition();
    if (!head) return;
    await system.gate.waitFor(head, 10_000);
    for (const runner of system.runners) await runner.waitFor(head);
    const after = await system.eventStore.headPosition();
    if (after && formatPosition(after) === formatPosition(head)) return;
  }
}

async function foldEveryStream(eventStore: EventStore, events: RecordedEvent[]) {
  const states: Record<string, FrozenState> = {};
  for (const streamId of [...new Set(events.map((e) => e.streamId))].sort()) {
    const aggregate = aggregateOf(streamId);
    if (!aggregate?.decider.snapshot) continue;
    const { state } = await loadStream({ eventStore, cache: new StreamStateCache() }, aggregate.decider, streamId);
    states[streamId] = {
      aggregate: aggregate.name,
      codecVersion: aggregate.decider.snapshot.version,
      state: aggregate.decider.snapshot.encode(state),
    };
  }
  return states;
}

/**
 * The fault the history ends with, in the account of a user of its own, appended after
 * everything else (so the recorded read models and states are those before it):
 * - `broken-import`: a deposit a broken import tool wrote with `amount: "10.50"` (a decimal
 *   string, not integer cents), no version recorded;
 * - `newer-build`: a deposit a newer build wrote at a version this build does not know (a
 *   rolled-back deployment), with a currency field this build has never heard of.
 * No build may fold either into a balance: the billing projection parks it, and the account
 * cannot be loaded for a command.
 */
type FaultKind = 'broken-import' | 'newer-build';

async function injectFault(
  eventStore: EventStore,
  events: RecordedEvent[],
  userId: string,
  kind: FaultKind,
): Promise<{ event: RecordedEvent; faults: FrozenFaults }> {
  const streamId = accountStream(userId);
  const opened = events.find((e) => e.streamId === streamId && e.type === 'AccountOpened')!;
  const last = events.filter((e) => e.streamId === streamId).at(-1)!;
  const base = { accountId: opened.data.accountId!, userId, operationId: randomUUID(), at: new Date().toISOString() };
  const [data, metadata, errorIncludes] =
    kind === 'broken-import'
      ? [
          { ...base, amount: '10.50', balance: '10.50' },
          { correlationId: 'import-2026-csv-batch-7' },
          ['MoneyDeposited', 'amount'],
        ]
      : [
          { ...base, amount: 1050, balance: Number(last.data.balance ?? 0) + 1050, currency: 'EUR' },
          { correlationId: randomUUID(), schemaVersion: 2 },
          ['MoneyDeposited version 2 was written by a newer build'],
        ];
  await eventStore.appendToStream(streamId, [{ id: randomUUID(), type: 'MoneyDeposited', data, metadata }], {
    expectedRevision: last.revision,
  });
  const event = (await eventStore.readAll({ direction: 'backwards', maxCount: 1 }))[0]!;
  const position = formatPosition(event.position);
  return {
    event,
    faults: {
      parked: [{ projection: 'billing', eventId: event.id, eventType: event.type, streamId, position, errorIncludes }],
      unreadableStreams: [{ streamId, errorIncludes }],
    },
  };
}

function frozen(e: RecordedEvent): FrozenEvent {
  return {
    position: formatPosition(e.position),
    streamId: e.streamId,
    revision: e.revision,
    id: e.id,
    type: e.type,
    data: e.data,
    metadata: e.metadata as Record<string, unknown>,
    created: e.created.toISOString(),
  };
}

const [target, fault = 'broken-import'] = process.argv.slice(2);
if (!target || (fault !== 'broken-import' && fault !== 'newer-build')) {
  console.error('usage: node dist/test/frozen-histories/record.js <directory> [broken-import|newer-build]');
  process.exit(2);
}
await main(resolve(target), fault);
