import { expect } from 'chai';
import type { PaymentDeclined, PaymentMade } from '../../domain/billing/events.js';
import type { OrderCreated } from '../../domain/ordering/events.js';
import { orderPayment } from '../../domain/ordering/order-payment.js';
import { defaultStep, workflowSpecification } from '../support/workflow-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const { at: now } = defaultStep;
const accountIdOf = (userId: string) => `acc(${userId})`;

describe('order payment (workflow)', () => {
  const workflow = orderPayment(accountIdOf);
  const { given } = workflowSpecification(workflow);
  const created: OrderCreated = { type: 'OrderCreated', data: { userId: 'u1', orderId: 'o1', price: 60_000, at } };
  const payment = (purpose: PaymentMade['data']['purpose']) => ({
    accountId: accountIdOf('u1'),
    userId: 'u1',
    operationId: 'o1',
    amount: 60_000,
    purpose,
    at,
  });
  const order = { kind: 'order' as const, orderId: 'o1' };
  const deal = { kind: 'deal' as const, dealId: 'd1', itemId: 'i1', itemName: 'sword', commission: 10 };
  const made = (purpose: PaymentMade['data']['purpose'] = order): PaymentMade => ({
    type: 'PaymentMade',
    data: { ...payment(purpose), balance: 0 },
  });
  const declined = (purpose: PaymentDeclined['data']['purpose'] = order): PaymentDeclined => ({
    type: 'PaymentDeclined',
    data: { ...payment(purpose), reason: 'insufficient_funds' },
  });

  it('OrderCreated: the price is paid from the balance, under the order’s id', () => {
    given([])
      .when(created)
      .then([
        {
          type: 'PayFromAccount',
          userId: 'u1',
          operationId: 'o1',
          amount: 60_000,
          purpose: { kind: 'order', orderId: 'o1' },
          memory: { process: 'order-payment', cause: defaultStep.cause, floor: defaultStep.floor },
          at: now,
        },
      ]);
  });

  it('the order succeeds when paid, and fails with the payment’s reason when declined', () => {
    given([])
      .when(made())
      .then([{ type: 'MarkOrderPaid', userId: 'u1', orderId: 'o1', at: now }]);
    given([])
      .when(declined())
      .then([{ type: 'MarkOrderUnpaid', userId: 'u1', orderId: 'o1', reason: 'insufficient_funds', at: now }]);
  });

  it('leaves payments of deals alone', () => {
    given([]).when(made(deal)).then([]);
    given([]).when(declined(deal)).then([]);
  });

  it('decides one order’s events in order; the account its payment finds missing is opened first', () => {
    expect([created, made(), declined()].map(workflow.instanceOf)).to.deep.equal(['o1', 'o1', 'o1']);
    expect(workflow.instanceOf(made(deal))).to.equal(null);
    const pay = workflow.decide(created, null, defaultStep)[0]!;
    expect(workflow.precondition!(pay, defaultStep)).to.deep.equal({
      type: 'OpenAccount',
      accountId: accountIdOf('u1'),
      userId: 'u1',
      at: now,
    });
    expect(workflow.precondition!({ type: 'MarkOrderPaid', userId: 'u1', orderId: 'o1', at }, defaultStep)).to.equal(
      null,
    );
  });
});
