/**
 * The market of one item: who holds its units, its order book, and its deals in progress.
 * Everything that can change which unit is where (placing, matching, canceling, settling)
 * is decided here, against this one stream, so a unit can never be in two deals or sold
 * twice: two commands that would both take it are decided one after the other, and an
 * append from a stale state is refused by the expected revision.
 *
 * Matching happens when an order is placed: a purchase at P takes the cheapest resting
 * sell order at or below P (oldest first) not owned by the buyer; a sell at A takes the
 * highest resting purchase at or above A (oldest first) not owned by the seller. The
 * resting order sets the terms. The state uses persistent collections (immutable.js, and
 * `WindowMap` for what is only remembered for a while): each event changes a few entries
 * without copying a book of thousands of orders.
 *
 * A market remembers only what can still come back: its active orders and open deals, and
 * each order it closed or refused until that order's `rememberUntil` (its submission time
 * plus the order memory the command handler is configured with) — long enough for a racing
 * copy of the placement or a redelivered submission. A placement that comes back later than
 * that is refused as expired instead of being placed a second time.
 */
import { List, Map as IMap } from 'immutable';
import { BusinessRuleViolation, type Decider } from '../decider.js';
import { WindowMap } from '../window-map.js';
import { commissionOf, type Cents } from '../money.js';
import { messages } from '../messages.js';
import { LEGACY_MEMORY_MS } from '../operation-memory.js';
import { msOf } from '../time.js';
import { marketSnapshot } from './market-snapshot.js';
import type { FailureReason } from '../billing/events.js';
import { initialSellOrderId, type DealTerms, type MarketEvent, type OrderStatus, type Side } from './events.js';

export interface ActiveOrder {
  orderId: string;
  side: Side;
  ownerId: string;
  price: Cents;
  commission: Cents;
  /** Placement order within this market: earlier is older (time priority). */
  seq: number;
  status: OrderStatus;
  /** The status its placement answered with: `pending`, or the deal status when it matched at once. */
  placedAs: OrderStatus;
  dealId: string | null;
  createdAt: string;
  /** Until when (ms since the epoch) a repeat of its placement can arrive. */
  rememberUntil: number;
}

/** What is kept of an order once it is done (approved, failed or canceled). */
export interface ClosedOrder {
  orderId: string;
  ownerId: string;
  side: Side;
  status: OrderStatus;
  placedAs: OrderStatus;
  price: Cents;
  commission: Cents;
  createdAt: string;
  closedAt: string;
}

export interface Holding {
  owned: number;
  /** Units under a sell order (resting or in a deal). */
  onSale: number;
}

export interface OpenDeal extends DealTerms {
  paid: boolean;
}

export interface MarketState {
  listed: boolean;
  itemId: string;
  name: string;
  commissionBasisPoints: number;
  brokerId: string;
  nextSeq: number;
  active: IMap<string, ActiveOrder>;
  /** Resting sell orders by price, each level in time order. */
  asks: IMap<Cents, List<string>>;
  /** Resting purchase orders by price, each level in time order. */
  bids: IMap<Cents, List<string>>;
  holdings: IMap<string, Holding>;
  deals: IMap<string, OpenDeal>;
  /** Orders done with, kept for a retried placement's answer until their `rememberUntil` (then a cancel is answered from the read model). */
  closed: WindowMap<string, ClosedOrder>;
  /** Orders turned down, with the reason: offering one again changes nothing, until its `rememberUntil`. */
  refused: WindowMap<string, string>;
  /** The latest time (ms) at which closed or refused orders were let go: a placement remembered only until before it may have been forgotten. */
  forgottenBefore: number;
  /**
   * The order placed by the latest event, if that was a placement. A placement that
   * matches appends its `DealOpened` right after its own placed event, so a deal opened
   * on this order is the order's answer to its placement (see `placedAs`).
   */
  justPlaced: string | null;
}

