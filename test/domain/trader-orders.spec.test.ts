import { expect } from 'chai';
import { fold } from '../../domain/decider.js';
import type { TraderOrdersEvent } from '../../domain/trading/events.js';
import { traderOrders, type TraderOrdersCommand } from '../../domain/trading/trader-orders.js';
import { specification } from '../support/decider-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const userId = 't1';
const submit = (orderId: string, side: 'purchase' | 'sell' = 'purchase', price = 20_000): TraderOrdersCommand => ({
  type: 'SubmitOrder',
  userId,
  orderId,
  side,
  itemId: 'item-1',
  price,
  at,
});
const submitted = (orderId: string, side: 'purchase' | 'sell' = 'purchase', price = 20_000): TraderOrdersEvent => ({
  type: 'OrderSubmitted',
  data: { userId, orderId, side, itemId: 'item-1', price, at },
});
const reject = (orderId: string): TraderOrdersCommand => ({
  type: 'RejectOrder',
  userId,
  orderId,
  reason: 'no trading items for sale',
  at,
});
const rejected = (orderId: string): TraderOrdersEvent => ({
  type: 'OrderRejected',
  data: { userId, orderId, reason: 'no trading items for sale', at },
});
const { given } = specification(traderOrders);

describe('trader orders (decider)', () => {
  it('records a submitted order', () => {
    given([])
      .when(submit('o1', 'sell', 25_000))
      .then([submitted('o1', 'sell', 25_000)]);
  });
  it('submitting the same order id again changes nothing (even with other terms)', () => {
    given([submitted('o1')])
      .when(submit('o1', 'sell', 99_900))
      .then([]);
    given([submitted('o1'), rejected('o1')])
      .when(submit('o1'))
      .then([]);
  });
  it('records other orders next to it', () => {
    given([submitted('o1')])
      .when(submit('o2'))
      .then([submitted('o2')]);
  });
  it('records the rejection of a submitted order, once', () => {
    given([submitted('o1')])
      .when(reject('o1'))
      .then([rejected('o1')]);
    given([submitted('o1'), rejected('o1')])
      .when(reject('o1'))
      .then([]);
  });
  it('ignores the rejection of an order it never recorded', () => {
    given([submitted('o1')])
      .when(reject('o2'))
      .then([]);
  });
  it('the state remembers each order, its item, side, price and submission time, and whether it was rejected', () => {
    const s = fold(traderOrders, [submitted('o1', 'sell', 25_000), submitted('o2'), rejected('o1')]);
    // Without a memory of its own, a submission is remembered for a day.
    const rememberUntil = Date.parse(at) + 24 * 3_600_000;
    expect(s.orders.get('o1')).to.deep.equal({ itemId: 'item-1', side: 'sell', price: 25_000, at, rememberUntil });
    expect(s.orders.get('o2')).to.deep.equal({ itemId: 'item-1', side: 'purchase', price: 20_000, at, rememberUntil });
    expect(s.orders.size).to.equal(2);
    expect([s.rejected.has('o1'), s.rejected.has('o2')]).to.deep.equal([true, false]);
  });
});
