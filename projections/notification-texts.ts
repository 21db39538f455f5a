/** The letters users receive, worded exactly as the specification has them (amounts with 2 decimals). */
import type { FailureReason } from '../domain/billing/events.js';
import { failureReasonWords } from '../domain/messages.js';
import { formatCents, type Cents } from '../domain/money.js';

export interface Recipient {
  firstName: string;
  lastName: string;
}

const dear = (r: Recipient) => `Dear, ${r.firstName} ${r.lastName}!`;

const inWords = failureReasonWords;

export const letters = {
  sold: (r: Recipient, item: string, price: Cents, commission: Cents) =>
    `${dear(r)} You have successfully sold item "${item}" for ${formatCents(price)}$ (commission ${formatCents(commission)}$) on the marketplace.`,
  bought: (r: Recipient, item: string, price: Cents, commission: Cents) =>
    `${dear(r)} You have successfully bought item "${item}" for ${formatCents(price)}$ (commission ${formatCents(commission)}$) on the marketplace.`,
  purchaseFailed: (r: Recipient, item: string, price: Cents, reason: FailureReason) =>
    `${dear(r)} Your purchase of item "${item}" for ${formatCents(price)}$ was not completed due to: ${inWords[reason]}.`,
  orderProcessed: (r: Recipient, price: Cents) =>
    `${dear(r)} Your order for ${formatCents(price)}$ has been successfully processed.`,
  orderNotFulfilled: (r: Recipient, price: Cents, reason: FailureReason) =>
    `${dear(r)} Your order for ${formatCents(price)}$ was not fulfilled due to: ${inWords[reason]}.`,
};