export type MarketCommand =
  | {
      type: 'ListItem';
      itemId: string;
      name: string;
      initialCount: number;
      initialPrice: Cents;
      commissionBasisPoints: number;
      brokerId: string;
      at: string;
    }
  /** `rememberUntil`: until when (ISO time) a repeat of this placement can arrive, later refused as expired (absent: a day after `at`). */
  | {
      type: 'PlacePurchaseOrder';
      orderId: string;
      buyerId: string;
      price: Cents;
      dealId: string;
      rememberUntil?: string;
      /** The broker in office (domain/identity/broker-appointment.ts): a deal this opens earns for them; absent: the item's lister. */
      brokerId?: string;
      at: string;
    }
  | {
      type: 'PlaceSellOrder';
      orderId: string;
      sellerId: string;
      price: Cents;
      dealId: string;
      rememberUntil?: string;
      /** The broker in office (domain/identity/broker-appointment.ts): a deal this opens earns for them; absent: the item's lister. */
      brokerId?: string;
      at: string;
    }
  | { type: 'CancelOrder'; orderId: string; side: Side; requesterId: string; at: string }
  | { type: 'MarkDealPaid'; dealId: string; at: string }
  /** `rematchDealId` names the deal opened if the sell order, back in the book, now crosses a resting bid. */
  | { type: 'FailDeal'; dealId: string; reason: FailureReason; rematchDealId: string; brokerId?: string; at: string }
  | { type: 'CompleteDeal'; dealId: string; at: string };

/** A market command and its item (its stream's key: only listing names it in the market's own commands). */
export type MarketRequest = MarketCommand & { itemId: string };

function initialState(): MarketState {
  return {
    listed: false,
    itemId: '',
    name: '',
    commissionBasisPoints: 0,
    brokerId: '',
    nextSeq: 0,
    active: IMap(),
    asks: IMap(),
    bids: IMap(),
    holdings: IMap(),
    deals: IMap(),
    closed: WindowMap.empty(),
    refused: WindowMap.empty(),
    forgottenBefore: Number.NEGATIVE_INFINITY,
    justPlaced: null,
  };
}

function refuse(code: string, message: string): never {
  throw new BusinessRuleViolation(code, message);
}

type CommandOf<T extends MarketCommand['type']> = Extract<MarketCommand, { type: T }>;
type EventDataOf<T extends MarketEvent['type']> = Extract<MarketEvent, { type: T }>['data'];

function decide(command: MarketCommand, state: MarketState): MarketEvent[] {
  if (command.type === 'ListItem') {
    if (state.listed) return [];
    const { type: _type, ...data } = command;
    return [{ type: 'ItemListed', data }];
  }
  if (!state.listed) refuse('item_not_found', messages.itemDoesNotExist);
  switch (command.type) {
    case 'PlacePurchaseOrder':
      return decidePurchase(state, command);
    case 'PlaceSellOrder':
      return decideSell(state, command);
    case 'CancelOrder':
      return decideCancel(state, command);
    case 'MarkDealPaid': {
      const deal = state.deals.get(command.dealId);
      if (!deal || deal.paid) return [];
      const { dealId, purchaseOrderId, sellOrderId } = deal;
      return [
        { type: 'DealPaid', data: { itemId: state.itemId, dealId, purchaseOrderId, sellOrderId, at: command.at } },
      ];
    }
    case 'FailDeal':
      return decideFailDeal(state, command);
    case 'CompleteDeal': {
      const deal = state.deals.get(command.dealId);
      if (!deal) return [];
      if (!deal.paid) refuse('deal_not_paid', messages.dealNotPaid);
      const { paid: _paid, ...terms } = deal;
      return [{ type: 'DealCompleted', data: { ...terms, at: command.at } }];
    }
  }
}

/** A purchase order enters the book, and takes the best resting sell order it crosses, if any. */
function decidePurchase(state: MarketState, command: CommandOf<'PlacePurchaseOrder'>): MarketEvent[] {
  if (isKnown(state, command.orderId)) return [];
  refuseIfExpired(state, command);
  const commission = commissionOf(command.price, state.commissionBasisPoints);
  const { orderId, buyerId, price, at } = command;
  const placed: MarketEvent = {
    type: 'PurchaseOrderPlaced',
    data: { itemId: state.itemId, orderId, buyerId, price, commission, ...memoryOf(command), at },
  };
  const ask = bestAsk(state, command.price, command.buyerId);
  if (!ask) return [placed];
  return [placed, dealOpened(state, command, { purchaseOrderId: command.orderId, buyerId: command.buyerId }, ask)];
}

