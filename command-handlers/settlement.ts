/**
 * The process managers that settle what a command started, driven by events. Each step
 * is a command whose effect is idempotent (operation ids derived from the deal or order,
 * market and order steps that do nothing when already done), so redelivering any event
 * any number of times — or a crash and restart between two steps — changes nothing more.
 *
 * A deal: DealOpened → the buyer pays price + commission (or the payment is declined →
 * the deal fails). PaymentMade → the broker earns the buyer's commission, the deal is
 * marked paid, the seller is credited price − seller's commission. AccrualReceived →
 * the broker earns the seller's commission (none when the broker sold), the deal completes.
 *
 * A plain order: OrderCreated → its price is paid from the balance → OrderSucceeded, or
 * OrderFailed when the payment is declined.
 */
import type { AccountEvent, PaymentPurpose } from '../domain/billing/events.js';
import type { Cents } from '../domain/money.js';
import type { OrderCreated } from '../domain/ordering/events.js';
import type { DealOpened, OrderSubmitted } from '../domain/trading/events.js';
import { findOrder } from '../domain/trading/market.js';
import type { EventMetadata, RecordedEvent } from '../infra/eventsourcing/event-store/event-store.js';
import type { OperationMemory } from '../domain/operation-memory.js';
import type { EventHandler, HandlingContext } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { BusinessRuleViolation } from '../domain/decider.js';
import { openAccount } from './billing.js';
import {
  StreamStateMismatch,
  type CommandEnvironment,
} from '../infra/eventsourcing/command-handling/handle-command.js';
import { accountCommands, customerOrdersCommands, marketCommands, type AccountRequest } from './commands.js';
import { enterMarket, loadMarket } from './trading.js';
import { nameBasedUuid } from '../infra/eventsourcing/name-based-id.js';

export interface SettlementEnvironment extends CommandEnvironment {
  now(): Date;
}

const OPERATION_NAMESPACE = 'c8a4b7e2-52d1-4f3e-9b6a-7d0e1f2a3b4c';

/** The id of one step of a deal on an account: the same deal always gets the same ids. */
export function dealOperationId(
  dealId: string,
  step: 'payment' | 'buyer-commission' | 'accrual' | 'seller-commission',
): string {
  return nameBasedUuid(`${dealId}:${step}`, OPERATION_NAMESPACE);
}

/** A step this process manager takes because of `event`: remembered by its account until the manager's redelivery floor passes the event. */
function stepOf(process: string, event: RecordedEvent, context: HandlingContext): OperationMemory {
  return { process, cause: Number(event.position.commit), floor: context.redeliveryFloor };
}

/** Events carry on the request's correlation id; the event itself is the cause of what follows. */
function causedBy(event: RecordedEvent): EventMetadata {
  return { correlationId: event.metadata.correlationId ?? event.id, causationId: event.id };
}

async function onAccount(env: SettlementEnvironment, command: AccountRequest, metadata: EventMetadata) {
  const run = () => accountCommands.handle(env, command, { metadata });
  try {
    return await run();
  } catch (error) {
    // A user who trades before the account-opening process manager got to them: every
    // user has an account, so open it here (idempotently) rather than stall the deal.
    if (!(error instanceof StreamStateMismatch)) throw error;
    await openAccount(env, command.userId, metadata);
    return run();
  }
}

/** A deal still open in its market: the terms of a deal never change, so a cached market that has it will do. */
async function openDeal(env: SettlementEnvironment, itemId: string, dealId: string) {
  return (
    (await loadMarket(env, itemId, 'cached')).deals.get(dealId) ?? (await loadMarket(env, itemId)).deals.get(dealId)
  );
}

/** The deal an event of the settlement belongs to (the market's events carry it, payments in their purpose). */
function dealIdOf(event: RecordedEvent): string | null {
  const data = event.data as { dealId?: unknown; purpose?: { dealId?: unknown } };
  const id = data.dealId ?? data.purpose?.dealId;
  return typeof id === 'string' ? id : null;
}

