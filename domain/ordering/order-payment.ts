/**
 * How a plain order settles: OrderCreated → its price is paid from the balance →
 * OrderSucceeded on PaymentMade, OrderFailed on PaymentDeclined. The payment's id is the
 * order's, so an account pays an order once; marking an order that has ended changes nothing.
 */
import type { AccountRequest } from '../billing/account.js';
import { openingTheAccount, type AccountIdOf } from '../billing/account-opening.js';
import type { PaymentDeclined, PaymentMade } from '../billing/events.js';
import { stateless, type Workflow } from '../workflow.js';
import type { CustomerOrdersCommand } from './customer-orders.js';
import type { OrderCreated } from './events.js';

export type OrderPaymentInput = OrderCreated | PaymentMade | PaymentDeclined;
export type OrderPaymentCommand = AccountRequest | CustomerOrdersCommand;

const NAME = 'order-payment';

export function orderPayment(accountIdOf: AccountIdOf): Workflow<OrderPaymentInput, null, OrderPaymentCommand> {
  return {
    name: NAME,
    inputs: ['OrderCreated', 'PaymentMade', 'PaymentDeclined'],
    instanceOf: (input) =>
      input.type === 'OrderCreated'
        ? input.data.orderId
        : input.data.purpose.kind === 'order'
          ? input.data.purpose.orderId
          : null,
    ...stateless,
    decide(input, _state, step) {
      const { at } = step;
      if (input.type === 'OrderCreated') {
        const { userId, orderId, price } = input.data;
        return [
          {
            type: 'PayFromAccount',
            userId,
            operationId: orderId,
            amount: price,
            purpose: { kind: 'order', orderId },
            memory: { process: NAME, cause: step.cause, floor: step.floor },
            at,
          },
        ];
      }
      // Payments of deals are the deal-settlement workflow's.
      const { userId, purpose } = input.data;
      if (purpose.kind !== 'order') return [];
      return input.type === 'PaymentMade'
        ? [{ type: 'MarkOrderPaid', userId, orderId: purpose.orderId, at }]
        : [{ type: 'MarkOrderUnpaid', userId, orderId: purpose.orderId, reason: input.data.reason, at }];
    },
    precondition: openingTheAccount(accountIdOf),
  };
}