/** A sell order of a unit the seller holds and has not put on sale yet enters the book, and takes the best resting bid it crosses, if any. */
function decideSell(state: MarketState, command: CommandOf<'PlaceSellOrder'>): MarketEvent[] {
  if (isKnown(state, command.orderId)) return [];
  refuseIfExpired(state, command);
  const { orderId, sellerId, price, at } = command;
  const itemId = state.itemId;
  const holding = state.holdings.get(sellerId);
  if (!holding || holding.owned - holding.onSale < 1) {
    const reason = messages.noItemsForSale;
    return [
      {
        type: 'OrderRefused',
        data: { itemId, orderId, side: 'sell', ownerId: sellerId, reason, ...memoryOf(command), at },
      },
    ];
  }
  const commission = commissionOf(price, state.commissionBasisPoints);
  const placed: MarketEvent = {
    type: 'SellOrderPlaced',
    data: { itemId, orderId, sellerId, price, commission, ...memoryOf(command), at },
  };
  const bid = bestBid(state, command.price, command.sellerId);
  if (!bid) return [placed];
  return [placed, dealOpened(state, command, { sellOrderId: command.orderId, sellerId: command.sellerId }, bid)];
}

function decideFailDeal(state: MarketState, command: CommandOf<'FailDeal'>): MarketEvent[] {
  const deal = state.deals.get(command.dealId);
  if (!deal || deal.paid) return [];
  const { dealId, itemName, purchaseOrderId, sellOrderId, buyerId, price } = deal;
  const failed: MarketEvent = {
    type: 'DealFailed',
    data: {
      itemId: state.itemId,
      itemName,
      dealId,
      purchaseOrderId,
      sellOrderId,
      buyerId,
      price,
      reason: command.reason,
      at: command.at,
    },
  };
  // The sell order rests again; a bid that arrived meanwhile and crosses it takes it now,
  // on the terms of the sell order (it has rested in the book longer).
  const after = evolve(state, failed);
  const ask = after.active.get(sellOrderId);
  const bid = ask && bestBid(after, ask.price, ask.ownerId);
  if (!ask || !bid) return [failed];
  return [
    failed,
    dealOpened(
      after,
      { ...command, dealId: command.rematchDealId },
      { purchaseOrderId: bid.orderId, buyerId: bid.ownerId },
      ask,
    ),
  ];
}

function decideCancel(state: MarketState, command: CommandOf<'CancelOrder'>): MarketEvent[] {
  const order = state.active.get(command.orderId);
  const closed = state.closed.get(command.orderId);
  const known = order ?? closed;
  if (!known || known.side !== command.side) refuse('order_not_found', messages.notFound);
  if (known.ownerId !== command.requesterId) refuse('operation_denied', messages.operationDenied);
  // Canceling is naturally idempotent: a second cancel of a canceled order changes nothing.
  if (closed) return closed.status === 'canceled' ? [] : refuse('cannot_cancel', messages.cannotCancel);
  if (order!.status !== 'pending') refuse('cannot_cancel', messages.cannotCancel);
  return [
    {
      type: 'OrderCanceled',
      data: {
        itemId: state.itemId,
        orderId: command.orderId,
        side: command.side,
        ownerId: command.requesterId,
        at: command.at,
      },
    },
  ];
}

/**
 * Canceling an order this market no longer remembers (it closed long ago), answered from
 * what the read models kept of it: the same answers as for one it remembers — a second
 * cancel of a canceled order changes nothing, any other is past canceling.
 */
export function cancelOfPastOrder(
  order: { ownerId: string; side: Side; status: string } | null,
  command: Extract<MarketCommand, { type: 'CancelOrder' }>,
): void {
  if (!order || order.side !== command.side) refuse('order_not_found', messages.notFound);
  if (order.ownerId !== command.requesterId) refuse('operation_denied', messages.operationDenied);
  if (order.status !== 'canceled') refuse('cannot_cancel', messages.cannotCancel);
}

function isKnown(state: MarketState, orderId: string): boolean {
  return state.active.has(orderId) || state.closed.has(orderId) || state.refused.has(orderId);
}

/**
 * An order this market does not know, whose placement could have been made and forgotten
 * already (its memory ended before the market's latest event): placing it now could place
 * it twice, so it is refused. Never the case for a placement made while its memory lasts.
 */
function refuseIfExpired(state: MarketState, placement: { rememberUntil?: string; at: string }): void {
  if (rememberUntilOf(placement) < state.forgottenBefore) refuse('order_expired', messages.orderExpired);
}

/** The memory goes into the event only when the command gave one, so an event states what its command said. */
function memoryOf(command: { rememberUntil?: string }): { rememberUntil?: string } {
  return command.rememberUntil ? { rememberUntil: command.rememberUntil } : {};
}

