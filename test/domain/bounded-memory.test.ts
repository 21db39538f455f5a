/**
 * What each aggregate remembers, and for how long (domain/operation-memory.ts, the
 * WindowMaps of the deciders): long enough that a repeat which can still arrive changes
 * nothing, and no longer, so that a stream's state stays bounded however long it grows.
 */
import { expect } from 'chai';
import { account, type AccountCommand, type AccountState } from '../../domain/billing/account.js';
import type { AccountEvent } from '../../domain/billing/events.js';
import { BusinessRuleViolation, type Decider, type DomainEvent } from '../../domain/decider.js';
import type { UserEvent } from '../../domain/identity/events.js';
import { user, type UserCommand, type UserState } from '../../domain/identity/user.js';
import { operationIdsSize, StepBelowFloor, stepsOf, type OperationMemory } from '../../domain/operation-memory.js';
import { customerOrderOf, customerOrders, type CustomerOrdersCommand } from '../../domain/ordering/customer-orders.js';
import { initialSellOrderId, type MarketEvent } from '../../domain/trading/events.js';
import {
  cancelOfPastOrder,
  findOrder,
  holdingOf,
  market,
  type MarketCommand,
  type MarketState,
} from '../../domain/trading/market.js';
import { traderOrders, type TraderOrdersCommand } from '../../domain/trading/trader-orders.js';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** A stream driven by commands, as the command handler drives it: decide on the state, evolve with what was decided. */
class Stream<S, C, E extends DomainEvent> {
  state: S;
  readonly events: E[] = [];
  constructor(private readonly decider: Decider<S, C, E>) {
    this.state = decider.initialState();
  }
  /** The events the command caused (none when it was a repeat). */
  run(command: C): E[] {
    const events = this.decider.decide(command, this.state);
    for (const event of events) {
      this.state = this.decider.evolve(this.state, event);
      this.events.push(event);
    }
    return events;
  }
  /** The refusal's code, or 'none'. */
  refusal(command: C): string {
    try {
      this.decider.decide(command, this.state);
      return 'none';
    } catch (error) {
      if (error instanceof BusinessRuleViolation) return error.code;
      throw error;
    }
  }
}

