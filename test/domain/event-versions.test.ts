/**
 * Event versions: each real upcaster on its own (pure: data in, data out, the input left
 * alone), and the registry that chains them (v1 → v2 → v3) and checks what it reads — with a
 * made-up event type whose three versions exercise every path.
 */
import { expect } from 'chai';
import * as z from 'zod';
import { paymentDeclined } from '../../domain/billing/events.js';
import { EventRegistry, EventType, type EventVersion } from '../../domain/event-schema.js';
import { domainEvents } from '../../domain/events.js';
import { orderFailed } from '../../domain/ordering/events.js';
import { dealFailed } from '../../domain/trading/events.js';

/** Runs the upcaster of `version` (from the version before) on a frozen copy of `data`, so a mutation throws. */
function upcast(type: EventType, version: number, data: object): unknown {
  const step: EventVersion = type.versions[version - 1]!;
  expect(step.upcast, `${type.type} v${version} has an upcaster`).to.be.a('function');
  return (step.upcast as (previous: object) => object)(deepFreeze(structuredClone(data)));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

const at = '2026-11-21T10:00:00.000Z';

describe('event versions', () => {
  describe('the upcasters of the system, one by one', () => {
    it('PaymentDeclined v1 → v2: the words "not enough money" become the code insufficient_funds, nothing else changes', () => {
      const v1 = {
        accountId: 'a1',
        userId: 'u1',
        operationId: 'p1',
        amount: 22_000,
        reason: 'not enough money',
        purpose: { kind: 'order', orderId: 'o1' },
        at,
      };
      const v2 = upcast(paymentDeclined, 2, v1);
      expect(v2).to.deep.equal({ ...v1, reason: 'insufficient_funds' });
      expect(paymentDeclined.schema.safeParse(v2).success).to.equal(true);
    });

    it('DealFailed v1 → v2: the reason in words becomes its code; words without a code are refused, not guessed', () => {
      const v1 = {
        itemId: 'i1',
        itemName: 'Sword',
        dealId: 'd1',
        purchaseOrderId: 'i1.p',
        sellOrderId: 'i1-u0',
        buyerId: 'u1',
        price: 20_000,
        reason: 'not enough money',
        at,
      };
      expect(upcast(dealFailed, 2, v1)).to.deep.equal({ ...v1, reason: 'insufficient_funds' });
      expect(() => upcast(dealFailed, 2, { ...v1, reason: 'card expired' })).to.throw(
        'no failure reason code for the words "card expired"',
      );
    });

    it('OrderFailed v1 → v2: the reason in words becomes its code', () => {
      const v1 = { userId: 'u1', orderId: 'o1', price: 60_000, reason: 'not enough money', at };
      expect(upcast(orderFailed, 2, v1)).to.deep.equal({ ...v1, reason: 'insufficient_funds' });
    });

    it('every version after the first of every event type has an upcaster and says what changed', () => {
      for (const type of domainEvents.all()) {
        expect(
          type.versions.map((v) => v.version),
          type.type,
        ).to.deep.equal(type.versions.map((_, i) => i + 1));
        for (const version of type.versions.slice(1)) {
          expect(version.upcast, `${type.type} v${version.version}`).to.be.a('function');
          expect(version.change, `${type.type} v${version.version}`).to.be.a('string').and.not.equal('');
        }
      }
    });
  });

  describe('the registry, with a made-up event type of three versions', () => {
    // v1: weight in grams as text; v2: weight in grams as a number; v3: the box's size added, from the weight.
    const v1 = z.strictObject({ parcelId: z.string(), grams: z.string() });
    const v2 = z.strictObject({ parcelId: z.string(), grams: z.int() });
    const v3 = z.strictObject({ parcelId: z.string(), grams: z.int(), size: z.enum(['S', 'L']) });
    const parcelSent = EventType.first('ParcelSent', v1)
      .next('grams as a number', v2, (p) => ({ parcelId: p.parcelId, grams: Number(p.grams) }))
      .next('the size of its box', v3, (p) => ({ ...p, size: p.grams > 1000 ? ('L' as const) : ('S' as const) }));
    const registry = new EventRegistry([parcelSent]);

    it('reads version 1 as version 3, one step after the other; an event without a version is version 1', () => {
      expect(registry.read('ParcelSent', 1, { parcelId: 'p1', grams: '1500' })).to.deep.equal({
        readable: true,
        upcast: true,
        data: { parcelId: 'p1', grams: 1500, size: 'L' },
      });
      expect(registry.read('ParcelSent', undefined, { parcelId: 'p1', grams: '20' })).to.deep.equal({
        readable: true,
        upcast: true,
        data: { parcelId: 'p1', grams: 20, size: 'S' },
      });
      expect(registry.read('ParcelSent', 2, { parcelId: 'p1', grams: 20 })).to.deep.equal({
        readable: true,
        upcast: true,
        data: { parcelId: 'p1', grams: 20, size: 'S' },
      });
    });

    it('hands the current version over as it is, after checking it', () => {
      const data = { parcelId: 'p1', grams: 20, size: 'S' };
      const read = registry.read('ParcelSent', 3, data);
      expect(read).to.deep.equal({ readable: true, upcast: false, data });
      expect((read as { data: object }).data).to.equal(data);
    });

    it('refuses, saying why: data that is not what its version says, a version from a newer build or not a number, an unknown type', () => {
      const reason = (type: string, version: unknown, data: unknown) => {
        const read = registry.read(type, version, data);
        expect(read.readable, JSON.stringify(data)).to.equal(false);
        return (read as { reason: string }).reason;
      };
      expect(reason('ParcelSent', 1, { parcelId: 'p1', grams: 20 })).to.match(
        /^ParcelSent version 1 does not match its schema: grams: /,
      );
      expect(reason('ParcelSent', 3, { parcelId: 'p1', grams: 20 })).to.match(
        /^ParcelSent version 3 does not match its schema: size: /,
      );
      expect(reason('ParcelSent', 3, { parcelId: 'p1', grams: 20, size: 'S', colour: 'red' })).to.include('colour');
      expect(reason('ParcelSent', 4, { parcelId: 'p1' })).to.equal(
        'ParcelSent version 4 was written by a newer build (this one reads up to version 3)',
      );
      expect(reason('ParcelSent', '2', { parcelId: 'p1' })).to.equal(
        'ParcelSent has schema version "2", not a version number',
      );
      expect(reason('ParcelLost', 1, {})).to.equal('ParcelLost is not an event type of this system');
    });

    it('refuses what an upcaster makes of an event when it fails the current schema, or when the upcaster throws', () => {
      const broken = new EventRegistry([
        EventType.first('ParcelSent', v1).next('grams as a number', v2, (p) => ({
          parcelId: p.parcelId,
          grams: Number(p.grams),
        })),
      ]);
      const read = broken.read('ParcelSent', 1, { parcelId: 'p1', grams: 'heavy' });
      expect(read).to.deep.equal({
        readable: false,
        reason:
          'ParcelSent version 1 upcast to version 2 does not match its schema: grams: Invalid input: expected number, received NaN',
      });
      const throwing = new EventRegistry([
        EventType.first('ParcelSent', v1).next('grams as a number', v2, () => {
          throw new Error('no scale');
        }),
      ]);
      expect(throwing.read('ParcelSent', 1, { parcelId: 'p1', grams: '1' })).to.deep.equal({
        readable: false,
        reason: 'ParcelSent: upcasting version 1 to 2 failed: no scale',
      });
    });

    it('checks appends against the current version only', () => {
      expect(registry.problemWith('ParcelSent', { parcelId: 'p1', grams: 20, size: 'S' })).to.equal(null);
      expect(registry.problemWith('ParcelSent', { parcelId: 'p1', grams: '20' })).to.match(
        /^ParcelSent version 3 does not match its schema: grams: .*; size: /,
      );
      expect(registry.problemWith('ParcelLost', {})).to.equal('ParcelLost is not an event type of this system');
    });

    it('refuses an event type declared twice', () => {
      expect(() => new EventRegistry([parcelSent, EventType.first('ParcelSent', v1)])).to.throw(
        'event type ParcelSent is declared twice',
      );
    });
  });
});