/** The cheapest resting sell order at or below `limit`, oldest first, not the buyer's own. */
function bestAsk(state: MarketState, limit: Cents, buyerId: string): ActiveOrder | null {
  const prices = state.asks
    .keySeq()
    .filter((p) => p <= limit)
    .sort((a, b) => a - b);
  return firstOfOthers(state, state.asks, prices, buyerId);
}

/** The highest resting purchase order at or above `limit`, oldest first, not the seller's own. */
function bestBid(state: MarketState, limit: Cents, sellerId: string): ActiveOrder | null {
  const prices = state.bids
    .keySeq()
    .filter((p) => p >= limit)
    .sort((a, b) => b - a);
  return firstOfOthers(state, state.bids, prices, sellerId);
}

function firstOfOthers(
  state: MarketState,
  book: IMap<Cents, List<string>>,
  prices: Iterable<Cents>,
  excluded: string,
): ActiveOrder | null {
  for (const price of prices) {
    for (const orderId of book.get(price) ?? List<string>()) {
      const order = state.active.get(orderId)!;
      if (order.ownerId !== excluded) return order;
    }
  }
  return null;
}

/**
 * A deal between the incoming order and a resting one. Its broker, who earns its commissions,
 * is the broker in office the command names (the one appointed since the item was listed),
 * else the item's lister; fixed with the deal, so its settlement pays one broker however often
 * it is redelivered.
 */
function dealOpened(
  state: MarketState,
  { dealId, brokerId = state.brokerId, at }: { dealId: string; brokerId?: string; at: string },
  incoming: { purchaseOrderId: string; buyerId: string } | { sellOrderId: string; sellerId: string },
  resting: ActiveOrder,
): MarketEvent {
  const sides =
    'purchaseOrderId' in incoming
      ? { ...incoming, sellOrderId: resting.orderId, sellerId: resting.ownerId }
      : { ...incoming, purchaseOrderId: resting.orderId, buyerId: resting.ownerId };
  return {
    type: 'DealOpened',
    data: {
      dealId,
      itemId: state.itemId,
      itemName: state.name,
      ...sides,
      brokerId,
      price: resting.price,
      buyerCommission: resting.commission,
      // The broker pays no commission to itself (a retired broker selling pays it like anyone).
      sellerCommission: sides.sellerId === brokerId ? 0 : resting.commission,
      at,
    },
  };
}

function evolve(state: MarketState, event: MarketEvent): MarketState {
  const next = forget(apply(state, event), msOf(event.data.at));
  const justPlaced =
    event.type === 'PurchaseOrderPlaced' || event.type === 'SellOrderPlaced' ? event.data.orderId : null;
  return next.justPlaced === justPlaced ? next : { ...next, justPlaced };
}

/** Lets go of closed and refused orders whose memory ended before `at` (most events let go of nothing, and change nothing here). */
function forget(state: MarketState, at: number): MarketState {
  const closed = state.closed.forgetBefore(at);
  const refused = state.refused.forgetBefore(at);
  if (closed === state.closed && refused === state.refused) return state;
  return { ...state, closed, refused, forgottenBefore: Math.max(state.forgottenBefore, at) };
}

/** Until when (ms) a placement is remembered; events written before placements said so: a day after they happened. */
function rememberUntilOf(data: { rememberUntil?: string; at: string }): number {
  return data.rememberUntil ? msOf(data.rememberUntil) : msOf(data.at) + LEGACY_MEMORY_MS;
}