describe('bounded aggregate memory', () => {
  describe('account', () => {
    const opened = () => {
      const s = new Stream<AccountState, AccountCommand, AccountEvent>(account);
      s.run({ type: 'OpenAccount', accountId: 'acc', userId: 'u', at: iso(T0) });
      return s;
    };
    const deposit = (operationId: string, at: number, memory?: OperationMemory): AccountCommand => ({
      type: 'DepositMoney',
      operationId,
      amount: 100,
      at: iso(at),
      ...(memory ? { memory } : {}),
    });
    const commission = (operationId: string, at: number, memory: OperationMemory): AccountCommand => ({
      type: 'ReceiveCommission',
      operationId,
      amount: 10,
      source: {
        fromUserId: 'buyer',
        kind: 'payment',
        operationId: `pay-${operationId}`,
        dealId: `deal-${operationId}`,
      },
      memory,
      at: iso(at),
    });
    const step = (cause: number, floor: number): OperationMemory => ({ process: 'deal-settlement', cause, floor });

    it('a request is a no-op when repeated before its `until`, and applied again once the account has seen an event later than it', () => {
      const s = opened();
      const until = { until: iso(T0 + HOUR) };
      expect(s.run(deposit('key-1', T0, until))).to.have.length(1);
      expect(s.run(deposit('key-1', T0 + 30 * 60_000, until)), 'a retry within the retention').to.deep.equal([]);
      expect(s.run(deposit('key-1', T0 + HOUR, until)), 'a retry at the last moment').to.deep.equal([]);
      // Another operation, after the retention ended: the first one can no longer be retried, and is let go.
      expect(s.run(deposit('other', T0 + 2 * HOUR, { until: iso(T0 + 2 * HOUR) }))).to.have.length(1);
      expect(s.state.operations.requested.has('key-1')).to.equal(false);
      expect(s.run(deposit('key-1', T0 + 2 * HOUR, until))).to.have.length(1);
      expect(s.state.balance).to.equal(300);
    });

    it('a step is a no-op while the floor is at or below its cause; a later step with a higher floor lets it go; one caused below the floor is refused', () => {
      const s = opened();
      expect(s.run(commission('c1', T0, step(100, 50)))).to.have.length(1);
      expect(s.run(commission('c1', T0 + 1, step(100, 80))), 'redelivered above the floor').to.deep.equal([]);
      expect(s.run(commission('c1', T0 + 2, step(100, 100))), 'redelivered at the floor').to.deep.equal([]);
      expect(operationIdsSize(s.state.operations)).to.equal(1);
      // The process manager's checkpoint passes the event that caused c1.
      expect(s.run(commission('c2', T0 + 3, step(200, 150)))).to.have.length(1);
      expect(stepsOf(s.state.operations, 'deal-settlement')!.floor).to.equal(150);
      expect(stepsOf(s.state.operations, 'deal-settlement')!.ids.has('c1'), 'c1 forgotten').to.equal(false);
      expect(() => account.decide(commission('c1', T0 + 4, step(100, 150)), s.state)).to.throw(StepBelowFloor);
      // A lower floor reported late (a slower partition) never lowers it.
      expect(s.run(commission('c3', T0 + 5, step(210, 120)))).to.have.length(1);
      expect(stepsOf(s.state.operations, 'deal-settlement')!.floor).to.equal(150);
      expect(s.run(commission('c2', T0 + 6, step(200, 150)))).to.deep.equal([]);
      expect(s.state.balance).to.equal(30);
    });

    it('the broker’s account after 50,000 commission steps with an advancing floor holds a bounded number of ids', () => {
      const s = opened();
      // Two steps per deal, ten positions apart; the checkpoint is stored every 500 positions and trails by one interval.
      let largest = 0;
      for (let i = 0; i < 50_000; i++) {
        const cause = 1_000 + i * 10;
        const floor = Math.floor(cause / 500) * 500 - 500;
        s.run(commission(`c-${i}`, T0 + i * SECOND, step(cause, floor)));
        largest = Math.max(largest, operationIdsSize(s.state.operations));
      }
      expect(s.state.balance).to.equal(500_000);
      // The steps within two checkpoint intervals (100 of them) are all it may need; a generation more at most.
      expect(largest).to.be.at.most(300);
      // The last steps, above the floor, are still recognised.
      const last = 1_000 + 49_999 * 10;
      expect(
        account.decide(commission('c-49999', T0 + DAY, step(last, Math.floor(last / 500) * 500 - 500)), s.state),
      ).to.deep.equal([]);
    });

    it('50,000 deposits without an idempotency key (until = at) leave about nothing to remember', () => {
      const s = opened();
      let largest = 0;
      for (let i = 0; i < 50_000; i++) {
        const at = T0 + i * SECOND;
        s.run(deposit(`d-${i}`, at, { until: iso(at) }));
        largest = Math.max(largest, operationIdsSize(s.state.operations));
      }
      expect(s.state.balance).to.equal(5_000_000);
      expect(largest).to.be.at.most(2);
    });

    it('an event recorded before memories were (no `memory`) is remembered for 24 h after it happened', () => {
      const s = opened();
      s.run(deposit('legacy', T0));
      s.run(deposit('x', T0 + 23 * HOUR, { until: iso(T0 + 23 * HOUR) }));
      expect(s.run(deposit('legacy', T0 + 23 * HOUR)), 'repeated within the day').to.deep.equal([]);
      s.run(deposit('y', T0 + DAY + 1, { until: iso(T0 + DAY + 1) }));
      expect(s.run(deposit('legacy', T0 + DAY + 2)), 'repeated after the day').to.have.length(1);
    });
  });

  describe('user', () => {
    it('10,000 logouts with expiries an hour out, spread over days, keep loggedOut bounded; a repeated logout of a live token changes nothing', () => {
      const s = new Stream<UserState, UserCommand, UserEvent>(user);
      s.run({
        type: 'RegisterUser',
        userId: 'u1',
        email: 'u1@x.test',
        passwordHash: 'h',
        role: 'trader',
        firstName: 'A',
        lastName: 'B',
        phone: null,
        at: iso(T0),
      });
      const every = 30 * SECOND; // 10,000 × 30 s ≈ 3.5 days
      let largest = 0;
      for (let i = 0; i < 10_000; i++) {
        const at = T0 + i * every;
        s.run({ type: 'LogOut', tokenId: `tok-${i}`, tokenExpiresAt: iso(at + HOUR), at: iso(at) });
        largest = Math.max(largest, s.state.loggedOut.size);
      }
      const live = HOUR / every; // tokens logged out within the last hour: not expired yet
      expect(largest).to.be.at.most(2 * live + 5);
      const now = T0 + 10_000 * every;
      for (let i = 10_000 - live; i < 10_000; i++) {
        expect(
          user.decide(
            { type: 'LogOut', tokenId: `tok-${i}`, tokenExpiresAt: iso(T0 + i * every + HOUR), at: iso(now) },
            s.state,
          ),
          `tok-${i}`,
        ).to.deep.equal([]);
      }
      expect(s.state.loggedOut.has('tok-0')).to.equal(false);
    });
  });

  describe('market', () => {
    const itemId = 'item-1';
    const listed = (initialCount = 1) => {
      const s = new Stream<MarketState, MarketCommand, MarketEvent>(market);
      s.run({
        type: 'ListItem',
        itemId,
        name: 'sword',
        initialCount,
        initialPrice: 1000,
        commissionBasisPoints: 1000,
        brokerId: 'broker',
        at: iso(T0),
      });
      return s;
    };
    const buy = (
      orderId: string,
      buyerId: string,
      price: number,
      at: number,
      rememberUntil: number,
    ): MarketCommand => ({
      type: 'PlacePurchaseOrder',
      orderId,
      buyerId,
      price,
      dealId: `deal-${orderId}`,
      rememberUntil: iso(rememberUntil),
      at: iso(at),
    });
    const sell = (
      orderId: string,
      sellerId: string,
      price: number,
      at: number,
      rememberUntil: number,
    ): MarketCommand => ({
      type: 'PlaceSellOrder',
      orderId,
      sellerId,
      price,
      dealId: `deal-${orderId}`,
      rememberUntil: iso(rememberUntil),
      at: iso(at),
    });
    const settle = (s: Stream<MarketState, MarketCommand, MarketEvent>, dealId: string, at: number) => {
      s.run({ type: 'MarkDealPaid', dealId, at: iso(at) });
      s.run({ type: 'CompleteDeal', dealId, at: iso(at) });
    };
    const memory = 60 * SECOND;
    /**
     * The market moves on at `at`: two bids that rest (nothing sells at 1 cent). An order
     * closed in the latest generation needs the one event to move it to the older
     * generation and the next to let that go.
     */
    const moveOn = (s: Stream<MarketState, MarketCommand, MarketEvent>, at: number) => {
      for (const n of [0, 1]) s.run(buy(`later-${at}-${n}`, 'someone', 1, at + n * SECOND, at + n * SECOND + memory));
    };

    it('remembers a closed order until its rememberUntil, and forgets it after a later event', () => {
      const s = listed();
      const t = T0 + 10 * SECOND;
      expect(s.run(buy('o1', 't1', 1000, t, t + memory)).map((e) => e.type)).to.deep.equal([
        'PurchaseOrderPlaced',
        'DealOpened',
      ]);
      settle(s, 'deal-o1', t + SECOND);
      expect(findOrder(s.state, 'o1')!.status).to.equal('approved');
      expect(s.run(buy('o1', 't1', 1000, t + 30 * SECOND, t + memory)), 'a racing copy of the placement').to.deep.equal(
        [],
      );
      moveOn(s, t + 2 * memory);
      expect(findOrder(s.state, 'o1')).to.equal(null);
      expect(s.state.closed.has('o1')).to.equal(false);
    });

    it('refuses as expired a placement remembered until before the market’s latest event, and places nothing', () => {
      const s = listed(2);
      const t = T0 + 10 * SECOND;
      s.run(buy('o1', 't1', 1000, t, t + memory));
      settle(s, 'deal-o1', t + SECOND);
      moveOn(s, t + 2 * memory);
      expect(s.state.forgottenBefore).to.be.greaterThan(t + memory);
      const before = s.events.length;
      // The first placement again, forgotten by now: it could have been placed, so it is refused.
      expect(s.refusal(buy('o1', 't1', 1000, t + 2 * memory, t + memory))).to.equal('order_expired');
      // So is a fresh order whose memory ended before the market's latest event.
      expect(s.refusal(buy('o3', 't3', 1000, t + 2 * memory, t + memory))).to.equal('order_expired');
      expect(s.events.length).to.equal(before);
      // Within its memory, a placement is placed (the unit left is bought).
      expect(s.run(buy('o4', 't3', 1000, t + 2 * memory + SECOND, t + 3 * memory)).map((e) => e.type)).to.deep.equal([
        'PurchaseOrderPlaced',
        'DealOpened',
      ]);
    });

    it('a refused sell order stays refused within its memory, and is refused as expired after it', () => {
      const s = listed();
      const t = T0 + 10 * SECOND;
      expect(s.run(sell('s1', 't1', 900, t, t + memory)).map((e) => e.type)).to.deep.equal(['OrderRefused']);
      // t1 gets a unit meanwhile: the refused order is still not placed.
      s.run(buy('b1', 't1', 1000, t + SECOND, t + SECOND + memory));
      settle(s, 'deal-b1', t + 2 * SECOND);
      expect(s.run(sell('s1', 't1', 900, t + 30 * SECOND, t + memory))).to.deep.equal([]);
      moveOn(s, t + 2 * memory);
      expect(s.state.refused.has('s1')).to.equal(false);
      expect(s.refusal(sell('s1', 't1', 900, t + 2 * memory, t + memory))).to.equal('order_expired');
      expect(s.events.filter((e) => e.type === 'SellOrderPlaced')).to.deep.equal([]);
    });

    it('drops the holdings of a trader who holds nothing any more', () => {
      const s = listed();
      const t = T0 + SECOND;
      s.run(buy('b1', 't1', 1000, t, t + memory));
      settle(s, 'deal-b1', t);
      expect(s.state.holdings.has('broker'), 'the broker sold its only unit').to.equal(false);
      expect(holdingOf(s.state, 't1')).to.deep.equal({ owned: 1, onSale: 0 });
      s.run(sell('s1', 't1', 2000, t, t + memory));
      s.run(buy('b2', 't2', 2000, t, t + memory));
      settle(s, 'deal-b2', t);
      expect(s.state.holdings.has('t1')).to.equal(false);
      expect(holdingOf(s.state, 't1')).to.deep.equal({ owned: 0, onSale: 0 });
      expect(holdingOf(s.state, 'nobody')).to.deep.equal({ owned: 0, onSale: 0 });
      expect([...s.state.holdings.keys()]).to.deep.equal(['t2']);
    });

    it('cancelOfPastOrder answers for an order the market forgot, as the market would', () => {
      const cancel = (
        requesterId: string,
        side: 'purchase' | 'sell' = 'purchase',
      ): Extract<MarketCommand, { type: 'CancelOrder' }> => ({
        type: 'CancelOrder',
        orderId: 'o1',
        side,
        requesterId,
        at: iso(T0),
      });
      const codeOf = (f: () => void) => {
        try {
          f();
          return 'none';
        } catch (error) {
          if (error instanceof BusinessRuleViolation) return error.code;
          throw error;
        }
      };
      const past = (status: string) => ({ ownerId: 't1', side: 'purchase' as const, status });
      expect(codeOf(() => cancelOfPastOrder(null, cancel('t1')))).to.equal('order_not_found');
      expect(codeOf(() => cancelOfPastOrder(past('approved'), cancel('t1', 'sell')))).to.equal('order_not_found');
      expect(codeOf(() => cancelOfPastOrder(past('approved'), cancel('t2')))).to.equal('operation_denied');
      expect(codeOf(() => cancelOfPastOrder(past('canceled'), cancel('t2')))).to.equal('operation_denied');
      expect(codeOf(() => cancelOfPastOrder(past('canceled'), cancel('t1')))).to.equal('none');
      for (const status of ['approved', 'paymentFailed', 'pending', 'paymentPending'])
        expect(
          codeOf(() => cancelOfPastOrder(past(status), cancel('t1'))),
          status,
        ).to.equal('cannot_cancel');
    });

    it('every closed order goes once its memory has passed, the broker’s initial units included', () => {
      const s = listed(3);
      const t = T0 + SECOND;
      for (const [i, buyer] of ['t1', 't2', 't3'].entries()) {
        s.run(buy(`b${i}`, buyer, 1000, t, t + memory));
        settle(s, `deal-b${i}`, t);
      }
      expect(s.state.closed.size).to.equal(6);
      moveOn(s, t + 2 * memory);
      expect([0, 1, 2].map((unit) => s.state.closed.has(initialSellOrderId(itemId, unit)))).to.deep.equal([
        false,
        false,
        false,
      ]);
      expect(s.state.closed.size).to.equal(0);
    });
  });

  describe('trader orders and customer orders', () => {
    it('trader orders are forgotten after their rememberUntil, and recognised before', () => {
      let state = traderOrders.initialState();
      const run = (command: TraderOrdersCommand) => {
        const events = traderOrders.decide(command, state);
        for (const e of events) state = traderOrders.evolve(state, e);
        return events;
      };
      const submit = (orderId: string, at: number, until: number): TraderOrdersCommand => ({
        type: 'SubmitOrder',
        userId: 't1',
        orderId,
        side: 'purchase',
        itemId: 'i',
        price: 100,
        rememberUntil: iso(until),
        at: iso(at),
      });
      expect(run(submit('o1', T0, T0 + HOUR))).to.have.length(1);
      expect(run({ type: 'RejectOrder', userId: 't1', orderId: 'o1', reason: 'no', at: iso(T0) })).to.have.length(1);
      expect(run(submit('o1', T0 + 59 * 60_000, T0 + HOUR)), 'a retry within the retention').to.deep.equal([]);
      for (let i = 1; i <= 100; i++) run(submit(`later-${i}`, T0 + i * HOUR, T0 + i * HOUR + HOUR));
      expect(state.orders.has('o1')).to.equal(false);
      expect(state.orders.size).to.be.at.most(4);
      expect(state.rejected.size).to.equal(0);
    });

    it('trader orders: a retry whose first attempt may be forgotten is refused as expired; one that cannot be is submitted', () => {
      const MINUTE = 60_000;
      let state = traderOrders.initialState();
      const run = (command: TraderOrdersCommand) => {
        const events = traderOrders.decide(command, state);
        for (const e of events) state = traderOrders.evolve(state, e);
        return events;
      };
      const refusal = (command: TraderOrdersCommand) => {
        try {
          traderOrders.decide(command, state);
          return null;
        } catch (error) {
          return (error as { code?: string }).code;
        }
      };
      const submit = (orderId: string, at: number, firstAttemptAt?: number): TraderOrdersCommand => ({
        type: 'SubmitOrder',
        userId: 't1',
        orderId,
        side: 'purchase',
        itemId: 'i',
        price: 100,
        rememberUntil: iso(at + MINUTE),
        ...(firstAttemptAt !== undefined && { firstAttemptRememberedUntil: iso(firstAttemptAt + MINUTE) }),
        at: iso(at),
      });
      run(submit('o1', T0, T0));
      expect(run(submit('o1', T0 + 50_000, T0)), 'a retry within the memory').to.deep.equal([]);
      for (let i = 1; i <= 10; i++) run(submit(`later-${i}`, T0 + i * MINUTE));
      expect(state.orders.has('o1')).to.equal(false);
      expect(state.forgottenBefore).to.equal(T0 + 10 * MINUTE);
      // o1 is forgotten: its retry cannot tell whether it was submitted, so nothing is recorded.
      expect(refusal(submit('o1', T0 + 10 * MINUTE, T0))).to.equal('order_expired');
      // A retry whose first attempt submitted nothing that could be forgotten yet is submitted.
      expect(run(submit('o2', T0 + 10 * MINUTE, T0 + 9 * MINUTE + 1))).to.have.length(1);
      // A first attempt (no earlier attempt) is never refused, however far the stream has moved on.
      expect(run(submit('o3', T0 + 10 * MINUTE))).to.have.length(1);
      // The refusal survives a snapshot: forgottenBefore is part of the state's shape.
      const restored = traderOrders.snapshot!.decode(JSON.parse(JSON.stringify(traderOrders.snapshot!.encode(state))));
      expect(restored.forgottenBefore).to.equal(state.forgottenBefore);
    });

    it('customer orders: an ended order is forgotten after its rememberUntil; a pending one never is while pending', () => {
      let state = customerOrders.initialState();
      const run = (command: CustomerOrdersCommand) => {
        const events = customerOrders.decide(command, state);
        for (const e of events) state = customerOrders.evolve(state, e);
        return events;
      };
      const create = (orderId: string, at: number): CustomerOrdersCommand => ({
        type: 'CreateOrder',
        userId: 'u1',
        orderId,
        price: 100,
        rememberUntil: iso(at + HOUR),
        at: iso(at),
      });
      const paid = (orderId: string, at: number): CustomerOrdersCommand => ({
        type: 'MarkOrderPaid',
        userId: 'u1',
        orderId,
        at: iso(at),
      });
      run(create('waiting', T0));
      run(create('done', T0));
      run(paid('done', T0 + SECOND));
      expect(run(create('done', T0 + 30 * 60_000)), 'a retry within the retention').to.deep.equal([]);
      for (let i = 1; i <= 240; i++) {
        run(create(`o${i}`, T0 + i * HOUR));
        run(paid(`o${i}`, T0 + i * HOUR + SECOND));
      }
      expect(customerOrderOf(state, 'done')).to.equal(undefined);
      expect(state.ended.size).to.be.at.most(4);
      // Ten days later the pending order is still known, and ends once.
      expect(customerOrderOf(state, 'waiting')).to.deep.equal({ price: 100, status: 'pending' });
      expect(run(create('waiting', T0 + 241 * HOUR))).to.deep.equal([]);
      expect(run(paid('waiting', T0 + 241 * HOUR)).map((e) => e.type)).to.deep.equal(['OrderSucceeded']);
      expect(run(paid('waiting', T0 + 241 * HOUR))).to.deep.equal([]);
    });
  });
});
