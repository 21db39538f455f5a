import { expect } from 'chai';
import type { BrokerAppointed, UserBlocked, UserUnblocked } from '../../domain/identity/admin-events.js';
import { access } from '../../domain/identity/blocking.js';
import { brokerOffice } from '../../domain/identity/broker-appointment.js';
import { blockedUserOrders } from '../../domain/trading/blocked-user-orders.js';
import { BusinessRuleViolation } from '../../domain/decider.js';
import { specification } from '../support/decider-spec.js';
import { defaultStep, workflowSpecification } from '../support/workflow-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const appointed = (userId: string, previousBrokerId: string | null, by = 'cli'): BrokerAppointed => ({
  type: 'BrokerAppointed',
  data: { userId, previousBrokerId, by, at },
});
const openOrders = [
  { orderId: 'item-1.o1', side: 'purchase' as const },
  { orderId: 'item-2-u0', side: 'sell' as const },
];
const blocked: UserBlocked = { type: 'UserBlocked', data: { userId: 'u1', by: 'admin-1', openOrders, at } };
const unblocked: UserUnblocked = { type: 'UserUnblocked', data: { userId: 'u1', by: 'admin-1', at } };

describe('broker office (decider)', () => {
  const { given } = specification(brokerOffice);
  it('the first appointment retires nobody; the next names the broker it retires; who did it is recorded', () => {
    given([])
      .when({ type: 'AppointBroker', userId: 'b1', by: 'configuration', at })
      .then([appointed('b1', null, 'configuration')]);
    given([appointed('b1', null)])
      .when({ type: 'AppointBroker', userId: 'b2', by: 'admin-1', at })
      .then([appointed('b2', 'b1', 'admin-1')]);
  });
  it('appointing the broker in office changes nothing (start-up does it every time)', () => {
    given([appointed('b1', null), appointed('b2', 'b1')])
      .when({ type: 'AppointBroker', userId: 'b2', by: 'configuration', at })
      .then([]);
  });
});

describe('access (decider)', () => {
  const { given } = specification(access);
  it('blocks with the open orders and who did it; blocking again changes nothing', () => {
    given([]).when({ type: 'BlockUser', userId: 'u1', by: 'admin-1', openOrders, at }).then([blocked]);
    given([blocked]).when({ type: 'BlockUser', userId: 'u1', by: 'admin-2', openOrders: [], at }).then([]);
  });
  it('unblocks a blocked user only', () => {
    given([blocked]).when({ type: 'UnblockUser', userId: 'u1', by: 'admin-1', at }).then([unblocked]);
    given([]).when({ type: 'UnblockUser', userId: 'u1', by: 'admin-1', at }).then([]);
    given([blocked, unblocked]).when({ type: 'UnblockUser', userId: 'u1', by: 'admin-1', at }).then([]);
  });
});

describe('blocked-user orders (workflow)', () => {
  const { given } = workflowSpecification(blockedUserOrders);
  it('UserBlocked: each open order is canceled in its item’s market, as its owner', () => {
    given([])
      .when(blocked)
      .then([
        {
          type: 'CancelOrder',
          itemId: 'item-1',
          orderId: 'item-1.o1',
          side: 'purchase',
          requesterId: 'u1',
          at: defaultStep.at,
        },
        {
          type: 'CancelOrder',
          itemId: 'item-2',
          orderId: 'item-2-u0',
          side: 'sell',
          requesterId: 'u1',
          at: defaultStep.at,
        },
      ]);
    expect(blockedUserOrders.instanceOf(blocked)).to.equal('u1');
  });
  it('an order filled or gone meanwhile is an outcome: the market’s refusal is accepted, any other is not', () => {
    const cancel = {
      type: 'CancelOrder' as const,
      itemId: 'i',
      orderId: 'i.o',
      side: 'sell' as const,
      requesterId: 'u1',
      at,
    };
    const accepts = (code: string) => blockedUserOrders.acceptsRefusal!(new BusinessRuleViolation(code, code), cancel);
    expect(accepts('cannot_cancel')).to.equal(true);
    expect(accepts('order_not_found')).to.equal(true);
    expect(accepts('operation_denied')).to.equal(false);
  });
});
