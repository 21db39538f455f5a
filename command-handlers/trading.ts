/**
 * Listing items, placing and canceling orders. A placement is recorded in the trader's
 * own stream first (its revision is the If-Match ETag of their orders), then decided in
 * the item's market, where it is matched at once; a placement a crash cut short between
 * the two is finished by the order-placement process manager from that record.
 */
import { BusinessRuleViolation } from '../domain/decider.js';
import { messages } from '../domain/messages.js';
import { msOf } from '../domain/time.js';
import type { Cents } from '../domain/money.js';
import { itemOfOrder, marketStream, orderIdFor, traderOrdersStream, type Side } from '../domain/trading/events.js';
import { traderOrders } from '../domain/trading/trader-orders.js';
import {
  cancelOfPastOrder,
  findOrder,
  market,
  placementOf,
  type MarketState,
  type OrderSnapshot,
} from '../domain/trading/market.js';
import type { EventMetadata } from '../infra/eventsourcing/event-store/event-store.js';
import { comparePositions, type Position } from '../infra/eventsourcing/event-store/position.js';
import { loadStream, type CommandEnvironment } from '../infra/eventsourcing/command-handling/handle-command.js';
import { withBrokerInOffice } from './admin.js';
import { marketCommands, traderOrdersCommands } from './commands.js';
import { rememberUntil, type RetentionSetting } from './retention.js';

/** An order as the read models keep it: where a cancel finds an order its market no longer remembers. */
export interface PastOrder extends Omit<OrderSnapshot, 'orderId' | 'status'> {
  id: string;
  /** As the read model wrote it (an `OrderStatus`). */
  status: string;
  updatedAt: string;
}

export interface TradingEnvironment extends CommandEnvironment, RetentionSetting {
  now(): Date;
  /** Absent: an order its market no longer remembers is unknown (404) to a cancel. */
  pastOrders?: { find(orderId: string): Promise<PastOrder | null> };
}

export interface Listing {
  name: string;
  initialCount: number;
  initialPrice: Cents;
  commissionBasisPoints: number;
}

/** `itemId` is chosen by the caller (from the request's idempotency key when it has one): listing it twice lists it once. */
export async function listItem(
  env: TradingEnvironment,
  brokerId: string,
  itemId: string,
  listing: Listing,
  metadata?: EventMetadata,
) {
  const at = env.now().toISOString();
  const result = await marketCommands.handle(env, { type: 'ListItem', itemId, brokerId, at, ...listing }, { metadata });
  return { item: { id: itemId, ...listing, createdAt: at }, position: result.position };
}

export interface Placement {
  userId: string;
  side: Side;
  itemId: string;
  price: Cents;
  /** Makes the order id (with the item id): from the request's idempotency key, or fresh. */
  uniqueId: string;
  /** Revision of the trader's order stream the client saw (If-Match). */
  expectedRevision?: number;
  /**
   * Claims the request's key and answers when the request was first attempted (ms; a retry
   * of a keyed request learns its first attempt's time). Absent, or answering undefined: a
   * first attempt. Called only once the placement can pass its If-Match.
   */
  claimFirstAttempt?: () => Promise<number | undefined>;
}

export interface PlacedOrder {
  order: OrderSnapshot & { updatedAt: string };
  /** The trader's order stream revision after the placement: their orders' new ETag. */
  revision: number;
  position: Position | null;
}

export async function placeOrder(
  env: TradingEnvironment,
  placement: Placement,
  metadata?: EventMetadata,
): Promise<PlacedOrder> {
  const { userId, side, itemId, price } = placement;
  const orderId = orderIdFor(itemId, placement.uniqueId);
  // Refuse unknown items before anything is recorded (the market checks again). An item
  // once listed stays listed, so a cached market that has it is proof enough.
  const cached = await loadStream(env, market, marketStream(itemId), 'cached');
  const listed = cached.state.listed || (await loadStream(env, market, marketStream(itemId))).state.listed;
  if (!listed) throw new BusinessRuleViolation('item_not_found', messages.itemDoesNotExist);
  // A placement its If-Match refuses claims nothing: a claim tells every later retry that
  // this attempt may have submitted the order, and a later retry with the right If-Match
  // must be placed, not refused as expired.
  const firstAttemptAt = (await mayPassIfMatch(env, userId, orderId, placement.expectedRevision))
    ? await placement.claimFirstAttempt?.()
    : undefined;
  const now = env.now();
  const submitted = await submitOrder(env, { ...placement, orderId, now, firstAttemptAt }, metadata);
  if (!submitted) return placedLongAgo(env, userId, orderId);
  // A retried placement enters the market as of its first submission.
  const submittedAt = submitted.state.orders.get(orderId)?.at ?? now.toISOString();
  const placed = await enterMarket(env, { userId, side, itemId, price, orderId, submittedAt }, metadata);
  const order = placementOf(placed.state, orderId)!;
  return {
    order: { ...order, updatedAt: env.now().toISOString() },
    revision: submitted.revision,
    position: latest(submitted.position, placed.position),
  };
}

/**
 * Whether the trader's stream can take the placement at the revision its If-Match names:
 * it is there, or it already holds the order (a repeat, answered as placed whatever the
 * If-Match; see `traderOrders.isRepeat`). The cache first; a stream it shows elsewhere is read.
 */
async function mayPassIfMatch(
  env: TradingEnvironment,
  userId: string,
  orderId: string,
  expectedRevision: number | undefined,
): Promise<boolean> {
  if (expectedRevision === undefined) return true;
  for (const mode of ['cached', 'fresh'] as const) {
    const { state, revision } = await loadStream(env, traderOrders, traderOrdersStream(userId), mode);
    if (revision === expectedRevision || state.orders.has(orderId)) return true;
  }
  return false;
}

