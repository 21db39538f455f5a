/**
 * Balances (with the account stream's revision, which is the ETag clients send back as
 * If-Match) and each user's operation history, newest first.
 */
import type { AccountEvent } from '../domain/billing/events.js';
import type { RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import { sortablePosition } from '../infra/eventsourcing/event-store/position.js';
import type { WriteOp } from '../infra/eventsourcing/read-store/read-store.js';
import { describeOperation } from './operation-descriptions.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';

export const ACCOUNTS = 'accounts';
export const OPERATIONS = 'operations';

type OperationType = 'deposit' | 'withdraw' | 'payment' | 'accrual' | 'commission';

export const billingProjection: EventHandler = {
  name: 'billing',
  filter: { streamPrefixes: ['account-'] },
  collections: [
    { name: ACCOUNTS, indexes: [] },
    // `seq` (the event's position) orders operations exactly as they happened, even within one millisecond.
    { name: OPERATIONS, indexes: [{ equal: ['userId'], sort: ['seq'] }] },
  ],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of `account-` streams are AccountEvents by construction (domain/billing/events.ts).
    const event = { type: recorded.type, data: recorded.data } as unknown as AccountEvent;
    if (event.type === 'AccountOpened') {
      const { accountId, userId, at } = event.data;
      return [
        {
          op: 'insert',
          collection: ACCOUNTS,
          id: userId,
          doc: { accountId, userId, amount: 0, revision: recorded.revision, createdAt: at, updatedAt: at },
        },
      ];
    }
    const { userId, at } = event.data;
    if (event.type === 'PaymentDeclined') {
      // Nothing moved, but the stream (and so the ETag) did.
      return [{ op: 'update', collection: ACCOUNTS, id: userId, set: { revision: recorded.revision } }];
    }
    const balance = [
      {
        op: 'update',
        collection: ACCOUNTS,
        id: userId,
        set: { amount: event.data.balance, revision: recorded.revision, updatedAt: at },
      } satisfies WriteOp,
    ];
    const operation = (type: OperationType, description: string): WriteOp => ({
      op: 'insert',
      collection: OPERATIONS,
      id: event.data.operationId,
      doc: {
        userId,
        type,
        amount: event.data.amount,
        description,
        createdAt: at,
        seq: sortablePosition(recorded.position),
      },
    });
    switch (event.type) {
      case 'MoneyDeposited':
        return [...balance, operation('deposit', describeOperation.deposit())];
      case 'MoneyWithdrawn':
        return [...balance, operation('withdraw', describeOperation.withdraw())];
      case 'PaymentMade':
        return [...balance, operation('payment', describeOperation.payment(event.data.purpose))];
      case 'AccrualReceived':
        return [...balance, operation('accrual', describeOperation.accrual(event.data.purpose))];
      case 'CommissionReceived':
        return [...balance, operation('commission', describeOperation.commission(event.data.source))];
    }
  },
};
