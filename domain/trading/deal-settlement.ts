/**
 * How a deal settles, driven by its events. DealOpened → the buyer pays price + commission
 * (or the payment is declined → the deal fails). PaymentMade → the broker earns the buyer's
 * commission, the deal is marked paid, the seller is credited price − seller's commission.
 * AccrualReceived → the broker earns the seller's commission (none when the broker sold),
 * the deal completes.
 *
 * Every step is harmless when repeated: the account operations' ids follow from the deal's
 * id (an account applies an id once, for as long as this workflow's redelivery floor has
 * not passed the event that caused it: see domain/operation-memory.ts), and a market step
 * does nothing for a deal no longer open. So any event delivered again, in any order, any
 * number of times, changes nothing more.
 *
 * The terms of a deal are in its item's market, which keeps every open deal: that is the
 * state a payment or an accrual is decided on. A deal the market no longer has is settled.
 */
import type { AccountRequest } from '../billing/account.js';
import { openingTheAccount, type AccountIdOf } from '../billing/account-opening.js';
import type { AccrualReceived, CommissionSource, PaymentDeclined, PaymentMade } from '../billing/events.js';
import type { Cents } from '../money.js';
import type { OperationMemory } from '../operation-memory.js';
import type { Workflow, WorkflowStep } from '../workflow.js';
import { marketStream, type DealOpened, type MarketEvent } from './events.js';
import { market, type MarketRequest, type MarketState, type OpenDeal } from './market.js';

export type DealSettlementInput = DealOpened | PaymentMade | PaymentDeclined | AccrualReceived;
export type DealSettlementCommand = AccountRequest | MarketRequest;

/** An id that follows from a name: the same name always gives the same id (a name-based UUID, made by the caller). */
export type IdOfName = (name: string) => string;

export type DealStep = 'payment' | 'buyer-commission' | 'accrual' | 'seller-commission';

/** The id of one step of a deal on an account: the same deal always gets the same ids. */
export function dealOperationId(idOf: IdOfName, dealId: string, step: DealStep): string {
  return idOf(`${dealId}:${step}`);
}

/** The deal a failed deal's sell order may open at once if it crosses a bid again: the same for every attempt. */
export function rematchDealId(idOf: IdOfName, dealId: string): string {
  return idOf(`${dealId}:rematch`);
}

const NAME = 'deal-settlement';

/** The deal an input belongs to (the market's events name it, payments in their purpose); null for a payment of something else. */
function dealIdOf(input: DealSettlementInput): string | null {
  switch (input.type) {
    case 'DealOpened':
      return input.data.dealId;
    case 'AccrualReceived':
      return input.data.purpose.dealId;
    default:
      return input.data.purpose.kind === 'deal' ? input.data.purpose.dealId : null;
  }
}

export interface DealSettlementIds {
  /** Makes the ids of a deal's steps (`dealOperationId`, `rematchDealId`). */
  idOf: IdOfName;
  /** The id of a user's account, for one opened on the way (see `openingTheAccount`). */
  accountIdOf: AccountIdOf;
}

export function dealSettlement(
  ids: DealSettlementIds,
): Workflow<DealSettlementInput, MarketState, DealSettlementCommand, MarketEvent> {
  return {
    name: NAME,
    inputs: ['DealOpened', 'PaymentMade', 'PaymentDeclined', 'AccrualReceived'],
    instanceOf: dealIdOf,
    // The state is the market's, as the market folds it.
    initialState: market.initialState,
    evolve: market.evolve,
    stateStream(input) {
      if (input.type === 'AccrualReceived') return marketStream(input.data.purpose.itemId);
      if (input.type === 'PaymentMade' && input.data.purpose.kind === 'deal')
        return marketStream(input.data.purpose.itemId);
      return null; // an opened deal and a declined payment carry all they need
    },
    decide: (input, state, step) => nextSteps(input, state, { ids, memory: memoryOf(step), at: step.at }),
    precondition: openingTheAccount(ids.accountIdOf),
  };
}

/** What the steps taken on one input are decided with besides the input and the market. */
interface Decision {
  ids: DealSettlementIds;
  /** Carried by every account operation of the input, so an account remembers it as long as a redelivery could repeat it. */
  memory: OperationMemory;
  at: string;
}

function memoryOf(step: WorkflowStep): OperationMemory {
  return { process: NAME, cause: step.cause, floor: step.floor };
}

