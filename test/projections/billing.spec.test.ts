/** The billing projection: balances with the account stream's revision, and each user's operations. */
import { billingProjection } from '../../projections/billing.js';
import { accounts, operations } from '../../projections/read-models/billing.js';
import { describeProjection, documents, seqOf, type GivenEvent } from '../support/projection-spec.js';

const opened: GivenEvent = {
  stream: 'account-u1',
  type: 'AccountOpened',
  data: { accountId: 'a1', userId: 'u1', at: '2026-03-01T10:00:00.000Z' },
};

const money = { accountId: 'a1', userId: 'u1' } as const;

describeProjection(billingProjection, (spec) => {
  it('an opened account holds nothing, at revision 0', () =>
    spec.given(opened).then(
      documents(accounts, [
        {
          id: 'u1',
          accountId: 'a1',
          userId: 'u1',
          amount: 0,
          revision: 0,
          createdAt: '2026-03-01T10:00:00.000Z',
          updatedAt: '2026-03-01T10:00:00.000Z',
        },
      ]),
    ));

  it('each movement of money sets the balance and revision and is listed as an operation, described', () =>
    spec
      .given(
        opened,
        {
          stream: 'account-u1',
          type: 'MoneyDeposited',
          data: { ...money, operationId: 'op1', amount: 10_000, balance: 10_000, at: '2026-03-01T10:01:00.000Z' },
        },
        {
          stream: 'account-u1',
          type: 'MoneyWithdrawn',
          data: { ...money, operationId: 'op2', amount: 1_000, balance: 9_000, at: '2026-03-01T10:02:00.000Z' },
        },
        {
          stream: 'account-u1',
          type: 'PaymentMade',
          data: {
            ...money,
            operationId: 'op3',
            amount: 2_050,
            balance: 6_950,
            purpose: { kind: 'deal', dealId: 'd1', itemId: 'i1', itemName: 'Lamp', commission: 50 },
            at: '2026-03-01T10:03:00.000Z',
          },
        },
        {
          stream: 'account-u1',
          type: 'AccrualReceived',
          data: {
            ...money,
            operationId: 'op4',
            amount: 1_900,
            balance: 8_850,
            purpose: { dealId: 'd2', itemId: 'i2', itemName: 'Desk', commission: 100 },
            at: '2026-03-01T10:04:00.000Z',
          },
        },
        {
          stream: 'account-u1',
          type: 'CommissionReceived',
          data: {
            ...money,
            operationId: 'op5',
            amount: 25,
            balance: 8_875,
            source: { fromUserId: 'u2', kind: 'payment', operationId: 'op9', dealId: 'd3' },
            at: '2026-03-01T10:05:00.000Z',
          },
        },
        {
          stream: 'account-u1',
          type: 'PaymentMade',
          data: {
            ...money,
            operationId: 'op6',
            amount: 875,
            balance: 8_000,
            purpose: { kind: 'order', orderId: 'o1' },
            at: '2026-03-01T10:06:00.000Z',
          },
        },
      )
      .then(
        documents(accounts, [
          {
            id: 'u1',
            accountId: 'a1',
            userId: 'u1',
            amount: 8_000,
            revision: 6,
            createdAt: '2026-03-01T10:00:00.000Z',
            updatedAt: '2026-03-01T10:06:00.000Z',
          },
        ]),
        documents(operations, [
          {
            id: 'op1',
            userId: 'u1',
            type: 'deposit',
            amount: 10_000,
            description: 'money deposit by user',
            createdAt: '2026-03-01T10:01:00.000Z',
            seq: seqOf(1),
          },
          {
            id: 'op2',
            userId: 'u1',
            type: 'withdraw',
            amount: 1_000,
            description: 'money withdrawal by user',
            createdAt: '2026-03-01T10:02:00.000Z',
            seq: seqOf(2),
          },
          {
            id: 'op3',
            userId: 'u1',
            type: 'payment',
            amount: 2_050,
            description: 'buying the item "Lamp" on the marketplace (with commission 0.50)',
            createdAt: '2026-03-01T10:03:00.000Z',
            seq: seqOf(3),
          },
          {
            id: 'op4',
            userId: 'u1',
            type: 'accrual',
            amount: 1_900,
            description: 'selling the item "Desk" on the marketplace (with commission 1.00)',
            createdAt: '2026-03-01T10:04:00.000Z',
            seq: seqOf(4),
          },
          {
            id: 'op5',
            userId: 'u1',
            type: 'commission',
            amount: 25,
            description: 'commission charge from user u2 (payment op9)',
            createdAt: '2026-03-01T10:05:00.000Z',
            seq: seqOf(5),
          },
          {
            id: 'op6',
            userId: 'u1',
            type: 'payment',
            amount: 875,
            description: 'payment for order o1',
            createdAt: '2026-03-01T10:06:00.000Z',
            seq: seqOf(6),
          },
        ]),
      ));

  it('a declined payment moves only the revision (the ETag): no balance change, no operation', () =>
    spec
      .given(opened, {
        stream: 'account-u1',
        type: 'PaymentDeclined',
        data: {
          ...money,
          operationId: 'op1',
          amount: 500,
          reason: 'insufficient_funds',
          purpose: { kind: 'order', orderId: 'o1' },
          at: '2026-03-01T10:01:00.000Z',
        },
      })
      .then(
        documents(accounts, [
          {
            id: 'u1',
            accountId: 'a1',
            userId: 'u1',
            amount: 0,
            revision: 1,
            createdAt: '2026-03-01T10:00:00.000Z',
            updatedAt: '2026-03-01T10:00:00.000Z',
          },
        ]),
      ));
});
