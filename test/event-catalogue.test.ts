/**
 * The event catalogue (docs/events.md): checked in, and exactly what `npm run docs:events`
 * generates from the event definitions and the wired handlers; every event type of the
 * runtime lists is in it, with its stream and consumers; the source reader expands fields
 * (intersections, nested named types, doc comments).
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountEventTypes } from '../domain/billing/events.js';
import { userEventTypes } from '../domain/identity/events.js';
import { marketEventTypes } from '../domain/trading/events.js';
import { readEventSource } from '../infra/cli/event-catalogue-source.js';
import { buildEventCatalogue, type EventCatalogue } from '../infra/cli/event-catalogue.js';
import { CATALOGUE_FILE, REGENERATE_COMMAND, renderEventCatalogue } from '../infra/cli/event-catalogue-markdown.js';
import { repoDir, tempDir } from './support/process.js';

describe('event catalogue', function () {
  this.timeout(20_000);
  let catalogue: EventCatalogue;
  let checkedIn: string;
  before(async () => {
    catalogue = await buildEventCatalogue();
    checkedIn = readFileSync(join(repoDir, CATALOGUE_FILE), 'utf8');
  });
  const event = (type: string) => {
    const found = catalogue.events.find((e) => e.type === type);
    expect(found, type).to.not.equal(undefined);
    return found!;
  };

  it(`${CATALOGUE_FILE} is what \`${REGENERATE_COMMAND}\` generates`, () => {
    const generated = renderEventCatalogue(catalogue);
    if (generated !== checkedIn) {
      const lines = generated.split('\n');
      const old = checkedIn.split('\n');
      const at = lines.findIndex((line, i) => line !== old[i]);
      expect.fail(`${CATALOGUE_FILE} is stale: run \`${REGENERATE_COMMAND}\` and commit it (first difference, line ${at + 1}: expected ${JSON.stringify(lines[at])}, found ${JSON.stringify(old[at])})`);
    }
  });

  it('has a section for every type of the runtime *EventTypes lists', () => {
    expect([...catalogue.typeLists.keys()]).to.include.members(['accountEventTypes', 'userEventTypes', 'marketEventTypes']);
    const listed = [...accountEventTypes, ...userEventTypes, ...marketEventTypes, ...[...catalogue.typeLists.values()].flat()];
    const headings = new Set(checkedIn.split('\n').filter((l) => l.startsWith('### ')).map((l) => l.slice(4)));
    expect(listed.filter((type) => !headings.has(type)), 'event types without a section').to.deep.equal([]);
  });

  it('catalogues the events no runtime list names too (every DomainEvent type of domain/*/events.ts)', () => {
    const types = catalogue.events.map((e) => e.type);
    expect(types).to.include.members(['EmailReserved', 'OrderCreated', 'OrderSucceeded', 'OrderFailed', 'OrderSubmitted', 'OrderRejected']);
    expect(new Set(types).size, 'each event once').to.equal(types.length);
  });

  it('names each event\'s stream as its module\'s stream function does', () => {
    expect(event('MoneyDeposited').stream).to.equal('account-{userId}');
    expect(event('UserRegistered').stream).to.equal('user-{userId}');
    expect(event('EmailReserved').stream).to.equal('email-{email}');
    expect(event('OrderCreated').stream).to.equal('customer-orders-{userId}');
    expect(event('DealCompleted').stream).to.equal('market-{itemId}');
    expect(event('OrderSubmitted').stream).to.equal('trader-orders-{userId}');
  });

  it('lists as consumers the projections and process managers whose subscriptions admit the event', () => {
    const consumers = (type: string) => event(type).consumers.map((c) => `${c.name}:${c.kind}`);
    expect(consumers('DealCompleted')).to.have.members(['trading:projection', 'history:projection', 'statistics:projection', 'notifications:projection']);
    expect(consumers('UserRegistered')).to.have.members(['identity:projection', 'notifications:projection', 'account-opening:process-manager']);
    expect(consumers('PaymentMade')).to.have.members(['billing:projection', 'deal-settlement:process-manager', 'order-payment:process-manager']);
    expect(consumers('OrderSubmitted')).to.have.members(['trading:projection', 'order-placement:process-manager']);
    expect(consumers('EmailReserved')).to.deep.equal([]);
    expect(catalogue.consumers.map((c) => c.name)).to.include.members(['billing', 'account-opening', 'deal-settlement', 'order-payment', 'order-placement']);
  });

  it('gives each event its fields with their declared types, intersections merged and doc comments kept', () => {
    const fields = (type: string) => event(type).fields.map((f) => `${f.name}: ${f.type}`);
    expect(fields('PaymentMade')).to.deep.equal(['accountId: string', 'userId: string', 'operationId: string', 'amount: Cents', 'memory: OperationMemory', 'balance: Cents', 'purpose: PaymentPurpose', 'at: string']);
    expect(fields('UserProfileUpdated')).to.deep.equal(['userId: string', 'at: string', 'firstName: string', 'lastName: string', 'phone: string | null']);
    expect(event('DealCompleted').fields.find((f) => f.name === 'buyerCommission')?.doc).to.equal('What the buyer pays on top of the price.');
    expect(event('UserLoggedOut').doc).to.match(/^A signed-out access token/);
    const purpose = catalogue.namedTypes.find((t) => t.name === 'PaymentPurpose');
    expect(purpose?.variants?.map((v) => v.map((f) => f.name))).to.deep.equal([
      ['kind', 'dealId', 'itemId', 'itemName', 'commission'],
      ['kind', 'orderId'],
    ]);
    expect(catalogue.namedTypes.map((t) => t.name)).to.include.members(['AccrualPurpose', 'CommissionSource', 'Cents', 'Role', 'Side']);
  });

  it('reads any events module: optional fields, nested named types followed to the end, events of no union', () => {
    const root = tempDir('market-catalogue-source-');
    try {
      mkdirSync(join(root.path, 'domain', 'parcel'), { recursive: true });
      writeFileSync(join(root.path, 'domain', 'decider.ts'), 'export interface DomainEvent<Type extends string = string, Data extends object = object> { type: Type; data: Data }\n');
      writeFileSync(
        join(root.path, 'domain', 'parcel', 'events.ts'),
        [
          "import type { DomainEvent } from '../decider.js';",
          '/** Grams. */',
          'export type Weight = number;',
          'export interface Box {',
          '  /** Outside size. */',
          '  size: Size;',
          '  weight: Weight;',
          '}',
          "export type Size = 'S' | 'L';",
          '/** A parcel left the depot. */',
          "export type ParcelSent = DomainEvent<'ParcelSent', { parcelId: string; box?: Box } & { at: string }>;",
          "export type ParcelLost = DomainEvent<'ParcelLost', { parcelId: string }>;",
          'export type ParcelEvent = ParcelSent;',
          'export const parcelStream = (parcelId: string) => `parcel-${parcelId}`;',
        ].join('\n'),
      );
      const source = readEventSource(root.path);
      expect(source.events.map((e) => [e.type, e.module, e.file, e.doc])).to.deep.equal([
        ['ParcelSent', 'parcel', 'domain/parcel/events.ts', 'A parcel left the depot.'],
        ['ParcelLost', 'parcel', 'domain/parcel/events.ts', ''],
      ]);
      expect(source.events[0]!.fields.map((f) => [f.name, f.type, f.optional, f.references])).to.deep.equal([
        ['parcelId', 'string', false, []],
        ['box', 'Box', true, ['Box']],
        ['at', 'string', false, []],
      ]);
      expect(source.namedTypes.map((t) => [t.name, t.doc, t.definition ?? t.fields?.map((f) => `${f.name}: ${f.type} (${f.doc})`)])).to.deep.equal([
        ['Box', '', ['size: Size (Outside size.)', 'weight: Weight ()']],
        ['Size', '', "'S' | 'L'"],
        ['Weight', 'Grams.', 'number'],
      ]);
      expect(source.streamFunctions).to.deep.equal([{ module: 'parcel', name: 'parcelStream', parameters: ['parcelId'] }]);
    } finally {
      root.remove();
    }
  });
});
