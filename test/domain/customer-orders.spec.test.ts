import { expect } from 'chai';
import { fold } from '../../domain/decider.js';
import { customerOrderOf, customerOrders, type CustomerOrdersCommand } from '../../domain/ordering/customer-orders.js';
import type { CustomerOrderEvent } from '../../domain/ordering/events.js';
import { specification } from '../support/decider-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const userId = 'u1';
const create = (orderId: string, price = 60_000): CustomerOrdersCommand => ({
  type: 'CreateOrder',
  userId,
  orderId,
  price,
  at,
});
const created = (orderId: string, price = 60_000): CustomerOrderEvent => ({
  type: 'OrderCreated',
  data: { userId, orderId, price, at },
});
const markPaid = (orderId: string): CustomerOrdersCommand => ({ type: 'MarkOrderPaid', userId, orderId, at });
const markUnpaid = (orderId: string): CustomerOrdersCommand => ({
  type: 'MarkOrderUnpaid',
  userId,
  orderId,
  reason: 'insufficient_funds',
  at,
});
const succeeded = (orderId: string, price = 60_000): CustomerOrderEvent => ({
  type: 'OrderSucceeded',
  data: { userId, orderId, price, at },
});
const failed = (orderId: string, price = 60_000): CustomerOrderEvent => ({
  type: 'OrderFailed',
  data: { userId, orderId, price, reason: 'insufficient_funds', at },
});
const { given } = specification(customerOrders);

describe('customer orders (decider)', () => {
  it('creates a pending order', () => {
    given([])
      .when(create('o1'))
      .then([created('o1')]);
    expect(customerOrderOf(fold(customerOrders, [created('o1')]), 'o1')).to.deep.equal({
      price: 60_000,
      status: 'pending',
    });
  });
  it('creating the same order id again changes nothing (even with another price)', () => {
    given([created('o1')])
      .when(create('o1', 1))
      .then([]);
    given([created('o1'), succeeded('o1')])
      .when(create('o1'))
      .then([]);
  });
  it('a paid pending order succeeds, with the price it was created with', () => {
    given([created('o1', 60_000)])
      .when(markPaid('o1'))
      .then([succeeded('o1', 60_000)]);
    expect(customerOrderOf(fold(customerOrders, [created('o1'), succeeded('o1')]), 'o1')!.status).to.equal('succeeded');
  });
  it('an unpaid pending order fails, with the reason', () => {
    given([created('o1')])
      .when(markUnpaid('o1'))
      .then([failed('o1')]);
    expect(customerOrderOf(fold(customerOrders, [created('o1'), failed('o1')]), 'o1')!.status).to.equal('failed');
  });
  it('an order ends once: every later outcome changes nothing', () => {
    given([created('o1'), succeeded('o1')])
      .when(markPaid('o1'))
      .then([]);
    given([created('o1'), succeeded('o1')])
      .when(markUnpaid('o1'))
      .then([]);
    given([created('o1'), failed('o1')])
      .when(markUnpaid('o1'))
      .then([]);
    given([created('o1'), failed('o1')])
      .when(markPaid('o1'))
      .then([]);
  });
  it('outcomes for an unknown order change nothing', () => {
    given([created('o1')])
      .when(markPaid('o2'))
      .then([]);
    given([]).when(markUnpaid('o2')).then([]);
  });
  it('keeps each order apart (the scenario: 600 succeeded, then 600 failed)', () => {
    const s = fold(customerOrders, [created('o1'), succeeded('o1'), created('o2'), failed('o2')]);
    expect(['o1', 'o2'].map((id) => customerOrderOf(s, id))).to.deep.equal([
      { price: 60_000, status: 'succeeded' },
      { price: 60_000, status: 'failed' },
    ]);
  });
});
