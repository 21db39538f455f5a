import { expect } from 'chai';
import { account } from '../../domain/billing/account.js';
import type { AccountEvent, PaymentPurpose } from '../../domain/billing/events.js';
import { fold } from '../../domain/decider.js';
import { operationIdsSize } from '../../domain/operation-memory.js';
import { specification } from '../support/decider-spec.js';

const at = '2026-11-21T10:00:00.000Z';
const ids = { accountId: 'acc-1', userId: 'user-1' };
const opened: AccountEvent = { type: 'AccountOpened', data: { ...ids, at } };
const deposited = (operationId: string, amount: number, balance: number): AccountEvent => ({
  type: 'MoneyDeposited',
  data: { ...ids, operationId, amount, balance, at },
});
const deal: PaymentPurpose = { kind: 'deal', dealId: 'deal-1', itemId: 'item-1', itemName: 'sword', commission: 2000 };
const { given } = specification(account);

describe('account (decider)', () => {
  describe('opening', () => {
    it('opens a new account', () => {
      given([])
        .when({ type: 'OpenAccount', ...ids, at })
        .then([opened]);
    });
    it('opening again for the same user changes nothing', () => {
      given([opened])
        .when({ type: 'OpenAccount', ...ids, at })
        .then([]);
    });
    it('refuses money movements before the account is open', () => {
      given([]).when({ type: 'DepositMoney', operationId: 'op-1', amount: 100, at }).thenRefused('account_not_open');
    });
  });

  describe('deposits and withdrawals', () => {
    it('a deposit raises the balance', () => {
      given([opened])
        .when({ type: 'DepositMoney', operationId: 'op-1', amount: 100_000, at })
        .then([deposited('op-1', 100_000, 100_000)]);
    });
    it('a withdrawal lowers it', () => {
      given([opened, deposited('op-1', 100_000, 100_000)])
        .when({ type: 'WithdrawMoney', operationId: 'op-2', amount: 70_000, at })
        .then([{ type: 'MoneyWithdrawn', data: { ...ids, operationId: 'op-2', amount: 70_000, balance: 30_000, at } }]);
    });
    it('a withdrawal of everything leaves 0', () => {
      given([opened, deposited('op-1', 500, 500)])
        .when({ type: 'WithdrawMoney', operationId: 'op-2', amount: 500, at })
        .then([{ type: 'MoneyWithdrawn', data: { ...ids, operationId: 'op-2', amount: 500, balance: 0, at } }]);
    });
    it('refuses to withdraw more than the balance', () => {
      given([opened, deposited('op-1', 500, 500)])
        .when({ type: 'WithdrawMoney', operationId: 'op-2', amount: 501, at })
        .thenRefused('not_enough_money', 'Not enough money on the account');
    });
    it('applies an operation id once: a repeated deposit changes nothing', () => {
      given([opened, deposited('op-1', 500, 500)])
        .when({ type: 'DepositMoney', operationId: 'op-1', amount: 500, at })
        .then([]);
    });
    it('refuses amounts that are not positive whole cents', () => {
      for (const amount of [0, -1, 1.5]) {
        expect(() =>
          account.decide({ type: 'DepositMoney', operationId: 'x', amount, at }, fold(account, [opened])),
        ).to.throw(RangeError);
      }
    });
  });

  describe('payments, accruals and commissions (used by deals and orders)', () => {
    it('a payment the balance covers is made', () => {
      given([opened, deposited('op-1', 100_000, 100_000)])
        .when({ type: 'PayFromAccount', operationId: 'pay-1', amount: 22_000, purpose: deal, at })
        .then([
          {
            type: 'PaymentMade',
            data: { ...ids, operationId: 'pay-1', amount: 22_000, balance: 78_000, purpose: deal, at },
          },
        ]);
    });
    it('a payment the balance does not cover is declined and charges nothing', () => {
      given([opened])
        .when({ type: 'PayFromAccount', operationId: 'pay-1', amount: 22_000, purpose: deal, at })
        .then([
          {
            type: 'PaymentDeclined',
            data: { ...ids, operationId: 'pay-1', amount: 22_000, reason: 'insufficient_funds', purpose: deal, at },
          },
        ]);
    });
    it('a payment id is charged once, even after it was declined', () => {
      const declined: AccountEvent = {
        type: 'PaymentDeclined',
        data: { ...ids, operationId: 'pay-1', amount: 22_000, reason: 'insufficient_funds', purpose: deal, at },
      };
      given([opened, declined, deposited('op-1', 100_000, 100_000)])
        .when({ type: 'PayFromAccount', operationId: 'pay-1', amount: 22_000, purpose: deal, at })
        .then([]);
    });
    it('an accrual and a commission credit the account, once each', () => {
      const purpose = { dealId: 'deal-1', itemId: 'item-1', itemName: 'sword', commission: 2500 };
      const accrued: AccountEvent = {
        type: 'AccrualReceived',
        data: { ...ids, operationId: 'acc-op', amount: 22_500, balance: 22_500, purpose, at },
      };
      given([opened])
        .when({ type: 'ReceiveAccrual', operationId: 'acc-op', amount: 22_500, purpose, at })
        .then([accrued]);
      given([opened, accrued])
        .when({ type: 'ReceiveAccrual', operationId: 'acc-op', amount: 22_500, purpose, at })
        .then([]);
      const source = { fromUserId: 'user-2', kind: 'payment' as const, operationId: 'pay-1', dealId: 'deal-1' };
      given([opened, accrued])
        .when({ type: 'ReceiveCommission', operationId: 'com-1', amount: 2500, source, at })
        .then([
          {
            type: 'CommissionReceived',
            data: { ...ids, operationId: 'com-1', amount: 2500, balance: 25_000, source, at },
          },
        ]);
    });
  });

  it('remembers every operation id of a long history', () => {
    const history: AccountEvent[] = [opened];
    for (let i = 0; i < 1000; i++) history.push(deposited(`op-${i}`, 1, i + 1));
    const state = fold(account, history);
    expect(state.balance).to.equal(1000);
    expect(operationIdsSize(state.operations)).to.equal(1000);
    expect(account.decide({ type: 'DepositMoney', operationId: 'op-3', amount: 1, at }, state)).to.deep.equal([]);
    expect(account.decide({ type: 'DepositMoney', operationId: 'op-1000', amount: 1, at }, state)).to.have.length(1);
  });
});