function apply(state: MarketState, event: MarketEvent): MarketState {
  switch (event.type) {
    case 'ItemListed':
      return listed(state, event.data);
    case 'PurchaseOrderPlaced': {
      const order = placedOrder(state, 'purchase', event.data.buyerId, event.data);
      return rest({ ...state, nextSeq: state.nextSeq + 1, active: state.active.set(order.orderId, order) }, order);
    }
    case 'SellOrderPlaced': {
      const { orderId, sellerId } = event.data;
      const order = placedOrder(state, 'sell', sellerId, event.data);
      const holdings = state.holdings.update(sellerId, (h) => ({ owned: h?.owned ?? 0, onSale: (h?.onSale ?? 0) + 1 }));
      return rest({ ...state, nextSeq: state.nextSeq + 1, active: state.active.set(orderId, order), holdings }, order);
    }
    case 'DealOpened': {
      const { dealId, purchaseOrderId, sellOrderId } = event.data;
      const { at: _at, ...terms } = event.data;
      let next = unrest(unrest(state, purchaseOrderId), sellOrderId);
      next = withStatus(next, purchaseOrderId, 'paymentPending', dealId, state.justPlaced === purchaseOrderId);
      next = withStatus(next, sellOrderId, 'dealPending', dealId, state.justPlaced === sellOrderId);
      return { ...next, deals: next.deals.set(dealId, { ...terms, paid: false }) };
    }
    case 'DealPaid': {
      const { dealId, purchaseOrderId, sellOrderId } = event.data;
      let next = withStatus(state, purchaseOrderId, 'paymentSucceeded', dealId);
      next = withStatus(next, sellOrderId, 'accrualPending', dealId);
      return { ...next, deals: next.deals.update(dealId, (d) => d && { ...d, paid: true }) };
    }
    case 'DealFailed': {
      const { dealId, purchaseOrderId, sellOrderId } = event.data;
      const next = close(state, purchaseOrderId, 'paymentFailed', event.data.at);
      const sell = next.active.get(sellOrderId);
      const back = sell
        ? rest(withStatus(next, sellOrderId, 'pending', null), { ...sell, status: 'pending', dealId: null })
        : next;
      return { ...back, deals: back.deals.delete(dealId) };
    }
    case 'DealCompleted':
      return dealCompleted(state, event.data);
    case 'OrderRefused':
      return {
        ...state,
        refused: state.refused.add(event.data.orderId, event.data.reason, rememberUntilOf(event.data)),
      };
    case 'OrderCanceled': {
      const { orderId, side, ownerId } = event.data;
      const next = close(unrest(state, orderId), orderId, 'canceled', event.data.at);
      if (side !== 'sell') return next;
      return {
        ...next,
        holdings: next.holdings.update(ownerId, (h) => ({ owned: h?.owned ?? 0, onSale: (h?.onSale ?? 1) - 1 })),
      };
    }
  }
}

/** The item is listed: the broker holds its initial units, each on sale at the initial price. */
function listed(state: MarketState, data: EventDataOf<'ItemListed'>): MarketState {
  const { itemId, name, initialCount, initialPrice, commissionBasisPoints, brokerId, at } = data;
  const commission = commissionOf(initialPrice, commissionBasisPoints);
  const ids = Array.from({ length: initialCount }, (_, unit) => initialSellOrderId(itemId, unit));
  // Nobody places the broker's initial units again: nothing to remember once they are sold.
  const rememberUntil = msOf(at);
  const active = IMap<string, ActiveOrder>().withMutations((orders) => {
    ids.forEach((orderId, seq) => {
      orders.set(orderId, {
        orderId,
        side: 'sell',
        ownerId: brokerId,
        price: initialPrice,
        commission,
        seq,
        status: 'pending',
        placedAs: 'pending',
        dealId: null,
        createdAt: at,
        rememberUntil,
      });
    });
  });
  return {
    ...state,
    listed: true,
    itemId,
    name,
    commissionBasisPoints,
    brokerId,
    nextSeq: initialCount,
    active,
    asks: initialCount > 0 ? IMap([[initialPrice, List(ids)]]) : IMap(),
    holdings: IMap([[brokerId, { owned: initialCount, onSale: initialCount }]]),
  };
}

/** Both orders are approved, and the unit passes from the seller to the buyer. */
function dealCompleted(state: MarketState, data: EventDataOf<'DealCompleted'>): MarketState {
  const { dealId, purchaseOrderId, sellOrderId, buyerId, sellerId } = data;
  const next = close(close(state, purchaseOrderId, 'approved', data.at), sellOrderId, 'approved', data.at);
  const sold = next.holdings.update(sellerId, (h) => ({
    owned: (h?.owned ?? 1) - 1,
    onSale: (h?.onSale ?? 1) - 1,
  }));
  const holdings = withoutEmpty(sold, sellerId).update(buyerId, (h) => ({
    owned: (h?.owned ?? 0) + 1,
    onSale: h?.onSale ?? 0,
  }));
  return { ...next, holdings, deals: next.deals.delete(dealId) };
}