/** Records the placement in the trader's stream; null when it is a retry too late to tell whether it was submitted. */
async function submitOrder(
  env: TradingEnvironment,
  placement: Placement & { orderId: string; now: Date; firstAttemptAt: number | undefined },
  metadata: EventMetadata | undefined,
) {
  const { userId, orderId, side, itemId, price, now } = placement;
  // Copies of a request race each other, and a retry follows a failed attempt, within the
  // market order memory; a retry after a kept answer never gets here (it is replayed).
  const firstAttempt = placement.firstAttemptAt === undefined ? undefined : new Date(placement.firstAttemptAt);
  const command = {
    type: 'SubmitOrder' as const,
    userId,
    orderId,
    side,
    itemId,
    price,
    rememberUntil: rememberUntil(env, now, true, 'marketOrdersMs'),
    ...(firstAttempt && { firstAttemptRememberedUntil: rememberUntil(env, firstAttempt, true, 'marketOrdersMs') }),
    at: now.toISOString(),
  };
  try {
    return await traderOrdersCommands.handle(env, command, { expectedRevision: placement.expectedRevision, metadata });
  } catch (error) {
    if (error instanceof BusinessRuleViolation && error.code === 'order_expired') return null;
    throw error;
  }
}

/**
 * A retry of a placement attempted longer ago than the trader's stream remembers: its
 * market answers if it still holds the order (pending, or closed within its memory);
 * otherwise it is refused as expired (the order lists say what became of it).
 */
async function placedLongAgo(env: TradingEnvironment, userId: string, orderId: string): Promise<PlacedOrder> {
  const placed = await loadStream(env, market, marketStream(itemOfOrder(orderId)!));
  const order = placementOf(placed.state, orderId);
  if (!order || order.ownerId !== userId) throw new BusinessRuleViolation('order_expired', messages.orderExpired);
  const trader = await loadStream(env, traderOrders, traderOrdersStream(userId));
  return {
    order: { ...order, updatedAt: env.now().toISOString() },
    revision: trader.revision,
    position: latest(trader.position, placed.position),
  };
}

export interface SubmittedOrder {
  userId: string;
  side: Side;
  itemId: string;
  price: Cents;
  orderId: string;
  /** When the trader submitted it: the market recognises a repeat of it for the market order memory after that. */
  submittedAt: string;
}

/**
 * Decides a submitted order in its item's market (idempotent: an order already there is
 * left as it is, one refused stays refused). A refusal is recorded in the trader's stream
 * too, then reported.
 */
export async function enterMarket(env: TradingEnvironment, order: SubmittedOrder, metadata?: EventMetadata) {
  const { userId, side, itemId, price, orderId } = order;
  const at = env.now().toISOString();
  const memory = rememberUntil(env, msOf(order.submittedAt), true, 'marketOrdersMs');
  const command =
    side === 'purchase'
      ? {
          type: 'PlacePurchaseOrder' as const,
          itemId,
          orderId,
          buyerId: userId,
          price,
          dealId: env.newId(),
          rememberUntil: memory,
          at,
        }
      : {
          type: 'PlaceSellOrder' as const,
          itemId,
          orderId,
          sellerId: userId,
          price,
          dealId: env.newId(),
          rememberUntil: memory,
          at,
        };
  const result = await marketCommands.handle(env, await withBrokerInOffice(env, command), { metadata });
  const reason = result.state.refused.get(orderId);
  if (reason !== undefined) {
    // Turned down by the market (now or on an earlier try): say so in the trader's stream too.
    await traderOrdersCommands.handle(env, { type: 'RejectOrder', userId, orderId, reason, at }, { metadata });
    throw new BusinessRuleViolation('order_refused', reason);
  }
  return result;
}

/**
 * Cancels one of the caller's pending orders; the market says whether it is unknown (404),
 * another's (403) or past canceling (422). An order it no longer remembers closed long ago:
 * the read models answer for it.
 */
export async function cancelOrder(
  env: TradingEnvironment,
  request: { userId: string; orderId: string; side: Side },
  metadata?: EventMetadata,
) {
  const itemId = itemOfOrder(request.orderId);
  if (!itemId) throw new BusinessRuleViolation('order_not_found', messages.notFound);
  const command = {
    type: 'CancelOrder' as const,
    itemId,
    orderId: request.orderId,
    side: request.side,
    requesterId: request.userId,
    at: env.now().toISOString(),
  };
  try {
    const result = await marketCommands.handle(env, command, { metadata });
    const closed = result.state.closed.get(request.orderId);
    // Canceled now or before: the market holds it at least until this command's own events.
    const order = findOrder(result.state, request.orderId)!;
    return {
      order: { ...order, updatedAt: closed?.closedAt ?? env.now().toISOString() },
      position: result.position,
      itemId,
    };
  } catch (error) {
    if (!(error instanceof BusinessRuleViolation) || error.code !== 'order_not_found' || !env.pastOrders) throw error;
    const past = await env.pastOrders.find(request.orderId);
    cancelOfPastOrder(past, command);
    const { id, ...order } = past!;
    return { order: { ...order, orderId: id }, position: null, itemId };
  }
}

/** The market of an item; `mode` as for `loadStream`. */
export async function loadMarket(
  env: CommandEnvironment,
  itemId: string,
  mode: 'fresh' | 'cached' = 'fresh',
): Promise<MarketState> {
  return (await loadStream(env, market, marketStream(itemId), mode)).state;
}

function latest(a: Position | null, b: Position | null): Position | null {
  if (!a) return b;
  if (!b) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}