/** The steps an input calls for, each input decided by a function of its own. */
function nextSteps(input: DealSettlementInput, state: MarketState, decision: Decision): DealSettlementCommand[] {
  switch (input.type) {
    case 'DealOpened':
      return buyerPays(input.data, decision);
    case 'PaymentDeclined':
      return dealFails(input.data, decision);
    case 'PaymentMade':
      return paymentSettles(input.data, state, decision);
    case 'AccrualReceived':
      return dealCompletes(input.data, state, decision);
  }
}

/** A deal opened: the buyer pays the price and the buyer's commission. */
function buyerPays(deal: DealOpened['data'], { ids, memory, at }: Decision): DealSettlementCommand[] {
  return [
    {
      type: 'PayFromAccount',
      userId: deal.buyerId,
      operationId: dealOperationId(ids.idOf, deal.dealId, 'payment'),
      amount: deal.price + deal.buyerCommission,
      purpose: {
        kind: 'deal',
        dealId: deal.dealId,
        itemId: deal.itemId,
        itemName: deal.itemName,
        commission: deal.buyerCommission,
      },
      memory,
      at,
    },
  ];
}

/** The buyer could not pay: the deal fails. */
function dealFails(declined: PaymentDeclined['data'], { ids, at }: Decision): DealSettlementCommand[] {
  // Payments of plain orders are the order-payment workflow's.
  const { purpose, reason } = declined;
  if (purpose.kind !== 'deal') return [];
  const { dealId, itemId } = purpose;
  return [{ type: 'FailDeal', itemId, dealId, reason, rematchDealId: rematchDealId(ids.idOf, dealId), at }];
}

/** The buyer paid: the broker earns the buyer's commission, the deal is paid, the seller is credited. */
function paymentSettles(payment: PaymentMade['data'], state: MarketState, decision: Decision): DealSettlementCommand[] {
  const { purpose, operationId } = payment;
  if (purpose.kind !== 'deal') return [];
  const { dealId, itemId } = purpose;
  const deal = state.deals.get(dealId);
  if (!deal) return []; // settled already: this is a redelivery
  const { ids, memory, at } = decision;
  const source = { fromUserId: deal.buyerId, kind: 'payment' as const, operationId, dealId };
  // Three independent steps, on three streams. Sent in this order, they also land in
  // this order on a stream two of them share (the broker selling: commission, then accrual).
  return [
    ...brokerEarns(deal.buyerCommission, 'buyer-commission', deal, source, decision),
    { type: 'MarkDealPaid', itemId, dealId, at },
    {
      type: 'ReceiveAccrual',
      userId: deal.sellerId,
      operationId: dealOperationId(ids.idOf, dealId, 'accrual'),
      amount: deal.price - deal.sellerCommission,
      purpose: { dealId, itemId, itemName: deal.itemName, commission: deal.sellerCommission },
      memory,
      at,
    },
  ];
}

/** The seller was credited: the broker earns the seller's commission, the deal completes. */
function dealCompletes(
  accrual: AccrualReceived['data'],
  state: MarketState,
  decision: Decision,
): DealSettlementCommand[] {
  const { purpose, operationId } = accrual;
  const { dealId, itemId } = purpose;
  const deal = state.deals.get(dealId);
  if (!deal) return [];
  const source = { fromUserId: deal.sellerId, kind: 'accrual' as const, operationId, dealId };
  // The deal is paid: MarkDealPaid was sent before this accrual's event could be decided
  // (the same deal's inputs are decided in order).
  return [
    ...brokerEarns(deal.sellerCommission, 'seller-commission', deal, source, decision),
    { type: 'CompleteDeal', itemId, dealId, at: decision.at },
  ];
}

/** The broker's commission on one side of a deal: nothing when that side owes none (the broker selling owes none). */
function brokerEarns(
  commission: Cents,
  step: 'buyer-commission' | 'seller-commission',
  deal: OpenDeal,
  source: CommissionSource,
  { ids, memory, at }: Decision,
): DealSettlementCommand[] {
  return commission > 0
    ? [
        {
          type: 'ReceiveCommission',
          userId: deal.brokerId,
          operationId: dealOperationId(ids.idOf, source.dealId, step),
          amount: commission,
          source,
          memory,
          at,
        },
      ]
    : [];
}