/** An order as its placement puts it in the book: pending, after every order placed before it. */
function placedOrder(
  state: MarketState,
  side: Side,
  ownerId: string,
  placed: { orderId: string; price: Cents; commission: Cents; rememberUntil?: string; at: string },
): ActiveOrder {
  const { orderId, price, commission, at } = placed;
  const rememberUntil = rememberUntilOf(placed);
  return {
    orderId,
    side,
    ownerId,
    price,
    commission,
    seq: state.nextSeq,
    status: 'pending',
    placedAs: 'pending',
    dealId: null,
    createdAt: at,
    rememberUntil,
  };
}

/** A trader who holds no unit of the item any more is not kept in its holdings. */
function withoutEmpty(holdings: IMap<string, Holding>, userId: string): IMap<string, Holding> {
  const holding = holdings.get(userId);
  return holding && holding.owned === 0 && holding.onSale === 0 ? holdings.delete(userId) : holdings;
}

/** Puts a pending order in its side of the book, at its place in time order within its price. */
function rest(state: MarketState, order: ActiveOrder): MarketState {
  const key = order.side === 'sell' ? 'asks' : 'bids';
  const level = state[key].get(order.price) ?? List<string>();
  let at = level.size;
  while (at > 0 && state.active.get(level.get(at - 1)!)!.seq > order.seq) at -= 1;
  return { ...state, [key]: state[key].set(order.price, level.insert(at, order.orderId)) };
}

/** Takes an order out of the book (it is in a deal, canceled or gone). */
function unrest(state: MarketState, orderId: string): MarketState {
  const order = state.active.get(orderId);
  if (!order) return state;
  const key = order.side === 'sell' ? 'asks' : 'bids';
  const level = state[key].get(order.price);
  if (!level) return state;
  const index = level.indexOf(orderId);
  if (index < 0) return state;
  const remaining = level.delete(index);
  return {
    ...state,
    [key]: remaining.size > 0 ? state[key].set(order.price, remaining) : state[key].delete(order.price),
  };
}

function withStatus(
  state: MarketState,
  orderId: string,
  status: OrderStatus,
  dealId: string | null,
  isPlacementAnswer = false,
): MarketState {
  const order = state.active.get(orderId);
  if (!order) return state;
  const placedAs = isPlacementAnswer ? status : order.placedAs;
  return { ...state, active: state.active.set(orderId, { ...order, status, placedAs, dealId }) };
}

function close(state: MarketState, orderId: string, status: OrderStatus, at: string): MarketState {
  const order = state.active.get(orderId);
  if (!order) return state;
  const { orderId: id, ownerId, side, price, commission, createdAt, placedAs, rememberUntil } = order;
  const closed: ClosedOrder = {
    orderId: id,
    ownerId,
    side,
    status,
    placedAs,
    price,
    commission,
    createdAt,
    closedAt: at,
  };
  return { ...state, active: state.active.delete(orderId), closed: state.closed.add(orderId, closed, rememberUntil) };
}

/** What a trader holds of the item (nothing when they are not among its holders). */
export function holdingOf(state: MarketState, userId: string): Holding {
  return state.holdings.get(userId) ?? { owned: 0, onSale: 0 };
}

export interface OrderSnapshot {
  orderId: string;
  ownerId: string;
  side: Side;
  price: Cents;
  commission: Cents;
  status: OrderStatus;
  createdAt: string;
}

/** An order as it stands, active or closed; null when this market never had it. */
export function findOrder(state: MarketState, orderId: string): OrderSnapshot | null {
  const order = state.active.get(orderId) ?? state.closed.get(orderId);
  if (!order) return null;
  const { ownerId, side, price, commission, status, createdAt } = order;
  return { orderId, ownerId, side, price, commission, status, createdAt };
}

/**
 * The order as its placement answers it: with the status it got on entering the book,
 * whichever attempt entered it (the request itself, or the process manager that finishes
 * placements), so a retried placement answers as the first one did.
 */
export function placementOf(state: MarketState, orderId: string): OrderSnapshot | null {
  const order = state.active.get(orderId) ?? state.closed.get(orderId);
  return order ? { ...findOrder(state, orderId)!, status: order.placedAs } : null;
}

export const market: Decider<MarketState, MarketCommand, MarketEvent> = {
  initialState,
  evolve,
  decide,
  snapshot: marketSnapshot,
  weigh: (s) =>
    1_000 +
    420 * s.active.size +
    330 * s.closed.size +
    120 * s.refused.size +
    500 * s.deals.size +
    130 * s.holdings.size,
};
