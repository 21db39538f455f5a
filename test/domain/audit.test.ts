/**
 * The consistency check's rules (domain/audit.ts) on hand-made logs: a deal settled as the
 * process managers settle it passes every check; each kind of damage is found and named.
 */
import { expect } from 'chai';
import { Audit, type AuditedEvent, type CheckName } from '../../domain/audit.js';

const at = '2026-11-21T10:00:00.000Z';
const now = new Date('2026-11-21T11:00:00.000Z');
let ids = 0;
const e = (type: string, data: Record<string, unknown>): AuditedEvent => ({ id: `e${++ids}`, type, data });

const terms = (dealId: string, sellOrderId = 's-1') => ({
  dealId,
  itemId: 'item',
  itemName: 'Lamp',
  purchaseOrderId: `p-${dealId}`,
  sellOrderId,
  buyerId: 'buyer',
  sellerId: 'seller',
  brokerId: 'broker',
  price: 1000,
  buyerCommission: 100,
  sellerCommission: 100,
  at,
});

/** Money in, the item listed, the seller owning a unit, and one deal settled step by step. */
function settledDeal(dealId = 'd-1'): AuditedEvent[] {
  return [
    e('MoneyDeposited', { accountId: 'a-buyer', amount: 2000, balance: 2000 }),
    e('ItemListed', { itemId: 'item', initialCount: 1, brokerId: 'seller' }),
    e('DealOpened', terms(dealId)),
    e('PaymentMade', { accountId: 'a-buyer', amount: 1100, balance: 900, purpose: { kind: 'deal', dealId } }),
    e('CommissionReceived', { accountId: 'a-broker', amount: 100, balance: 100, source: { dealId } }),
    e('AccrualReceived', { accountId: 'a-seller', amount: 900, balance: 900, purpose: { dealId } }),
    e('CommissionReceived', { accountId: 'a-broker', amount: 100, balance: 200, source: { dealId } }),
    e('DealCompleted', terms(dealId)),
  ];
}

function violated(events: AuditedEvent[], graceMs = 0): Partial<Record<CheckName, string[]>> {
  const audit = new Audit();
  for (const event of events) audit.add(event);
  return Object.fromEntries(
    audit
      .findings(now, graceMs)
      .filter((r) => !r.ok)
      .map((r) => [r.check, r.violations]),
  );
}

describe('audit (npm run cli -- check)', () => {
  it('passes a deal settled step by step', () => {
    expect(violated(settledDeal())).to.deep.equal({});
  });

  it('finds a deal completed twice, and its orders ended twice', () => {
    const events = [...settledDeal(), e('DealCompleted', terms('d-1'))];
    const found = violated(events);
    expect(found.deals).to.deep.equal(['deal d-1 ended 2 times: completed, completed']);
    expect(found.orders).to.include('order p-d-1 ended twice: completed, completed');
    expect(found.units).to.include('item item: seller would hold -1 units');
  });

  it('finds a unit sold in two deals (one sell order completed twice)', () => {
    const second = [e('DealOpened', terms('d-2')), e('DealCompleted', terms('d-2'))];
    const found = violated([...settledDeal(), ...second]);
    expect(found.orders).to.include('order s-1 ended twice: completed, completed');
    expect(found.units).to.include('item item: seller would hold -1 units');
  });

  it('finds a deal that paid the seller without taking the buyer’s money', () => {
    const events = settledDeal().filter((event) => event.type !== 'PaymentMade');
    const found = violated(events);
    expect(found.money?.[0]).to.equal('deal d-1 paid out 1100 more than the buyer paid in');
    expect(found.money?.[1]).to.match(/^deal d-1: paid 0, accrued 900, commissions 100\+100/);
  });

  it('lets a deal opened within the grace be under way, and fails one older', () => {
    const open = settledDeal().slice(0, 3);
    expect(violated(open, 2 * 3_600_000)).to.deep.equal({});
    expect(violated(open, 0).deals).to.deep.equal([`deal d-1 opened ${at}, neither completed nor failed`]);
  });

  it('counts a failed deal as ended, moving no money, and its sell order free for the next', () => {
    const failed = [
      e('ItemListed', { itemId: 'item', initialCount: 1, brokerId: 'seller' }),
      e('DealOpened', terms('d-1')),
      e('DealFailed', { dealId: 'd-1', purchaseOrderId: 'p-d-1', sellOrderId: 's-1' }),
      e('DealOpened', terms('d-2')),
    ];
    expect(violated(failed, 2 * 3_600_000)).to.deep.equal({});
  });
});
