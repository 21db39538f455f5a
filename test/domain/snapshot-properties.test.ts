/**
 * Snapshots never change what a stream means: for every decider, over random valid
 * histories, the state folded from a snapshot (written as JSON, read back) plus the
 * events after it is exactly the state folded from the whole stream — the same encoding,
 * and the same answer to any command. And a snapshot that is not what `encode` wrote is
 * refused (SnapshotShapeError), so the stream is folded from its start instead.
 */
import { expect } from 'chai';
import { account } from '../../domain/billing/account.js';
import { BusinessRuleViolation, fold, type DomainEvent } from '../../domain/decider.js';
import { user } from '../../domain/identity/user.js';
import { StepBelowFloor } from '../../domain/operation-memory.js';
import { customerOrders } from '../../domain/ordering/customer-orders.js';
import { SnapshotShapeError, type SnapshotCodec } from '../../domain/snapshot.js';
import { market } from '../../domain/trading/market.js';
import { traderOrders } from '../../domain/trading/trader-orders.js';
import {
  accountSource,
  customerOrdersSource,
  marketSource,
  traderOrdersSource,
  userSource,
  type CommandSource,
  type Model,
} from '../support/histories.js';
import { random } from '../support/random.js';

const HISTORIES = 220;
const COMMANDS_COMPARED = 20;

/** What deciding a command gives: its events, or the refusal (a rule's code, or an error's name). */
function outcome<S, C, E extends DomainEvent>(model: Model<S, C, E>, command: C, state: S): unknown {
  try {
    return { events: model.decider.decide(command, state) };
  } catch (error) {
    if (error instanceof BusinessRuleViolation) return { refused: error.code };
    if (error instanceof Error) return { failed: error.name };
    throw error;
  }
}

/** A valid history: random commands decided on the state so far, refusals skipped. */
function history<S, C, E extends DomainEvent>(model: Model<S, C, E>, source: CommandSource<S, C>, length: number): E[] {
  const events: E[] = [];
  let state = model.decider.initialState();
  for (let i = 0; i < length; i++) {
    const command = source.next(state);
    let decided: E[];
    try {
      decided = model.decider.decide(command, state);
    } catch (error) {
      if (error instanceof BusinessRuleViolation || error instanceof StepBelowFloor) continue;
      throw error;
    }
    for (const event of decided) state = model.decider.evolve(state, event);
    events.push(...decided);
  }
  return events;
}

function codecOf<S, C, E extends DomainEvent>(model: Model<S, C, E>): SnapshotCodec<S> {
  const codec = model.decider.snapshot;
  if (!codec) throw new Error(`${model.name} has no snapshot codec`);
  return codec;
}

/** Written and read back as a snapshot store does: JSON text in between. */
function throughSnapshot<S>(codec: SnapshotCodec<S>, state: S): S {
  return codec.decode(JSON.parse(JSON.stringify(codec.encode(state))));
}

function expectShapeError(decode: () => unknown, what: string): void {
  let error: unknown;
  try {
    decode();
  } catch (e) {
    error = e;
  }
  expect(error, `${what} was accepted`).to.be.instanceOf(SnapshotShapeError);
}

/** Nested fields each model's snapshot must have: deleted or given the wrong type, decoding fails. */
const nestedPaths: Record<string, string[][]> = {
  account: [
    ['operations', 'requested'],
    ['operations', 'steps'],
    ['operations', 'requested', 'older'],
  ],
  market: [
    ['active', '0', 'side'],
    ['active', '0', 'rememberUntil'],
    ['closed', 'newer'],
    ['holdings', '0', '1', 'owned'],
    ['asks', '0', '1'],
  ],
  user: [
    ['profile', 'firstName'],
    ['loggedOut', 'older'],
    ['loggedOut', 'newerHighest'],
  ],
  traderOrders: [
    ['orders', 'older'],
    ['rejected', 'newer'],
  ],
  customerOrders: [
    ['pending', '0', '1', 'rememberUntil'],
    ['ended', 'olderHighest'],
  ],
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The parent of `path` in `root` (objects and arrays alike) and the last key, or null when the path is not there. */
function parentOf(root: Json, path: string[]): { parent: Record<string, Json> | Json[]; key: string } | null {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return null;
    const child: Json | undefined = Array.isArray(node) ? node[Number(key)] : node[key];
    if (child === undefined) return null;
    node = child;
  }
  return node !== null && typeof node === 'object' ? { parent: node, key: path.at(-1)! } : null;
}

function valueAt(root: Json, path: string[]): Json | undefined {
  const at = parentOf(root, path);
  if (!at) return undefined;
  return Array.isArray(at.parent) ? at.parent[Number(at.key)] : at.parent[at.key];
}

function withChange(encoded: Json, path: string[], change: 'delete' | Json): Json | null {
  const copy = JSON.parse(JSON.stringify(encoded)) as Json;
  const at = parentOf(copy, path);
  if (!at) return null;
  const { parent, key } = at;
  if (Array.isArray(parent)) {
    if (change === 'delete') parent.splice(Number(key), 1);
    else parent[Number(key)] = change;
  } else if (change === 'delete') delete parent[key];
  else parent[key] = change;
  return copy;
}

