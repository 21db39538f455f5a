/**
 * The event catalogue (docs/events.md): checked in, and exactly what `npm run docs:events`
 * generates from the event definitions and the wired handlers; every event type of the
 * runtime lists is in it, with its stream and consumers; the source reader expands fields
 * (intersections, nested named types, doc comments).
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accountEventTypes } from '../domain/billing/events.js';
import { userEventTypes } from '../domain/identity/events.js';
import { marketEventTypes } from '../domain/trading/events.js';
import * as z from 'zod';
import { domainEvents } from '../domain/events.js';
import { fieldsOf, namedTypeOf } from '../infra/cli/event-catalogue-fields.js';
import { buildEventCatalogue, type EventCatalogue } from '../infra/cli/event-catalogue.js';
import { CATALOGUE_FILE, REGENERATE_COMMAND, renderEventCatalogue } from '../infra/cli/event-catalogue-markdown.js';
import { repoDir } from './support/process.js';

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
      expect.fail(
        `${CATALOGUE_FILE} is stale: run \`${REGENERATE_COMMAND}\` and commit it (first difference, line ${at + 1}: expected ${JSON.stringify(lines[at])}, found ${JSON.stringify(old[at])})`,
      );
    }
  });

  it('has a section for every event type the system declares', () => {
    const listed = [
      ...accountEventTypes,
      ...userEventTypes,
      ...marketEventTypes,
      ...domainEvents.all().map((e) => e.type),
    ];
    const headings = new Set(
      checkedIn
        .split('\n')
        .filter((l) => l.startsWith('### '))
        .map((l) => l.slice(4)),
    );
    expect(
      listed.filter((type) => !headings.has(type)),
      'event types without a section',
    ).to.deep.equal([]);
  });

  it('catalogues the events of every stream, those no type list names too', () => {
    const types = catalogue.events.map((e) => e.type);
    expect(types).to.include.members([
      'EmailReserved',
      'OrderCreated',
      'OrderSucceeded',
      'OrderFailed',
      'OrderSubmitted',
      'OrderRejected',
    ]);
    expect(new Set(types).size, 'each event once').to.equal(types.length);
  });

  it("names each event's stream as its module's stream function does", () => {
    expect(event('MoneyDeposited').stream).to.equal('account-{userId}');
    expect(event('UserRegistered').stream).to.equal('user-{userId}');
    expect(event('EmailReserved').stream).to.equal('email-{claimKey}');
    expect(event('OrderCreated').stream).to.equal('customer-orders-{userId}');
    expect(event('DealCompleted').stream).to.equal('market-{itemId}');
    expect(event('OrderSubmitted').stream).to.equal('trader-orders-{userId}');
  });

  it('lists as consumers the projections and process managers whose subscriptions admit the event', () => {
    const all = (type: string) => event(type).consumers.map((c) => `${c.name}:${c.kind}`);
    // The erasure reads every event (infra/eventsourcing/personal-data/erasure.ts): said once here, left out below.
    for (const { type } of catalogue.events) expect(all(type)).to.include('personal-data-erasure:projection');
    const consumers = (type: string) => all(type).filter((c) => c !== 'personal-data-erasure:projection');
    expect(consumers('DealCompleted')).to.have.members([
      'trading:projection',
      'market-data:projection',
      'history:projection',
      'statistics:projection',
      'notifications:projection',
      'portfolio-history:projection',
    ]);
    expect(consumers('UserRegistered')).to.have.members([
      'identity:projection',
      'notifications:projection',
      'user-directory:projection',
      'account-opening:process-manager',
    ]);
    expect(consumers('UserBlocked')).to.have.members([
      'user-directory:projection',
      'blocked-user-orders:process-manager',
    ]);
    expect(consumers('PaymentMade')).to.have.members([
      'billing:projection',
      'deal-settlement:process-manager',
      'order-payment:process-manager',
    ]);
    expect(consumers('OrderSubmitted')).to.have.members(['trading:projection', 'order-placement:process-manager']);
    expect(consumers('EmailReserved')).to.deep.equal([]);
    expect(catalogue.consumers.map((c) => c.name)).to.include.members([
      'billing',
      'account-opening',
      'deal-settlement',
      'order-payment',
      'order-placement',
    ]);
  });

  it('gives each event its fields with their types, shared fields merged and descriptions kept', () => {
    const fields = (type: string) => event(type).fields.map((f) => `${f.name}: ${f.type}`);
    expect(fields('PaymentMade')).to.deep.equal([
      'accountId: string',
      'userId: string',
      'operationId: string',
      'amount: Cents',
      'memory: OperationMemory',
      'balance: Cents',
      'purpose: PaymentPurpose',
      'at: Instant',
    ]);
    expect(fields('UserProfileUpdated')).to.deep.equal([
      'userId: string',
      'at: Instant',
      'firstName: string',
      'lastName: string',
      'phone: string | null',
    ]);
    expect(event('DealCompleted').fields.find((f) => f.name === 'buyerCommission')?.doc).to.equal(
      'What the buyer pays on top of the price.',
    );
    expect(event('UserLoggedOut').doc).to.match(/^A signed-out access token/);
    const purpose = catalogue.namedTypes.find((t) => t.name === 'PaymentPurpose');
    expect(purpose?.variants?.map((v) => v.map((f) => f.name))).to.deep.equal([
      ['kind', 'dealId', 'itemId', 'itemName', 'commission'],
      ['kind', 'orderId'],
    ]);
    expect(catalogue.namedTypes.map((t) => t.name)).to.include.members([
      'AccrualPurpose',
      'CommissionSource',
      'Cents',
      'Role',
      'Side',
    ]);
  });

  it('reads fields from any object schema: optional, nullable, literals, unions, arrays, named references', () => {
    const box = z.strictObject({ size: z.enum(['S', 'L']), weight: z.int().meta({ description: 'Grams.' }) });
    const registry = z.registry<{ id: string }>();
    registry.add(box, { id: 'Box' });
    const parcel = z.strictObject({
      parcelId: z.string(),
      box: box.optional(),
      tags: z.array(z.string()),
      note: z.string().nullable(),
      kind: z.literal('parcel'),
    });
    registry.add(parcel, { id: 'ParcelSent.v1' });
    const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
    expect(
      fieldsOf(schemas['ParcelSent.v1'] as Record<string, unknown>).map((f) => [
        f.name,
        f.type,
        f.optional,
        f.references,
      ]),
    ).to.deep.equal([
      ['parcelId', 'string', false, []],
      ['box', 'Box', true, ['Box']],
      ['tags', 'string[]', false, []],
      ['note', 'string | null', false, []],
      ['kind', "'parcel'", false, []],
    ]);
    expect(
      namedTypeOf('Box', 'domain/parcel/events.ts', schemas.Box as Record<string, unknown>).fields?.map(
        (f) => `${f.name}: ${f.type} (${f.doc})`,
      ),
    ).to.deep.equal(["size: 'S' | 'L' ()", 'weight: integer (Grams.)']);
  });

  it('shows each version an event is read in, with what changed', () => {
    for (const type of domainEvents.all()) {
      const catalogued = event(type.type);
      expect(catalogued.version, type.type).to.equal(type.version);
      expect(catalogued.versions.map((v) => v.version)).to.deep.equal(type.versions.map((v) => v.version));
      if (type.version > 1) expect(checkedIn, type.type).to.include(`Version ${type.version}: `);
    }
  });
});
