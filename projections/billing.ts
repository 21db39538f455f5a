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
import { accounts, operations, type OperationType } from './read-models/billing.js';

export const billingProjection: EventHandler = {
  name: 'billing',
  filter: { streamPrefixes: ['account-'] },
  collections: [accounts, operations],
  handle(recorded: RecordedEvent): WriteOp[] {
    // Events of `account-` streams are AccountEvents by construction (domain/billing/events.ts).
    const event = { type: recorded.type, data: recorded.data } as unknown as AccountEvent;
    if (event.type === 'AccountOpened') {
      const { accountId, userId, at } = event.data;
      return [
        accounts.insert(userId, {
          accountId,
          userId,
          amount: 0,
          revision: recorded.revision,
          createdAt: at,
          updatedAt: at,
        }),
      ];
    }
    const { userId, at } = event.data;
    if (event.type === 'PaymentDeclined') {
      // Nothing moved, but the stream (and so the ETag) did.
      return [accounts.update(userId, { set: { revision: recorded.revision } })];
    }
    const balance = [
      accounts.update(userId, { set: { amount: event.data.balance, revision: recorded.revision, updatedAt: at } }),
    ];
    const operation = (type: OperationType, description: string): WriteOp =>
      operations.insert(event.data.operationId, {
        userId,
        type,
        amount: event.data.amount,
        description,
        createdAt: at,
        seq: sortablePosition(recorded.position),
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