function describeSnapshots<S, C, E extends DomainEvent>(m: Model<S, C, E>): void {
  describe(m.name, () => {
    it(`folding from a snapshot plus the rest gives exactly the state of the whole stream, and the same decisions (${HISTORIES} histories)`, () => {
      const codec = codecOf(m);
      let compared = 0;
      let refusalsCompared = 0;
      let repeatsCompared = 0;
      for (let seed = 1; seed <= HISTORIES; seed++) {
        const rnd = random(seed * 7919 + m.name.length);
        const source = m.source(rnd);
        const events = history(m, source, rnd.int(1, 150));
        const k = rnd.int(0, events.length);
        const whole = fold(m.decider, events);
        const fromSnapshot = events
          .slice(k)
          .reduce(
            (state, event) => m.decider.evolve(state, event),
            throughSnapshot(codec, fold(m.decider, events.slice(0, k))),
          );
        const where = `${m.name}, seed ${seed}, ${events.length} events, snapshot after ${k}`;
        expect(codec.encode(fromSnapshot), where).to.deep.equal(codec.encode(whole));
        for (let i = 0; i < COMMANDS_COMPARED; i++) {
          const command = source.next(whole);
          const expected = outcome(m, command, whole);
          expect(outcome(m, command, fromSnapshot), `${where}: ${JSON.stringify(command)}`).to.deep.equal(expected);
          compared += 1;
          if (!(expected as { events?: unknown[] }).events) refusalsCompared += 1;
          else if ((expected as { events: unknown[] }).events.length === 0) repeatsCompared += 1;
        }
      }
      // The histories exercise the interesting cases: refusals, and repeats that change nothing.
      expect(compared).to.equal(HISTORIES * COMMANDS_COMPARED);
      expect(repeatsCompared, 'repeats compared').to.be.greaterThan(100);
      if (m.name !== 'traderOrders' && m.name !== 'customerOrders')
        expect(refusalsCompared, 'refusals compared').to.be.greaterThan(20);
    });

    it('the snapshot state also equals a snapshot of the whole stream taken at its end (snapshots of snapshots)', () => {
      const codec = codecOf(m);
      for (let seed = 1; seed <= 40; seed++) {
        const rnd = random(seed * 104_729 + 3);
        const events = history(m, m.source(rnd), 100);
        const cuts = [rnd.int(0, events.length), rnd.int(0, events.length), rnd.int(0, events.length)].sort(
          (a, b) => a - b,
        );
        let state = m.decider.initialState();
        let done = 0;
        for (const cut of [...cuts, events.length]) {
          state = throughSnapshot(
            codec,
            events.slice(done, cut).reduce((s, e) => m.decider.evolve(s, e), state),
          );
          done = cut;
        }
        expect(codec.encode(state)).to.deep.equal(codec.encode(fold(m.decider, events)));
      }
    });

    it('decode refuses garbage, wrong types, a missing field and a truncated object; the version is a positive integer', () => {
      const codec = codecOf(m);
      expect(Number.isSafeInteger(codec.version) && codec.version > 0, `version ${codec.version}`).to.equal(true);
      for (const garbage of [null, 42, 'state', true, [], [1, 2], {}, { nope: 1 }])
        expectShapeError(() => codec.decode(garbage), `garbage ${JSON.stringify(garbage)}`);
      // A state with something in every part named below: the first of a few histories that has it all.
      const rnd = random(99);
      const source = m.source(rnd);
      const paths = nestedPaths[m.name]!;
      const samples = Array.from(
        { length: 30 },
        () => JSON.parse(JSON.stringify(codec.encode(fold(m.decider, history(m, source, 150))))) as Json,
      );
      const encoded = samples.find((sample) =>
        paths.every(
          (path) =>
            parentOf(sample, path) !== null &&
            withChange(sample, path, 'delete') !== null &&
            valueAt(sample, path) !== undefined,
        ),
      );
      if (encoded === undefined)
        expect.fail(`${m.name}: no sample state has all of ${paths.map((p) => p.join('.')).join(', ')}`);
      expect(() => codec.decode(encoded), 'the state itself decodes').to.not.throw();
      const keys = Object.keys(encoded as Record<string, Json>);
      expect(keys.length).to.be.greaterThan(1);
      for (const key of keys) {
        expectShapeError(() => codec.decode(withChange(encoded, [key], 'delete')), `without ${key}`);
        expectShapeError(
          () => codec.decode(withChange(encoded, [key], { nope: [1] })),
          `${key} as an object of another shape`,
        );
        expectShapeError(() => codec.decode(withChange(encoded, [key], [[['x']]])), `${key} as nested arrays`);
      }
      // Only the first half of the fields (a write cut short).
      expectShapeError(
        () =>
          codec.decode(
            Object.fromEntries(Object.entries(encoded as Record<string, Json>).slice(0, Math.floor(keys.length / 2))),
          ),
        'truncated object',
      );
      for (const path of paths) {
        const without = withChange(encoded, path, 'delete');
        // Deleting an array element leaves a shorter, valid array; only objects' fields must be there.
        if (!/^\d+$/.test(path.at(-1)!)) expectShapeError(() => codec.decode(without), `without ${path.join('.')}`);
        expectShapeError(
          () => codec.decode(withChange(encoded, path, { nope: [1] })),
          `${path.join('.')} of the wrong type`,
        );
      }
    });
  });
}

describe('snapshots of every decider (property tests over random histories)', function () {
  this.timeout(120_000);
  describeSnapshots({ name: 'account', decider: account, source: accountSource });
  describeSnapshots({ name: 'market', decider: market, source: marketSource });
  describeSnapshots({ name: 'user', decider: user, source: userSource });
  describeSnapshots({ name: 'traderOrders', decider: traderOrders, source: traderOrdersSource });
  describeSnapshots({ name: 'customerOrders', decider: customerOrders, source: customerOrdersSource });
});
