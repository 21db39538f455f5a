import { expect } from 'chai';
import { account, type AccountCommand } from '../../domain/billing/account.js';
import type { AccountEvent, FailureReason } from '../../domain/billing/events.js';
import { fold } from '../../domain/decider.js';
import { commissionOf, type Cents } from '../../domain/money.js';
import { initialSellOrderId, type DealTerms, type MarketEvent } from '../../domain/trading/events.js';
import {
  findOrder,
  holdingOf,
  market,
  placementOf,
  type MarketCommand,
  type MarketState,
} from '../../domain/trading/market.js';
import { specification } from '../support/decider-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const later = '2026-11-21T11:00:00.000Z';
const itemId = 'item-1';
const name = 'sword';
const bp = 1000; // 10 %
const broker = 'broker';
const [t1, t2, t3] = ['t1', 't2', 't3'];
const u = (unit: number) => initialSellOrderId(itemId, unit);

const listed = (initialCount = 1, initialPrice: Cents = 20_000): MarketEvent => ({
  type: 'ItemListed',
  data: { itemId, name, initialCount, initialPrice, commissionBasisPoints: bp, brokerId: broker, at },
});
const bid = (orderId: string, buyerId: string, price: Cents): MarketEvent => ({
  type: 'PurchaseOrderPlaced',
  data: { itemId, orderId, buyerId, price, commission: commissionOf(price, bp), at },
});
const ask = (orderId: string, sellerId: string, price: Cents): MarketEvent => ({
  type: 'SellOrderPlaced',
  data: { itemId, orderId, sellerId, price, commission: commissionOf(price, bp), at },
});
/** The terms of a deal at `price` (the resting order's price): commission from it, none for a selling broker. */
const terms = (
  dealId: string,
  purchaseOrderId: string,
  buyerId: string,
  sellOrderId: string,
  sellerId: string,
  price: Cents,
): DealTerms => ({
  dealId,
  itemId,
  itemName: name,
  purchaseOrderId,
  sellOrderId,
  buyerId,
  sellerId,
  brokerId: broker,
  price,
  buyerCommission: commissionOf(price, bp),
  sellerCommission: sellerId === broker ? 0 : commissionOf(price, bp),
});
const opened = (t: DealTerms): MarketEvent => ({ type: 'DealOpened', data: { ...t, at } });
const paid = (t: DealTerms): MarketEvent => ({
  type: 'DealPaid',
  data: { itemId, dealId: t.dealId, purchaseOrderId: t.purchaseOrderId, sellOrderId: t.sellOrderId, at },
});
const failed = (t: DealTerms, reason: FailureReason = 'insufficient_funds'): MarketEvent => ({
  type: 'DealFailed',
  data: {
    itemId,
    itemName: name,
    dealId: t.dealId,
    purchaseOrderId: t.purchaseOrderId,
    sellOrderId: t.sellOrderId,
    buyerId: t.buyerId,
    price: t.price,
    reason,
    at,
  },
});
const completed = (t: DealTerms): MarketEvent => ({ type: 'DealCompleted', data: { ...t, at } });
const canceled = (orderId: string, side: 'purchase' | 'sell', ownerId: string): MarketEvent => ({
  type: 'OrderCanceled',
  data: { itemId, orderId, side, ownerId, at },
});
const refusedSell = (orderId: string, ownerId: string): MarketEvent => ({
  type: 'OrderRefused',
  data: { itemId, orderId, side: 'sell', ownerId, reason: 'no trading items for sale', at },
});

/** `buyer` buys the broker's initial unit `unit` at 200 through a whole deal. */
function owning(buyer: string, unit: number): MarketEvent[] {
  const t = terms(`deal-own-${buyer}-${unit}`, `own-${buyer}-${unit}`, buyer, u(unit), broker, 20_000);
  return [bid(t.purchaseOrderId, buyer, 20_000), opened(t), paid(t), completed(t)];
}

const placePurchase = (orderId: string, buyerId: string, price: Cents, dealId = 'deal-new'): MarketCommand => ({
  type: 'PlacePurchaseOrder',
  orderId,
  buyerId,
  price,
  dealId,
  at,
});
const placeSell = (orderId: string, sellerId: string, price: Cents, dealId = 'deal-new'): MarketCommand => ({
  type: 'PlaceSellOrder',
  orderId,
  sellerId,
  price,
  dealId,
  at,
});
const cancel = (orderId: string, side: 'purchase' | 'sell', requesterId: string): MarketCommand => ({
  type: 'CancelOrder',
  orderId,
  side,
  requesterId,
  at,
});

const { given } = specification(market);
const stateAfter = (events: MarketEvent[]): MarketState => fold(market, events);
const asksOf = (s: MarketState) => s.asks.map((level) => level.toArray()).toObject();
const bidsOf = (s: MarketState) => s.bids.map((level) => level.toArray()).toObject();