export function dealSettlement(env: SettlementEnvironment): EventHandler {
  return {
    name: 'deal-settlement',
    kind: 'process-manager',
    filter: { eventTypePrefixes: ['DealOpened', 'PaymentMade', 'PaymentDeclined', 'AccrualReceived'] },
    collections: [],
    // Deals settle independently of each other; a deal's own steps stay in order.
    partitionKey: (event) => dealIdOf(event) ?? event.streamId,
    async handle(recorded, _view, context) {
      const metadata = causedBy(recorded);
      const at = env.now().toISOString();
      const memory = stepOf('deal-settlement', recorded, context);
      if (recorded.type === 'DealOpened') {
        const deal = (recorded as unknown as DealOpened).data;
        const purpose: PaymentPurpose = {
          kind: 'deal',
          dealId: deal.dealId,
          itemId: deal.itemId,
          itemName: deal.itemName,
          commission: deal.buyerCommission,
        };
        const amount: Cents = deal.price + deal.buyerCommission;
        const operationId = dealOperationId(deal.dealId, 'payment');
        await onAccount(
          env,
          { type: 'PayFromAccount', userId: deal.buyerId, operationId, amount, purpose, memory, at },
          metadata,
        );
        return [];
      }
      // Account events of deals only: other payments (plain orders) are someone else's.
      const event = { type: recorded.type, data: recorded.data } as unknown as AccountEvent;
      if (event.type === 'PaymentDeclined' && event.data.purpose.kind === 'deal') {
        const { dealId, itemId } = event.data.purpose;
        await marketCommands.handle(
          env,
          {
            type: 'FailDeal',
            itemId,
            dealId,
            reason: event.data.reason,
            rematchDealId: nameBasedUuid(`${dealId}:rematch`, OPERATION_NAMESPACE),
            at,
          },
          { metadata },
        );
      } else if (event.type === 'PaymentMade' && event.data.purpose.kind === 'deal') {
        const { dealId, itemId } = event.data.purpose;
        const deal = await openDeal(env, itemId, dealId);
        if (!deal) return []; // completed already: this is a redelivery
        // Three independent steps, on three streams. Started in this order, they also land
        // in this order on a stream two of them share (the broker selling: commission, then accrual).
        const source = {
          fromUserId: deal.buyerId,
          kind: 'payment' as const,
          operationId: event.data.operationId,
          dealId,
        };
        const purpose = { dealId, itemId, itemName: deal.itemName, commission: deal.sellerCommission };
        await Promise.all([
          deal.buyerCommission > 0
            ? onAccount(
                env,
                {
                  type: 'ReceiveCommission',
                  userId: deal.brokerId,
                  operationId: dealOperationId(dealId, 'buyer-commission'),
                  amount: deal.buyerCommission,
                  source,
                  memory,
                  at,
                },
                metadata,
              )
            : null,
          marketCommands.handle(env, { type: 'MarkDealPaid', itemId, dealId, at }, { metadata }),
          onAccount(
            env,
            {
              type: 'ReceiveAccrual',
              userId: deal.sellerId,
              operationId: dealOperationId(dealId, 'accrual'),
              amount: deal.price - deal.sellerCommission,
              purpose,
              memory,
              at,
            },
            metadata,
          ),
        ]);
      } else if (event.type === 'AccrualReceived') {
        const { dealId, itemId } = event.data.purpose;
        const deal = await openDeal(env, itemId, dealId);
        if (!deal) return [];
        const source = {
          fromUserId: deal.sellerId,
          kind: 'accrual' as const,
          operationId: event.data.operationId,
          dealId,
        };
        await Promise.all([
          deal.sellerCommission > 0
            ? onAccount(
                env,
                {
                  type: 'ReceiveCommission',
                  userId: deal.brokerId,
                  operationId: dealOperationId(dealId, 'seller-commission'),
                  amount: deal.sellerCommission,
                  source,
                  memory,
                  at,
                },
                metadata,
              )
            : null,
          // The deal is paid: MarkDealPaid finished before this accrual's event could be handled
          // (same deal, same partition, handled in order).
          marketCommands.handle(env, { type: 'CompleteDeal', itemId, dealId, at }, { metadata }),
        ]);
      }
      return [];
    },
  };
}

/** Finishes placements that were recorded in a trader's stream but never reached the market (a crash in between). */
export function orderPlacement(env: SettlementEnvironment): EventHandler {
  return {
    name: 'order-placement',
    kind: 'process-manager',
    filter: { eventTypePrefixes: ['OrderSubmitted'] },
    collections: [],
    partitionKey: (event) => String(event.data.orderId),
    async handle(recorded) {
      const { userId, orderId, side, itemId, price, at: submittedAt } = (recorded as unknown as OrderSubmitted).data;
      // Nearly always the placing request entered the order itself. A cached market that
      // holds it proves so (an order once in the market stays there, active or closed):
      // nothing to finish, and no command queued behind the item's placements for it.
      // A refused order goes on, so that a refusal a crash kept from the trader's stream lands there.
      if (findOrder(await loadMarket(env, itemId, 'cached'), orderId)) return [];
      await enterMarket(env, { userId, orderId, side, itemId, price, submittedAt }, causedBy(recorded)).catch(
        (error: unknown) => {
          // A refusal is an outcome (recorded as OrderRejected by enterMarket), not a failure of
          // this step; so is an order submitted too long ago for the market to tell whether it
          // was placed (order_expired): placing it again could place it twice.
          if (!(error instanceof BusinessRuleViolation)) throw error;
        },
      );
      return [];
    },
  };
}

export function orderPayment(env: SettlementEnvironment): EventHandler {
  return {
    name: 'order-payment',
    kind: 'process-manager',
    filter: { eventTypePrefixes: ['OrderCreated', 'PaymentMade', 'PaymentDeclined'] },
    collections: [],
    partitionKey: (event) => String(event.data.orderId),
    async handle(recorded, _view, context) {
      const metadata = causedBy(recorded);
      const at = env.now().toISOString();
      if (recorded.type === 'OrderCreated') {
        const { userId, orderId, price } = (recorded as unknown as OrderCreated).data;
        const memory = stepOf('order-payment', recorded, context);
        await onAccount(
          env,
          {
            type: 'PayFromAccount',
            userId,
            operationId: orderId,
            amount: price,
            purpose: { kind: 'order', orderId },
            memory,
            at,
          },
          metadata,
        );
        return [];
      }
      const event = { type: recorded.type, data: recorded.data } as unknown as AccountEvent;
      if ((event.type !== 'PaymentMade' && event.type !== 'PaymentDeclined') || event.data.purpose.kind !== 'order')
        return [];
      const { userId, purpose } = event.data;
      const command =
        event.type === 'PaymentMade'
          ? { type: 'MarkOrderPaid' as const, userId, orderId: purpose.orderId, at }
          : { type: 'MarkOrderUnpaid' as const, userId, orderId: purpose.orderId, reason: event.data.reason, at };
      await customerOrdersCommands.handle(env, command, { metadata });
      return [];
    },
  };
}
