/** The descriptions of billing operations, exactly as the specification words them. */
import type { AccrualPurpose, CommissionSource, PaymentPurpose } from '../domain/billing/events.js';
import { formatCents } from '../domain/money.js';

export const describeOperation = {
  deposit: () => 'money deposit by user',
  withdraw: () => 'money withdrawal by user',
  payment: (purpose: PaymentPurpose) =>
    purpose.kind === 'deal'
      ? `buying the item "${purpose.itemName}" on the marketplace (with commission ${formatCents(purpose.commission)})`
      : `payment for order ${purpose.orderId}`,
  accrual: (purpose: AccrualPurpose) =>
    `selling the item "${purpose.itemName}" on the marketplace (with commission ${formatCents(purpose.commission)})`,
  commission: (source: CommissionSource) =>
    `commission charge from user ${source.fromUserId} (${source.kind} ${source.operationId})`,
};
