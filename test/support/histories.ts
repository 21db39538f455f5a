/**
 * Random command sources for every decider, for property tests over random histories.
 * Each `next(state)` gives a command that makes sense against the state (it may still be
 * refused: the property tests skip refusals when building a history). Time only moves
 * forward, by seconds to hours, so that the aggregates' memories rotate and forget; and
 * a good share of commands repeat an earlier one (a retried request, a redelivered step,
 * a racing placement), remembered or forgotten by now.
 */
import type { AccountCommand, AccountState } from '../../domain/billing/account.js';
import type { Decider, DomainEvent } from '../../domain/decider.js';
import type { Role } from '../../domain/identity/events.js';
import type { UserCommand, UserState } from '../../domain/identity/user.js';
import type { OperationMemory } from '../../domain/operation-memory.js';
import type { CustomerOrdersCommand, CustomerOrdersState } from '../../domain/ordering/customer-orders.js';
import type { Side } from '../../domain/trading/events.js';
import type { MarketCommand, MarketState } from '../../domain/trading/market.js';
import type { TraderOrdersCommand, TraderOrdersState } from '../../domain/trading/trader-orders.js';
import type { Random } from './random.js';

export interface CommandSource<State, Command> {
  next(state: State): Command;
}

/** A decider with its snapshot codec, and how to make random commands for it. */
export interface Model<State, Command, Event extends DomainEvent> {
  name: string;
  decider: Decider<State, Command, Event>;
  source(rnd: Random): CommandSource<State, Command>;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A clock that moves forward by a random step: seconds, minutes or hours. */
class Clock {
  private ms = Date.parse('2026-11-21T10:00:00.000Z');
  constructor(private readonly rnd: Random) {}
  tick(): number {
    const unit = this.rnd.pick([0, SECOND, SECOND, MINUTE, MINUTE, HOUR]);
    this.ms += unit === 0 ? this.rnd.int(0, 999) : this.rnd.int(1, unit === HOUR ? 6 : 59) * unit;
    return this.ms;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** How long a request is remembered: not at all (no idempotency key), a while, a day — or not said (an old event). */
function requestMemory(rnd: Random, at: number): string | undefined {
  const ms = rnd.pick([0, 0, MINUTE, 30 * MINUTE, HOUR, 24 * HOUR, -1]);
  return ms < 0 ? undefined : iso(at + ms);
}

export function accountSource(rnd: Random): CommandSource<AccountState, AccountCommand> {
  const clock = new Clock(rnd);
  const past: AccountCommand[] = [];
  /** Where the process managers have got to in the log, and their floors. */
  let position = 0;
  const floors: Record<string, number> = { 'deal-settlement': -1, 'order-payment': -1 };
  let ids = 0;
  const memoryOf = (at: number): OperationMemory | undefined => {
    if (rnd.chance(0.5)) {
      const until = requestMemory(rnd, at);
      return until === undefined ? undefined : { until };
    }
    const process = rnd.pick(Object.keys(floors));
    if (rnd.chance(0.3)) floors[process] = Math.max(floors[process]!, position - rnd.int(5, 120));
    // A slower partition may report an older floor; a step is caused by an event a little before now.
    const floor = rnd.chance(0.2) ? floors[process]! - rnd.int(1, 50) : floors[process]!;
    return { process, cause: position - rnd.int(0, 40), floor };
  };
  return {
    next(state) {
      const at = clock.tick();
      position += rnd.int(1, 15);
      if (!state.open || rnd.chance(0.02)) {
        const userId = rnd.chance(0.9) ? 'u1' : 'intruder';
        return { type: 'OpenAccount', accountId: 'acc-u1', userId, at: iso(at) };
      }
      if (past.length > 0 && rnd.chance(0.3)) {
        // The same operation again: a retried request, or a redelivered step with the process manager's floor of now.
        const again = rnd.pick(past);
        if (again.type === 'OpenAccount') return { ...again, at: iso(at) };
        const memory =
          again.memory && 'process' in again.memory
            ? { ...again.memory, floor: Math.max(again.memory.floor, floors[again.memory.process]!) }
            : again.memory;
        return { ...again, ...(memory ? { memory } : {}), at: iso(at) };
      }
      const operationId = `op-${ids++}`;
      const amount = rnd.int(1, 5_000);
      const memory = memoryOf(at);
      const base = { operationId, amount, ...(memory ? { memory } : {}), at: iso(at) };
      const dealId = `deal-${rnd.int(0, 30)}`;
      const command: AccountCommand = rnd.pick<() => AccountCommand>([
        () => ({ type: 'DepositMoney', ...base }),
        () => ({ type: 'WithdrawMoney', ...base }),
        () => ({
          type: 'PayFromAccount',
          ...base,
          purpose: rnd.chance(0.5)
            ? { kind: 'order', orderId: operationId }
            : { kind: 'deal', dealId, itemId: 'i', itemName: 'sword', commission: 10 },
        }),
        () => ({
          type: 'ReceiveAccrual',
          ...base,
          purpose: { dealId, itemId: 'i', itemName: 'sword', commission: 10 },
        }),
        () => ({
          type: 'ReceiveCommission',
          ...base,
          source: {
            fromUserId: 'b',
            kind: rnd.pick(['payment', 'accrual'] as const),
            operationId: `pay-${operationId}`,
            dealId,
          },
        }),
      ])();
      past.push(command);
      return command;
    },
  };
}

export function marketSource(rnd: Random): CommandSource<MarketState, MarketCommand> {
  const clock = new Clock(rnd);
  const traders = ['broker', 't1', 't2', 't3'];
  const prices = [800, 900, 1000, 1100, 1200];
  const placements: Array<Extract<MarketCommand, { type: 'PlacePurchaseOrder' | 'PlaceSellOrder' }>> = [];
  const dealIds: string[] = [];
  let ids = 0;
  const orderIds = (state: MarketState) => [...state.active.keys(), ...placements.map((p) => p.orderId)];
  return {
    next(state) {
      const at = clock.tick();
      if (!state.listed || rnd.chance(0.01)) {
        return {
          type: 'ListItem',
          itemId: 'item',
          name: 'sword',
          initialCount: rnd.int(0, 4),
          initialPrice: rnd.pick(prices),
          commissionBasisPoints: rnd.pick([0, 250, 1000]),
          brokerId: 'broker',
          at: iso(at),
        };
      }
      const openDeal = () =>
        state.deals.size > 0 && rnd.chance(0.85)
          ? rnd.pick([...state.deals.keys()])
          : dealIds.length > 0
            ? rnd.pick(dealIds)
            : 'no-deal';
      const roll = rnd.next();
      if (roll < 0.15 && placements.length > 0) {
        // A placement again (a racing copy, a redelivered submission), with the memory it was made with.
        return { ...rnd.pick(placements), at: iso(at) };
      }
      if (roll < 0.55) {
        const orderId = `item.o${ids++}`;
        const dealId = `d${ids}`;
        dealIds.push(dealId);
        const memory = rnd.pick([0, MINUTE, 10 * MINUTE, HOUR, -1]);
        const rememberUntil = memory < 0 ? {} : { rememberUntil: iso(at + memory) };
        const trader = rnd.pick(traders);
        const price = rnd.pick(prices);
        const placement = rnd.chance(0.5)
          ? ({
              type: 'PlacePurchaseOrder',
              orderId,
              buyerId: trader,
              price,
              dealId,
              ...rememberUntil,
              at: iso(at),
            } as const)
          : ({
              type: 'PlaceSellOrder',
              orderId,
              sellerId: trader,
              price,
              dealId,
              ...rememberUntil,
              at: iso(at),
            } as const);
        placements.push(placement);
        return placement;
      }
      if (roll < 0.7) {
        const candidates = orderIds(state);
        const orderId = candidates.length > 0 && rnd.chance(0.9) ? rnd.pick(candidates) : 'item.unknown';
        const order = state.active.get(orderId) ?? state.closed.get(orderId);
        const side: Side = order && rnd.chance(0.9) ? order.side : rnd.pick(['purchase', 'sell'] as const);
        const requesterId = order && rnd.chance(0.85) ? order.ownerId : rnd.pick(traders);
        return { type: 'CancelOrder', orderId, side, requesterId, at: iso(at) };
      }
      if (roll < 0.82) return { type: 'MarkDealPaid', dealId: openDeal(), at: iso(at) };
      if (roll < 0.9)
        return {
          type: 'FailDeal',
          dealId: openDeal(),
          reason: 'insufficient_funds',
          rematchDealId: `rematch-${ids++}`,
          at: iso(at),
        };
      return { type: 'CompleteDeal', dealId: openDeal(), at: iso(at) };
    },
  };
}

export function userSource(rnd: Random): CommandSource<UserState, UserCommand> {
  const clock = new Clock(rnd);
  const logouts: Array<Extract<UserCommand, { type: 'LogOut' }>> = [];
  const names = ['Ann', 'Bob', 'Cy'];
  let tokens = 0;
  return {
    next(state) {
      const at = clock.tick();
      if (!state.registered || rnd.chance(0.02)) {
        return {
          type: 'RegisterUser',
          userId: 'u1',
          email: 'u1@market.test',
          passwordHash: `h${at}`,
          role: 'trader',
          firstName: 'Ann',
          lastName: 'Lee',
          phone: null,
          at: iso(at),
        };
      }
      const roll = rnd.next();
      if (roll < 0.15)
        return {
          type: 'UpdateProfile',
          firstName: rnd.pick(names),
          lastName: rnd.pick(names),
          phone: rnd.chance(0.5) ? null : '+100',
          at: iso(at),
        };
      if (roll < 0.2) return { type: 'ChangePassword', passwordHash: `h${at}`, at: iso(at) };
      if (roll < 0.3) return { type: 'ChangeRole', role: rnd.pick<Role>(['trader', 'broker', 'admin']), at: iso(at) };
      if (roll < 0.5 && logouts.length > 0) return { ...rnd.pick(logouts), at: iso(at) };
      const logout = {
        type: 'LogOut',
        tokenId: `tok-${tokens++}`,
        tokenExpiresAt: iso(at + rnd.pick([MINUTE, 15 * MINUTE, HOUR, 2 * HOUR])),
        at: iso(at),
      } as const;
      logouts.push(logout);
      return logout;
    },
  };
}

export function traderOrdersSource(rnd: Random): CommandSource<TraderOrdersState, TraderOrdersCommand> {
  const clock = new Clock(rnd);
  const submitted: Array<Extract<TraderOrdersCommand, { type: 'SubmitOrder' }>> = [];
  let ids = 0;
  return {
    next() {
      const at = clock.tick();
      const roll = rnd.next();
      if (roll < 0.2 && submitted.length > 0) return { ...rnd.pick(submitted), at: iso(at) };
      if (roll < 0.4) {
        const orderId = submitted.length > 0 && rnd.chance(0.9) ? rnd.pick(submitted).orderId : 'never';
        return { type: 'RejectOrder', userId: 't1', orderId, reason: 'no trading items for sale', at: iso(at) };
      }
      const until = requestMemory(rnd, at);
      const submit = {
        type: 'SubmitOrder',
        userId: 't1',
        orderId: `o${ids++}`,
        side: rnd.pick(['purchase', 'sell'] as const),
        itemId: rnd.pick(['i1', 'i2']),
        price: rnd.int(1, 9_999),
        ...(until === undefined ? {} : { rememberUntil: until }),
        at: iso(at),
      } as const;
      submitted.push(submit);
      return submit;
    },
  };
}

export function customerOrdersSource(rnd: Random): CommandSource<CustomerOrdersState, CustomerOrdersCommand> {
  const clock = new Clock(rnd);
  const created: Array<Extract<CustomerOrdersCommand, { type: 'CreateOrder' }>> = [];
  let ids = 0;
  return {
    next() {
      const at = clock.tick();
      const roll = rnd.next();
      if (roll < 0.2 && created.length > 0) return { ...rnd.pick(created), at: iso(at) };
      if (roll < 0.55 && created.length > 0) {
        const orderId = rnd.pick(created).orderId;
        return rnd.chance(0.5)
          ? { type: 'MarkOrderPaid', userId: 'u1', orderId, at: iso(at) }
          : { type: 'MarkOrderUnpaid', userId: 'u1', orderId, reason: 'insufficient_funds', at: iso(at) };
      }
      const until = requestMemory(rnd, at);
      const create = {
        type: 'CreateOrder',
        userId: 'u1',
        orderId: `o${ids++}`,
        price: rnd.int(1, 9_999),
        ...(until === undefined ? {} : { rememberUntil: until }),
        at: iso(at),
      } as const;
      created.push(create);
      return create;
    },
  };
}
