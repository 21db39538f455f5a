/**
 * The process managers that settle what a command started: a deal (payment, accrual,
 * commissions), a placement a crash cut short, a plain order's payment. Their rules are
 * workflows in domain/ (`domain/trading/deal-settlement.ts`, `domain/trading/order-placement.ts`,
 * `domain/ordering/order-payment.ts`); each is given here what it needs of this product — the
 * ids it derives, the market order memory — and run by the core's reactor
 * (infra/eventsourcing/subscriptions/workflow-reactor.ts), which sends its commands through the
 * tables of commands.ts.
 */
import { dealOperationId as operationIdOf, type DealStep } from '../domain/trading/deal-settlement.js';
import { dealSettlement as dealSettlementWorkflow } from '../domain/trading/deal-settlement.js';
import { market } from '../domain/trading/market.js';
import { orderPlacement as orderPlacementWorkflow } from '../domain/trading/order-placement.js';
import { orderPayment as orderPaymentWorkflow } from '../domain/ordering/order-payment.js';
import { routeCommands } from '../infra/eventsourcing/command-handling/command-router.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { workflowReactor, type ReactorEnvironment } from '../infra/eventsourcing/subscriptions/workflow-reactor.js';
import { nameBasedUuid } from '../infra/eventsourcing/name-based-id.js';
import { blockedUserOrders as blockedUserOrdersWorkflow } from '../domain/trading/blocked-user-orders.js';
import { withBrokersInOffice } from './admin.js';
import { accountIdOf } from './billing.js';
import { accountCommands, customerOrdersCommands, marketCommands, traderOrdersCommands } from './commands.js';
import { defaultRetention, type RetentionSetting } from './retention.js';

export interface SettlementEnvironment extends ReactorEnvironment, RetentionSetting {}

const OPERATION_NAMESPACE = 'c8a4b7e2-52d1-4f3e-9b6a-7d0e1f2a3b4c';

/** The ids of a deal's steps: name-based, so the same deal always gets the same ids. */
const stepIdOf = (name: string) => nameBasedUuid(name, OPERATION_NAMESPACE);

/** The id of one step of a deal on an account: the same deal always gets the same ids. */
export function dealOperationId(dealId: string, step: DealStep): string {
  return operationIdOf(stepIdOf, dealId, step);
}

// A deal opened by a placement or a failed deal's rematch earns for the broker in office.
const dealCommands = withBrokersInOffice(routeCommands(accountCommands, marketCommands));
const placementCommands = withBrokersInOffice(routeCommands(marketCommands, traderOrdersCommands));
const blockedUserOrdersCommands = routeCommands(marketCommands);
const orderPaymentCommands = routeCommands(accountCommands, customerOrdersCommands);

export function dealSettlement(env: SettlementEnvironment): EventHandler {
  return workflowReactor(env, dealSettlementWorkflow({ idOf: stepIdOf, accountIdOf }), {
    route: dealCommands,
    // The terms of a deal never change, so a cached market that has the deal will do; one that
    // does not may have been cached before the deal opened.
    state: { decider: market, reread: 'when-nothing-decided' },
  });
}

/** Finishes placements that were recorded in a trader's stream but never reached the market (a crash in between). */
export function orderPlacement(env: SettlementEnvironment): EventHandler {
  const { marketOrdersMs } = env.retention ?? defaultRetention;
  return workflowReactor(env, orderPlacementWorkflow({ marketOrderMemoryMs: marketOrdersMs }), {
    route: placementCommands,
    // A cached market that holds the order proves it placed (nearly always: the request placed
    // it), so nothing is queued behind the item's placements; one that does not only costs the
    // placement, which the market decides on its state as it is.
    state: { decider: market },
  });
}

export function orderPayment(env: SettlementEnvironment): EventHandler {
  return workflowReactor(env, orderPaymentWorkflow(accountIdOf), { route: orderPaymentCommands });
}

/** Cancels the pending orders a blocked user had (command-handlers/admin.ts `blockUser`). */
export function blockedUserOrders(env: SettlementEnvironment): EventHandler {
  return workflowReactor(env, blockedUserOrdersWorkflow, { route: blockedUserOrdersCommands });
}