describe('market (decider)', () => {
  describe('listing an item', () => {
    const listItem: MarketCommand = {
      type: 'ListItem',
      itemId,
      name,
      initialCount: 3,
      initialPrice: 20_000,
      commissionBasisPoints: bp,
      brokerId: broker,
      at,
    };

    it('lists the item', () => {
      given([])
        .when(listItem)
        .then([listed(3)]);
    });
    it('listing it again changes nothing', () => {
      given([listed(3)])
        .when(listItem)
        .then([]);
    });
    it('the broker owns every initial unit, each on sale as a resting sell order at the initial price, ids from initialSellOrderId', () => {
      const s = stateAfter([listed(3)]);
      expect(s.listed).to.equal(true);
      expect(holdingOf(s, broker)).to.deep.equal({ owned: 3, onSale: 3 });
      expect(asksOf(s)).to.deep.equal({ 20000: [u(0), u(1), u(2)] });
      expect(bidsOf(s)).to.deep.equal({});
      for (const unit of [0, 1, 2]) {
        expect(findOrder(s, u(unit))).to.deep.equal({
          orderId: u(unit),
          ownerId: broker,
          side: 'sell',
          price: 20_000,
          commission: 2000,
          status: 'pending',
          createdAt: at,
        });
      }
      expect(u(0)).to.equal('item-1-u0');
    });
    it('the initial units are bought oldest first (u0, then u1)', () => {
      const t = terms('d1', 'p1', t1, u(0), broker, 20_000);
      given([listed(2)])
        .when(placePurchase('p1', t1, 20_000, 'd1'))
        .then([bid('p1', t1, 20_000), opened(t)]);
      given([listed(2), bid('p1', t1, 20_000), opened(t)])
        .when(placePurchase('p2', t2, 20_000, 'd2'))
        .then([bid('p2', t2, 20_000), opened(terms('d2', 'p2', t2, u(1), broker, 20_000))]);
    });
    it('the initial orders carry the commission of the initial price, half-up (111 at 10 % → 11.10)', () => {
      expect(findOrder(stateAfter([listed(1, 11_100)]), u(0))!.commission).to.equal(1110);
    });
  });

  describe('commission: price × percent / 100, half-up to the cent', () => {
    it('gives the amounts of the specification (200 → 20, 250 → 25, 111 → 11.10 at 10 %)', () => {
      expect(commissionOf(20_000, 1000)).to.equal(2000);
      expect(commissionOf(25_000, 1000)).to.equal(2500);
      expect(commissionOf(11_100, 1000)).to.equal(1110);
    });
    it('rounds exact halves up and everything else to the nearest cent', () => {
      expect(commissionOf(5, 1000)).to.equal(1); // 0.5 cent
      expect(commissionOf(4, 1000)).to.equal(0); // 0.4 cent
      expect(commissionOf(1500, 10)).to.equal(2); // 0.1 % of 15.00 = 1.5 cents
      expect(commissionOf(1499, 10)).to.equal(1);
      expect(commissionOf(5, 3000)).to.equal(2); // 30 % of 5 cents = 1.5
      expect(commissionOf(4, 1250)).to.equal(1); // 12.5 % of 4 cents = 0.5
      expect(commissionOf(100_000_000, 3000)).to.equal(30_000_000); // the largest price at the largest percent stays exact
    });
    it('every placed order carries the commission of its own price', () => {
      given([listed()])
        .when(placePurchase('p1', t1, 11_100))
        .then([bid('p1', t1, 11_100)]);
      expect(bid('p1', t1, 11_100).data).to.include({ commission: 1110 });
      given([listed(), ...owning(t1, 0)])
        .when(placeSell('s1', t1, 11_100))
        .then([
          {
            type: 'SellOrderPlaced',
            data: { itemId, orderId: 's1', sellerId: t1, price: 11_100, commission: 1110, at },
          },
        ]);
    });
  });

  describe('a purchase order', () => {
    it('rests in the book as pending when no ask is at or below its price', () => {
      given([listed()])
        .when(placePurchase('p1', t1, 19_999))
        .then([bid('p1', t1, 19_999)]);
      const s = stateAfter([listed(), bid('p1', t1, 19_999)]);
      expect(bidsOf(s)).to.deep.equal({ 19999: ['p1'] });
      expect(asksOf(s)).to.deep.equal({ 20000: [u(0)] });
      expect(findOrder(s, 'p1')!.status).to.equal('pending');
    });
    it('matches an ask at or below its price, on the terms of the resting ask', () => {
      given([listed()])
        .when(placePurchase('p1', t1, 26_000, 'd1'))
        .then([bid('p1', t1, 26_000), opened(terms('d1', 'p1', t1, u(0), broker, 20_000))]);
    });
    it('a deal earns for the broker in office the placement names; the retired lister selling pays commission', () => {
      const deal = { ...terms('d1', 'p1', t1, u(0), broker, 20_000), brokerId: 'successor' };
      deal.sellerCommission = commissionOf(20_000, bp);
      given([listed()])
        .when({ ...placePurchase('p1', t1, 26_000, 'd1'), brokerId: 'successor' } as MarketCommand)
        .then([bid('p1', t1, 26_000), opened(deal)]);
      // Without one named, the item's lister earns (as before appointments were recorded).
      given([listed()])
        .when(placePurchase('p1', t1, 26_000, 'd1'))
        .then([bid('p1', t1, 26_000), opened(terms('d1', 'p1', t1, u(0), broker, 20_000))]);
    });
    it('keeps its own price and commission, and both orders leave the book while in the deal', () => {
      const s = stateAfter([listed(), bid('p1', t1, 26_000), opened(terms('d1', 'p1', t1, u(0), broker, 20_000))]);
      expect(findOrder(s, 'p1')).to.include({ price: 26_000, commission: 2600, status: 'paymentPending' });
      expect(findOrder(s, u(0))).to.include({ status: 'dealPending' });
      expect(asksOf(s)).to.deep.equal({});
      expect(bidsOf(s)).to.deep.equal({});
      expect(s.deals.get('d1')).to.deep.equal({ ...terms('d1', 'p1', t1, u(0), broker, 20_000), paid: false });
      expect(holdingOf(s, broker)).to.deep.equal({ owned: 1, onSale: 1 });
    });
    it('takes the lowest ask first, even when it is newer', () => {
      // The broker takes u1 off sale and offers it again cheaper: that newer order is the best ask.
      const history = [listed(2), canceled(u(1), 'sell', broker), ask('s-cheap', broker, 18_000)];
      given(history)
        .when(placePurchase('p1', t1, 30_000, 'd1'))
        .then([bid('p1', t1, 30_000), opened(terms('d1', 'p1', t1, 's-cheap', broker, 18_000))]);
    });
    it('among asks of the same price, takes the oldest', () => {
      // u1 (broker, placed at listing) is older than t1's ask at the same price.
      const history = [listed(2), ...owning(t1, 0), ask('s1', t1, 20_000)];
      given(history)
        .when(placePurchase('p2', t2, 20_000, 'd2'))
        .then([bid('p2', t2, 20_000), opened(terms('d2', 'p2', t2, u(1), broker, 20_000))]);
      // Once the broker re-offers u1 (a new, younger order), t1's ask is the oldest.
      const reoffered = [...history, canceled(u(1), 'sell', broker), ask('s-b', broker, 20_000)];
      given(reoffered)
        .when(placePurchase('p2', t2, 20_000, 'd2'))
        .then([bid('p2', t2, 20_000), opened(terms('d2', 'p2', t2, 's1', t1, 20_000))]);
    });
    it("never matches the buyer's own ask, even the cheapest one", () => {
      const history = [listed(2), ...owning(t1, 0), ask('s1', t1, 15_000)];
      given(history)
        .when(placePurchase('p2', t1, 20_000, 'd2'))
        .then([bid('p2', t1, 20_000), opened(terms('d2', 'p2', t1, u(1), broker, 20_000))]);
    });
    it('rests when the only asks in reach are its own', () => {
      const history = [listed(1), ...owning(t1, 0), ask('s1', t1, 15_000)];
      given(history)
        .when(placePurchase('p2', t1, 16_000))
        .then([bid('p2', t1, 16_000)]);
      expect(asksOf(stateAfter([...history, bid('p2', t1, 16_000)]))).to.deep.equal({ 15000: ['s1'] });
    });
    it("a trader's ask matched by another buyer gives the seller's commission too", () => {
      const history = [listed(1), ...owning(t1, 0), ask('s1', t1, 25_000)];
      const t = terms('d2', 'p2', t2, 's1', t1, 25_000);
      expect(t).to.include({ price: 25_000, buyerCommission: 2500, sellerCommission: 2500 });
      given(history)
        .when(placePurchase('p2', t2, 26_000, 'd2'))
        .then([bid('p2', t2, 26_000), opened(t)]);
    });
  });

  describe('a sell order', () => {
    const base = [listed(1), ...owning(t1, 0)];

    it('rests as pending when no bid is at or above its price, and puts a unit on sale', () => {
      given([...base, bid('p2', t2, 24_999)])
        .when(placeSell('s1', t1, 25_000))
        .then([ask('s1', t1, 25_000)]);
      const s = stateAfter([...base, bid('p2', t2, 24_999), ask('s1', t1, 25_000)]);
      expect(asksOf(s)).to.deep.equal({ 25000: ['s1'] });
      expect(bidsOf(s)).to.deep.equal({ 24999: ['p2'] });
      expect(holdingOf(s, t1)).to.deep.equal({ owned: 1, onSale: 1 });
      expect(findOrder(s, 's1')).to.include({ status: 'pending', commission: 2500 });
    });
    it('matches the highest bid first, at the bid’s price and commission', () => {
      const history = [...base, bid('p2', t2, 21_000), bid('p3', t3, 23_000)];
      given(history)
        .when(placeSell('s1', t1, 20_000, 'd1'))
        .then([ask('s1', t1, 20_000), opened(terms('d1', 'p3', t3, 's1', t1, 23_000))]);
      expect(terms('d1', 'p3', t3, 's1', t1, 23_000)).to.include({ buyerCommission: 2300, sellerCommission: 2300 });
    });
    it('among bids of the same price, takes the oldest', () => {
      const history = [...base, bid('p2', t2, 21_000), bid('p3', t3, 21_000)];
      given(history)
        .when(placeSell('s1', t1, 20_000, 'd1'))
        .then([ask('s1', t1, 20_000), opened(terms('d1', 'p2', t2, 's1', t1, 21_000))]);
    });
    it("never matches the seller's own bid, even the highest one", () => {
      const history = [...base, bid('p-own', t1, 30_000), bid('p2', t2, 21_000)];
      given(history)
        .when(placeSell('s1', t1, 20_000, 'd1'))
        .then([ask('s1', t1, 20_000), opened(terms('d1', 'p2', t2, 's1', t1, 21_000))]);
      given([...base, bid('p-own', t1, 30_000)])
        .when(placeSell('s1', t1, 20_000))
        .then([ask('s1', t1, 20_000)]);
    });
    it('the matched orders are dealPending (sell) and paymentPending (the resting purchase)', () => {
      const s = stateAfter([
        ...base,
        bid('p2', t2, 21_000),
        ask('s1', t1, 20_000),
        opened(terms('d1', 'p2', t2, 's1', t1, 21_000)),
      ]);
      expect(findOrder(s, 's1')).to.include({ status: 'dealPending', price: 20_000, commission: 2000 });
      expect(findOrder(s, 'p2')).to.include({ status: 'paymentPending' });
      expect(bidsOf(s)).to.deep.equal({});
      expect(asksOf(s)).to.deep.equal({});
    });
    it('when the broker sells, the seller commission is 0 and the buyer pays the resting bid’s commission', () => {
      const history = [listed(1), canceled(u(0), 'sell', broker), bid('p2', t2, 22_000)];
      const t = terms('d1', 'p2', t2, 's-b', broker, 22_000);
      expect(t).to.include({ buyerCommission: 2200, sellerCommission: 0 });
      given(history)
        .when(placeSell('s-b', broker, 20_000, 'd1'))
        .then([ask('s-b', broker, 20_000), opened(t)]);
    });
    it("needs a unit that is not on sale: none owned → 'no trading items for sale'", () => {
      given([listed(1)])
        .when(placeSell('s1', t1, 20_000))
        .then([refusedSell('s1', t1)]);
      // The refusal is final: offering the same order again, even with a unit by then, places nothing.
      given([listed(1), refusedSell('s1', t1), ...owning(t1, 0)])
        .when(placeSell('s1', t1, 20_000))
        .then([]);
    });
    it('refuses when every owned unit is already on sale (the broker after listing, a trader with a resting ask)', () => {
      given([listed(2)])
        .when(placeSell('s-b', broker, 20_000))
        .then([refusedSell('s-b', broker)]);
      given([...base, ask('s1', t1, 25_000)])
        .when(placeSell('s2', t1, 25_000))
        .then([refusedSell('s2', t1)]);
    });
    it('refuses when the only unit is in a deal, and after the unit was sold', () => {
      const t = terms('d2', 'p2', t2, 's1', t1, 25_000);
      const inDeal = [...base, ask('s1', t1, 25_000), bid('p2', t2, 25_000), opened(t)];
      given(inDeal)
        .when(placeSell('s2', t1, 25_000))
        .then([refusedSell('s2', t1)]);
      const sold = [...inDeal, paid(t), completed(t)];
      given(sold)
        .when(placeSell('s2', t1, 25_000))
        .then([refusedSell('s2', t1)]);
      expect(holdingOf(stateAfter(sold), t1)).to.deep.equal({ owned: 0, onSale: 0 });
      expect(holdingOf(stateAfter(sold), t2)).to.deep.equal({ owned: 1, onSale: 0 });
    });
    it('with two units, a second sell order is allowed while the first rests', () => {
      const history = [listed(2), ...owning(t1, 0), ...owning(t1, 1), ask('s1', t1, 25_000)];
      expect(holdingOf(stateAfter(history), t1)).to.deep.equal({ owned: 2, onSale: 1 });
      given(history)
        .when(placeSell('s2', t1, 26_000))
        .then([ask('s2', t1, 26_000)]);
    });
  });

  describe('an unknown item', () => {
    it("refuses every placement and cancel with 'trading item does not exist'", () => {
      given([])
        .when(placePurchase('p1', t1, 20_000))
        .thenRefused('item_not_found', 'trading item does not exist');
      given([])
        .when(placeSell('s1', t1, 20_000))
        .thenRefused('item_not_found', 'trading item does not exist');
      given([])
        .when(cancel('p1', 'purchase', t1))
        .thenRefused('item_not_found', 'trading item does not exist');
    });
  });

  describe('placement is idempotent by order id', () => {
    it('placing a resting order again (even with another price) changes nothing', () => {
      given([listed(), bid('p1', t1, 19_000)])
        .when(placePurchase('p1', t1, 30_000))
        .then([]);
      given([listed(), ...owning(t1, 0), ask('s1', t1, 25_000)])
        .when(placeSell('s1', t1, 25_000))
        .then([]);
    });
    it('placing a matched, canceled, failed or approved order again opens no second deal', () => {
      const t = terms('d1', 'p1', t1, u(0), broker, 20_000);
      const inDeal = [listed(2), bid('p1', t1, 20_000), opened(t)];
      given(inDeal)
        .when(placePurchase('p1', t1, 20_000, 'd-again'))
        .then([]);
      given([...inDeal, failed(t)])
        .when(placePurchase('p1', t1, 20_000, 'd-again'))
        .then([]);
      given([...inDeal, paid(t), completed(t)])
        .when(placePurchase('p1', t1, 20_000, 'd-again'))
        .then([]);
      given([listed(2), bid('p9', t1, 100), canceled('p9', 'purchase', t1)])
        .when(placePurchase('p9', t1, 20_000))
        .then([]);
    });
    it('placing a sold sell order again is not refused for lack of units: it is simply already done', () => {
      const t = terms('d2', 'p2', t2, 's1', t1, 25_000);
      given([
        listed(1),
        ...owning(t1, 0),
        ask('s1', t1, 25_000),
        bid('p2', t2, 25_000),
        opened(t),
        paid(t),
        completed(t),
      ])
        .when(placeSell('s1', t1, 25_000))
        .then([]);
    });
  });

  describe('canceling an order', () => {
    it('cancels a pending purchase order and takes it out of the book', () => {
      const history = [listed(), bid('p1', t1, 19_000)];
      given(history)
        .when(cancel('p1', 'purchase', t1))
        .then([canceled('p1', 'purchase', t1)]);
      const s = stateAfter([...history, canceled('p1', 'purchase', t1)]);
      expect(bidsOf(s)).to.deep.equal({});
      expect(findOrder(s, 'p1')!.status).to.equal('canceled');
      expect(s.active.has('p1')).to.equal(false);
    });
    it('cancels a pending sell order: it leaves the book and its unit goes back off sale', () => {
      const history = [listed(1), ...owning(t1, 0), ask('s1', t1, 25_000)];
      given(history)
        .when(cancel('s1', 'sell', t1))
        .then([canceled('s1', 'sell', t1)]);
      const s = stateAfter([...history, canceled('s1', 'sell', t1)]);
      expect(asksOf(s)).to.deep.equal({});
      expect(holdingOf(s, t1)).to.deep.equal({ owned: 1, onSale: 0 });
      given([...history, canceled('s1', 'sell', t1)])
        .when(placeSell('s2', t1, 30_000))
        .then([ask('s2', t1, 30_000)]);
    });
    it("the broker can cancel an initial unit's order; the unit stays the broker's, off sale", () => {
      given([listed(2)])
        .when(cancel(u(1), 'sell', broker))
        .then([canceled(u(1), 'sell', broker)]);
      const s = stateAfter([listed(2), canceled(u(1), 'sell', broker)]);
      expect(holdingOf(s, broker)).to.deep.equal({ owned: 2, onSale: 1 });
      expect(asksOf(s)).to.deep.equal({ 20000: [u(0)] });
    });
    it('a canceled order is never matched', () => {
      given([listed(1), ...owning(t1, 0), bid('p2', t2, 30_000), canceled('p2', 'purchase', t2)])
        .when(placeSell('s1', t1, 25_000))
        .then([ask('s1', t1, 25_000)]);
      given([listed(1), canceled(u(0), 'sell', broker)])
        .when(placePurchase('p1', t1, 50_000))
        .then([bid('p1', t1, 50_000)]);
    });
    it("refuses orders that are not pending with 'cannot cancel order'", () => {
      const t = terms('d1', 'p1', t1, u(0), broker, 20_000);
      const inDeal = [listed(), bid('p1', t1, 20_000), opened(t)];
      // in a deal (paymentPending / dealPending), paid (paymentSucceeded / accrualPending), approved
      for (const history of [inDeal, [...inDeal, paid(t)], [...inDeal, paid(t), completed(t)]]) {
        given(history)
          .when(cancel('p1', 'purchase', t1))
          .thenRefused('cannot_cancel', 'cannot cancel order');
        given(history)
          .when(cancel(u(0), 'sell', broker))
          .thenRefused('cannot_cancel', 'cannot cancel order');
      }
      given([...inDeal, failed(t)])
        .when(cancel('p1', 'purchase', t1))
        .thenRefused('cannot_cancel', 'cannot cancel order');
    });
    it("refuses another user's order with code operation_denied", () => {
      given([listed(), bid('p1', t1, 19_000)])
        .when(cancel('p1', 'purchase', t2))
        .thenRefused('operation_denied', 'Operation denied');
      given([listed()])
        .when(cancel(u(0), 'sell', t2))
        .thenRefused('operation_denied', 'Operation denied');
    });
    it('an unknown order, or an order of the other side, is order_not_found', () => {
      given([listed()])
        .when(cancel('nope', 'purchase', t1))
        .thenRefused('order_not_found', 'Not found');
      given([listed(), bid('p1', t1, 19_000)])
        .when(cancel('p1', 'sell', t1))
        .thenRefused('order_not_found', 'Not found');
      given([listed()])
        .when(cancel(u(0), 'purchase', broker))
        .thenRefused('order_not_found', 'Not found');
    });
    it('canceling a canceled order changes nothing', () => {
      given([listed(), bid('p1', t1, 19_000), canceled('p1', 'purchase', t1)])
        .when(cancel('p1', 'purchase', t1))
        .then([]);
      const sell = [listed(1), ...owning(t1, 0), ask('s1', t1, 25_000), canceled('s1', 'sell', t1)];
      given(sell)
        .when(cancel('s1', 'sell', t1))
        .then([]);
      // ... and the unit is taken off sale once only.
      expect(holdingOf(stateAfter(sell), t1)).to.deep.equal({ owned: 1, onSale: 0 });
    });
  });

  describe('the deal', () => {
    const t = terms('d1', 'p1', t1, u(0), broker, 20_000);
    const inDeal = [listed(2), bid('p1', t1, 20_000), opened(t)];
    const markPaid: MarketCommand = { type: 'MarkDealPaid', dealId: 'd1', at };
    const fail: MarketCommand = {
      type: 'FailDeal',
      dealId: 'd1',
      reason: 'insufficient_funds',
      rematchDealId: 'd1-rematch',
      at,
    };
    const complete: MarketCommand = { type: 'CompleteDeal', dealId: 'd1', at };

    it('paid: the purchase order is paymentSucceeded, the sell order accrualPending', () => {
      given(inDeal)
        .when(markPaid)
        .then([paid(t)]);
      const s = stateAfter([...inDeal, paid(t)]);
      expect(findOrder(s, 'p1')!.status).to.equal('paymentSucceeded');
      expect(findOrder(s, u(0))!.status).to.equal('accrualPending');
      expect(s.deals.get('d1')!.paid).to.equal(true);
    });
    it('failed: the purchase order fails, the sell order rests again as pending; holdings do not change', () => {
      given(inDeal)
        .when(fail)
        .then([failed(t)]);
      const s = stateAfter([...inDeal, failed(t)]);
      expect(findOrder(s, 'p1')!.status).to.equal('paymentFailed');
      expect(s.active.has('p1')).to.equal(false);
      expect(findOrder(s, u(0))!.status).to.equal('pending');
      expect(s.active.get(u(0))!.dealId).to.equal(null);
      expect(s.deals.has('d1')).to.equal(false);
      expect(holdingOf(s, broker)).to.deep.equal({ owned: 2, onSale: 2 });
      expect(holdingOf(s, t1)).to.deep.equal({ owned: 0, onSale: 0 });
    });
    it('failed: the sell order gets its original time priority back (ahead of younger asks at its price)', () => {
      const s = stateAfter([...inDeal, failed(t)]);
      expect(asksOf(s)).to.deep.equal({ 20000: [u(0), u(1)] });
      given([...inDeal, failed(t)])
        .when(placePurchase('p2', t2, 20_000, 'd2'))
        .then([bid('p2', t2, 20_000), opened(terms('d2', 'p2', t2, u(0), broker, 20_000))]);
    });
    it("failed: a trader's ask also goes back before younger asks of other traders at the same price", () => {
      const ts = terms('d3', 'p3', t3, 's1', t1, 25_000);
      const history = [
        listed(2),
        ...owning(t1, 0),
        ...owning(t2, 1),
        ask('s1', t1, 25_000),
        bid('p3', t3, 25_000),
        opened(ts),
        ask('s2', t2, 25_000),
        failed(ts),
      ];
      expect(asksOf(stateAfter(history))).to.deep.equal({ 25000: ['s1', 's2'] });
      given(history)
        .when(placePurchase('p4', t3, 25_000, 'd4'))
        .then([bid('p4', t3, 25_000), opened(terms('d4', 'p4', t3, 's1', t1, 25_000))]);
    });
    it('completed: both orders approved, the unit moves to the buyer (not on sale), the deal is closed', () => {
      given([...inDeal, paid(t)])
        .when(complete)
        .then([completed(t)]);
      const s = stateAfter([...inDeal, paid(t), completed(t)]);
      expect(findOrder(s, 'p1')!.status).to.equal('approved');
      expect(findOrder(s, u(0))!.status).to.equal('approved');
      expect(s.active.has('p1') || s.active.has(u(0))).to.equal(false);
      expect(holdingOf(s, broker)).to.deep.equal({ owned: 1, onSale: 1 });
      expect(holdingOf(s, t1)).to.deep.equal({ owned: 1, onSale: 0 });
      expect(s.deals.size).to.equal(0);
      expect(asksOf(s)).to.deep.equal({ 20000: [u(1)] });
    });
    it('cannot complete before it is paid', () => {
      given(inDeal).when(complete).thenRefused('deal_not_paid', 'the deal has not been paid yet');
    });
    it('every settlement command is idempotent', () => {
      given([...inDeal, paid(t)])
        .when(markPaid)
        .then([]);
      given([...inDeal, paid(t)])
        .when(fail)
        .then([]);
      given([...inDeal, failed(t)])
        .when(fail)
        .then([]);
      given([...inDeal, failed(t)])
        .when(markPaid)
        .then([]);
      given([...inDeal, failed(t)])
        .when(complete)
        .then([]);
      given([...inDeal, paid(t), completed(t)])
        .when(complete)
        .then([]);
      given([...inDeal, paid(t), completed(t)])
        .when(markPaid)
        .then([]);
      given([...inDeal, paid(t), completed(t)])
        .when(fail)
        .then([]);
    });
    it("failed: a bid that arrived during the deal and crosses the returning sell order takes it, on the sell order's terms", () => {
      // t2 bids 210 while t1's deal for the unit at 200 is pending; t1 cannot pay.
      const history = [...inDeal, bid('p2', t2, 21_000)];
      const rematch = terms('d1-rematch', 'p2', t2, u(0), broker, 20_000);
      given(history)
        .when(fail)
        .then([failed(t), opened(rematch)]);
      expect(findOrder(stateAfter([...history, failed(t), opened(rematch)]), 'p2')!.status).to.equal('paymentPending');
    });
    it('a rematch earns for the broker in office the FailDeal names (appointed since the listing)', () => {
      const history = [...inDeal, bid('p2', t2, 21_000)];
      const rematch = { ...terms('d1-rematch', 'p2', t2, u(0), broker, 20_000), brokerId: 'successor' };
      // The retired broker selling pays the seller's commission like anyone.
      rematch.sellerCommission = commissionOf(20_000, bp);
      given(history)
        .when({ ...(fail as Extract<MarketCommand, { type: 'FailDeal' }>), brokerId: 'successor' })
        .then([failed(t), opened(rematch)]);
    });
    it('the placement answer stays what the order got on entering the book, whatever happened to it since', () => {
      const matched = [listed(2), bid('p1', t1, 20_000), opened(t)];
      expect(placementOf(stateAfter(matched), 'p1')).to.include({ status: 'paymentPending' });
      expect(placementOf(stateAfter([...matched, paid(t), completed(t)]), 'p1')).to.include({
        status: 'paymentPending',
      });
      expect(placementOf(stateAfter([...matched, failed(t)]), 'p1')).to.include({ status: 'paymentPending' });
      // The unit's resting ask was matched later, by another order's placement: it was placed as pending.
      expect(placementOf(stateAfter(matched), u(0))).to.include({ status: 'pending' });
      // A bid that rested, then took the sell order of a failed deal, was placed as pending.
      const rematch = terms('d1-rematch', 'p2', t2, u(0), broker, 20_000);
      const rematched = stateAfter([...matched, bid('p2', t2, 21_000), failed(t), opened(rematch)]);
      expect(findOrder(rematched, 'p2')).to.include({ status: 'paymentPending' });
      expect(placementOf(rematched, 'p2')).to.include({ status: 'pending' });
      expect(placementOf(rematched, 'unknown')).to.equal(null);
    });

    it('settlement commands for an unknown deal change nothing', () => {
      for (const command of [markPaid, fail, complete])
        given([listed()])
          .when({ ...command, dealId: 'nope' } as MarketCommand)
          .then([]);
    });
    it('a failed deal does not resurrect: a stale FailDeal for it after the unit was sold to someone else changes nothing', () => {
      const t2deal = terms('d2', 'p2', t2, u(0), broker, 20_000);
      given([...inDeal, failed(t), bid('p2', t2, 20_000), opened(t2deal), paid(t2deal), completed(t2deal)])
        .when(fail)
        .then([]);
    });
    it('the buyer can sell the unit they got; the price is free, the commission follows from it', () => {
      given([...inDeal, paid(t), completed(t)])
        .when(placeSell('s1', t1, 25_000))
        .then([ask('s1', t1, 25_000)]);
    });
  });

  describe('the worked example of the specification, as market and account decisions', () => {
    /** A tiny in-memory world: one market stream and one stream per account, settled by hand as the deal steps say. */
    class World {
      readonly marketEvents: MarketEvent[] = [];
      readonly accounts = new Map<string, AccountEvent[]>();
      private seq = 0;

      onMarket(command: MarketCommand): MarketEvent[] {
        const events = market.decide(command, fold(market, this.marketEvents));
        this.marketEvents.push(...events);
        return events;
      }
      onAccount(userId: string, command: AccountCommand): AccountEvent[] {
        const stream = this.accounts.get(userId) ?? [];
        this.accounts.set(userId, stream);
        const events = account.decide(command, fold(account, stream));
        stream.push(...events);
        return events;
      }
      open(userId: string) {
        this.onAccount(userId, { type: 'OpenAccount', accountId: `acc-${userId}`, userId, at });
      }
      deposit(userId: string, amount: Cents) {
        this.onAccount(userId, { type: 'DepositMoney', operationId: `op-${++this.seq}`, amount, at });
      }
      balance(userId: string): Cents {
        return fold(account, this.accounts.get(userId) ?? []).balance;
      }
      lastOperation(userId: string): AccountEvent {
        return this.accounts.get(userId)!.at(-1)!;
      }
      marketState(): MarketState {
        return fold(market, this.marketEvents);
      }
      /** Places an order and, when it opened a deal, runs the deal's steps. */
      place(command: MarketCommand): { placed: MarketEvent[]; settled: MarketEvent[] } {
        const placed = this.onMarket(command);
        const deal = placed.find((e) => e.type === 'DealOpened');
        return { placed, settled: deal ? this.settle(deal.data as DealTerms) : [] };
      }
      settle(d: DealTerms): MarketEvent[] {
        const pay = this.onAccount(d.buyerId, {
          type: 'PayFromAccount',
          operationId: `${d.dealId}:payment`,
          amount: d.price + d.buyerCommission,
          purpose: { kind: 'deal', dealId: d.dealId, itemId, itemName: d.itemName, commission: d.buyerCommission },
          at,
        });
        const outcome = pay[0]!;
        if (outcome.type === 'PaymentDeclined')
          return this.onMarket({
            type: 'FailDeal',
            dealId: d.dealId,
            reason: outcome.data.reason,
            rematchDealId: `${d.dealId}:rematch`,
            at,
          });
        const source = {
          fromUserId: d.buyerId,
          kind: 'payment' as const,
          operationId: `${d.dealId}:payment`,
          dealId: d.dealId,
        };
        if (d.buyerCommission > 0)
          this.onAccount(d.brokerId, {
            type: 'ReceiveCommission',
            operationId: `${d.dealId}:bc`,
            amount: d.buyerCommission,
            source,
            at,
          });
        const out = this.onMarket({ type: 'MarkDealPaid', dealId: d.dealId, at });
        const purpose = { dealId: d.dealId, itemId, itemName: d.itemName, commission: d.sellerCommission };
        this.onAccount(d.sellerId, {
          type: 'ReceiveAccrual',
          operationId: `${d.dealId}:accrual`,
          amount: d.price - d.sellerCommission,
          purpose,
          at,
        });
        if (d.sellerCommission > 0) {
          this.onAccount(d.brokerId, {
            type: 'ReceiveCommission',
            operationId: `${d.dealId}:sc`,
            amount: d.sellerCommission,
            source: { ...source, fromUserId: d.sellerId, kind: 'accrual' },
            at,
          });
        }
        return [...out, ...this.onMarket({ type: 'CompleteDeal', dealId: d.dealId, at: later })];
      }
    }

    it('holds all of it', () => {
      const w = new World();
      for (const user of [broker, t1, t2]) w.open(user);
      w.onMarket({
        type: 'ListItem',
        itemId,
        name,
        initialCount: 1,
        initialPrice: 20_000,
        commissionBasisPoints: bp,
        brokerId: broker,
        at,
      });

      // Trader 1 (balance 0) bids 200 → paymentPending, price 200, commission 20 → declined.
      const first = w.place(placePurchase('t1-a', t1, 20_000, 'deal-a'));
      expect(first.placed.map((e) => e.type)).to.deep.equal(['PurchaseOrderPlaced', 'DealOpened']);
      expect(first.placed[0]!.data).to.include({ price: 20_000, commission: 2000 });
      expect(first.settled).to.deep.equal([failed(terms('deal-a', 't1-a', t1, u(0), broker, 20_000))]);
      expect(w.balance(t1)).to.equal(0);
      expect(w.lastOperation(t1)).to.deep.include({ type: 'PaymentDeclined' });
      expect(findOrder(w.marketState(), 't1-a')!.status).to.equal('paymentFailed');
      expect(findOrder(w.marketState(), u(0))!.status).to.equal('pending');

      // Trader 1 deposits 1000, bids 200 again → deal.
      w.deposit(t1, 100_000);
      const second = w.place(placePurchase('t1-b', t1, 20_000, 'deal-b'));
      expect(second.settled.map((e) => e.type)).to.deep.equal(['DealPaid', 'DealCompleted']);
      expect(w.balance(t1)).to.equal(78_000);
      expect(w.lastOperation(t1)).to.deep.include({ type: 'PaymentMade' });
      expect(w.lastOperation(t1).data).to.include({ amount: 22_000 });
      expect(holdingOf(w.marketState(), t1)).to.deep.equal({ owned: 1, onSale: 0 });
      const brokerOps = w.accounts
        .get(broker)!
        .slice(-2)
        .map((e) => [e.type, (e.data as { amount: Cents }).amount]);
      expect(brokerOps).to.deep.equal([
        ['CommissionReceived', 2000],
        ['AccrualReceived', 20_000],
      ]);

      // Trader 1 offers the unit at 250 → pending, commission 25.
      const offer = w.place(placeSell('t1-s', t1, 25_000, 'deal-never'));
      expect(offer.placed).to.deep.equal([ask('t1-s', t1, 25_000)]);
      expect(findOrder(w.marketState(), 't1-s')).to.include({ status: 'pending', commission: 2500 });

      // Trader 2 deposits 1000, bids 200 → pending; cancels; bids 260 → paymentPending at 260 / 26.
      w.deposit(t2, 100_000);
      expect(w.place(placePurchase('t2-a', t2, 20_000)).placed).to.deep.equal([bid('t2-a', t2, 20_000)]);
      expect(w.onMarket(cancel('t2-a', 'purchase', t2))).to.deep.equal([canceled('t2-a', 'purchase', t2)]);
      const third = w.place(placePurchase('t2-b', t2, 26_000, 'deal-c'));
      expect(third.placed[0]!.data).to.include({ price: 26_000, commission: 2600 });
      expect(third.placed[1]).to.deep.equal(opened(terms('deal-c', 't2-b', t2, 't1-s', t1, 25_000)));

      // The deal runs at the resting ask: 275 paid, 225 received, 25 twice to the broker.
      expect(w.balance(t2)).to.equal(72_500);
      expect(w.balance(t1)).to.equal(100_500);
      const lastBroker = w.accounts
        .get(broker)!
        .slice(-2)
        .map((e) => [e.type, (e.data as { amount: Cents }).amount]);
      expect(lastBroker).to.deep.equal([
        ['CommissionReceived', 2500],
        ['CommissionReceived', 2500],
      ]);
      expect(w.balance(broker)).to.equal(2000 + 20_000 + 2500 + 2500);
      expect(w.balance(broker) + w.balance(t1) + w.balance(t2)).to.equal(200_000);
      const s = w.marketState();
      expect(holdingOf(s, t1)).to.deep.equal({ owned: 0, onSale: 0 });
      expect(holdingOf(s, t2)).to.deep.equal({ owned: 1, onSale: 0 });
      expect(holdingOf(s, broker)).to.deep.equal({ owned: 0, onSale: 0 });
      expect(findOrder(s, 't2-b')!.status).to.equal('approved');
      expect(findOrder(s, 't1-s')!.status).to.equal('approved');

      // Trader 2 withdraws 700.
      w.onAccount(t2, { type: 'WithdrawMoney', operationId: 'w-1', amount: 70_000, at });
      expect(w.balance(t2)).to.equal(2500);
    });
  });
});
