/**
 * The operator's consistency check over the whole log (`npm run cli -- check`, and what
 * bench:trading asserts at the end of its runs): the invariants every command and process
 * manager together must keep, read back from the events alone.
 *
 * - money: each account's balances follow from its amounts, never below zero; every deal
 *   moved exactly its terms (the buyer's payment = the seller's accrual + the broker's two
 *   commissions), and the balances add up to what was deposited, less what was withdrawn,
 *   paid for plain orders, and still in transit in open deals;
 * - deals: every deal opened is completed or failed, once (a deal younger than the grace
 *   may still be under way; one whose parked event an operator skipped is listed apart);
 * - units: each item's holdings add up to the units listed, none below zero, no order sold
 *   or bought in two completed deals;
 * - orders: no order reaches two final states, or enters a deal while in one.
 *
 * Pure: fed the events in log order, asked for the findings at the end.
 */
import type { DomainEvent } from './decider.js';

export interface AuditedEvent extends DomainEvent {
  /** The event's id (a skipped parked event names it). */
  id: string;
}

export type CheckName = 'money' | 'deals' | 'units' | 'orders';

export interface CheckResult {
  check: CheckName;
  ok: boolean;
  /** One line: what was counted and compared. */
  summary: string;
  /** Each violation in words (at most `MAX_LISTED`, then how many more). */
  violations: string[];
  /** Facts that are no violation but an operator should know (deals left open on purpose, deals under way). */
  notes: string[];
}

const MAX_LISTED = 20;

interface Deal {
  openedAt: string;
  price: number;
  buyerCommission: number;
  sellerCommission: number;
  itemId: string;
  buyerId: string;
  sellerId: string;
  paid: number[];
  accrued: number[];
  commissions: number[];
  endings: string[];
  skipped: string | null;
}

// Loosely typed views of the event data the audit reads (the schemas in */events.ts hold more).
type Data = Record<string, unknown>;
const num = (data: Data, field: string): number => (typeof data[field] === 'number' ? (data[field] as number) : 0);
const str = (data: Data, field: string): string => (typeof data[field] === 'string' ? (data[field] as string) : '');
const sub = (data: Data, field: string): Data =>
  data[field] && typeof data[field] === 'object' ? (data[field] as Data) : {};

/** The events, folded one by one; `findings` judges what they add up to. */
export class Audit {
  private readonly balances = new Map<string, number>();
  private readonly violations: Record<CheckName, string[]> = { money: [], deals: [], units: [], orders: [] };
  private deposited = 0;
  private withdrawn = 0;
  private paidForOrders = 0;
  private readonly deals = new Map<string, Deal>();
  /** Event id → the deal it belongs to (to tell which deal a skipped parked event held up). */
  private readonly dealOfEvent = new Map<string, string>();
  private readonly holdings = new Map<string, Map<string, number>>();
  private readonly listed = new Map<string, number>();
  private readonly orderEndings = new Map<string, string[]>();
  private readonly ordersInDeal = new Map<string, string>();
  private events = 0;

  add(event: AuditedEvent): void {
    this.events += 1;
    const data = event.data as Data;
    this.money(event.type, data);
    this.market(event, data);
    if (event.type === 'OrderSucceeded' || event.type === 'OrderFailed') this.end(str(data, 'orderId'), event.type);
    if (event.type === 'ParkedEventSkipped') this.skipped(data);
  }

  private money(type: string, data: Data): void {
    if (!['MoneyDeposited', 'MoneyWithdrawn', 'PaymentMade', 'AccrualReceived', 'CommissionReceived'].includes(type))
      return;
    const account = str(data, 'accountId');
    const amount = num(data, 'amount');
    const outgoing = type === 'MoneyWithdrawn' || type === 'PaymentMade';
    const balance = (this.balances.get(account) ?? 0) + (outgoing ? -amount : amount);
    if (balance !== num(data, 'balance') || balance < 0)
      this.violations.money.push(
        `account ${account}: ${type} of ${amount} leaves ${balance} by its amounts, the event says ${num(data, 'balance')}`,
      );
    this.balances.set(account, num(data, 'balance'));
    if (type === 'MoneyDeposited') this.deposited += amount;
    if (type === 'MoneyWithdrawn') this.withdrawn += amount;
    const purpose = sub(data, 'purpose');
    if (type === 'PaymentMade' && purpose.kind === 'order') this.paidForOrders += amount;
    const dealId = type === 'CommissionReceived' ? str(sub(data, 'source'), 'dealId') : str(purpose, 'dealId');
    const deal = this.deals.get(dealId);
    if (type === 'PaymentMade' && purpose.kind === 'deal') deal?.paid.push(amount);
    if (type === 'AccrualReceived') deal?.accrued.push(amount);
    if (type === 'CommissionReceived') deal?.commissions.push(amount);
  }

  private market(event: AuditedEvent, data: Data): void {
    const dealId = str(data, 'dealId');
    if (dealId) this.dealOfEvent.set(event.id, dealId);
    switch (event.type) {
      case 'ItemListed':
        this.listed.set(str(data, 'itemId'), num(data, 'initialCount'));
        this.move(str(data, 'itemId'), str(data, 'brokerId'), num(data, 'initialCount'));
        break;
      case 'DealOpened':
        this.opened(dealId, data);
        break;
      case 'DealCompleted':
        this.completed(dealId, data);
        break;
      case 'DealFailed':
        this.deals.get(dealId)?.endings.push('failed');
        this.ordersInDeal.delete(str(data, 'sellOrderId'));
        this.ordersInDeal.delete(str(data, 'purchaseOrderId'));
        this.end(str(data, 'purchaseOrderId'), 'failed');
        break;
      case 'OrderCanceled':
      case 'OrderRefused':
        this.end(str(data, 'orderId'), event.type === 'OrderCanceled' ? 'canceled' : 'refused');
        break;
    }
  }

  private opened(dealId: string, data: Data): void {
    if (this.deals.has(dealId)) this.violations.deals.push(`deal ${dealId} opened twice`);
    this.deals.set(dealId, {
      openedAt: str(data, 'at'),
      price: num(data, 'price'),
      buyerCommission: num(data, 'buyerCommission'),
      sellerCommission: num(data, 'sellerCommission'),
      itemId: str(data, 'itemId'),
      buyerId: str(data, 'buyerId'),
      sellerId: str(data, 'sellerId'),
      paid: [],
      accrued: [],
      commissions: [],
      endings: [],
      skipped: null,
    });
    for (const order of [str(data, 'purchaseOrderId'), str(data, 'sellOrderId')]) {
      const current = this.ordersInDeal.get(order);
      if (current) this.violations.orders.push(`order ${order} entered deal ${dealId} while in deal ${current}`);
      this.ordersInDeal.set(order, dealId);
    }
  }

  private completed(dealId: string, data: Data): void {
    const deal = this.deals.get(dealId);
    if (!deal) this.violations.deals.push(`deal ${dealId} completed but never opened`);
    deal?.endings.push('completed');
    const itemId = str(data, 'itemId');
    this.move(itemId, str(data, 'sellerId'), -1);
    this.move(itemId, str(data, 'buyerId'), 1);
    for (const order of [str(data, 'purchaseOrderId'), str(data, 'sellOrderId')]) {
      this.ordersInDeal.delete(order);
      this.end(order, 'completed');
    }
  }

  private move(itemId: string, owner: string, units: number): void {
    const owners = this.holdings.get(itemId) ?? new Map<string, number>();
    this.holdings.set(itemId, owners);
    const held = (owners.get(owner) ?? 0) + units;
    owners.set(owner, held);
    if (held < 0) this.violations.units.push(`item ${itemId}: ${owner} would hold ${held} units`);
  }

  private end(orderId: string, how: string): void {
    const endings = [...(this.orderEndings.get(orderId) ?? []), how];
    this.orderEndings.set(orderId, endings);
    if (endings.length === 2) this.violations.orders.push(`order ${orderId} ended twice: ${endings.join(', ')}`);
  }

  private skipped(data: Data): void {
    const dealId = this.dealOfEvent.get(str(data, 'eventId'));
    const deal = dealId ? this.deals.get(dealId) : undefined;
    if (deal) deal.skipped = str(data, 'reason');
  }

  /** What the events added so far amount to; a deal opened less than `graceMs` before `now` may still be under way. */
  findings(now: Date, graceMs: number): CheckResult[] {
    return [this.moneyFindings(), this.dealFindings(now, graceMs), this.unitFindings(), this.orderFindings()];
  }

  private moneyFindings(): CheckResult {
    const violations = [...this.violations.money];
    let inTransit = 0;
    for (const [dealId, deal] of this.deals) {
      const paid = sum(deal.paid);
      const out = sum(deal.accrued) + sum(deal.commissions);
      inTransit += paid - out;
      if (paid < out) violations.push(`deal ${dealId} paid out ${out - paid} more than the buyer paid in`);
      if (deal.endings.includes('completed') && !movedItsTerms(deal))
        violations.push(
          `deal ${dealId}: paid ${deal.paid.join('+') || 0}, accrued ${deal.accrued.join('+') || 0}, commissions ${deal.commissions.join('+') || 0} for a price of ${deal.price} (+${deal.buyerCommission}, −${deal.sellerCommission})`,
        );
      if (deal.endings.includes('failed') && paid + out > 0) violations.push(`deal ${dealId} failed but moved money`);
    }
    const balances = sum([...this.balances.values()]);
    const expected = this.deposited - this.withdrawn - this.paidForOrders - inTransit;
    if (balances !== expected)
      violations.push(
        `the balances add up to ${balances}, the movements to ${expected}: ${balances - expected} unaccounted`,
      );
    const summary = `${this.balances.size} accounts hold ${balances} = ${this.deposited} deposited − ${this.withdrawn} withdrawn − ${this.paidForOrders} paid for orders − ${inTransit} in open deals (cents)`;
    return result('money', summary, violations, []);
  }

  private dealFindings(now: Date, graceMs: number): CheckResult {
    const violations = [...this.violations.deals];
    const notes: string[] = [];
    const count = { completed: 0, failed: 0, open: 0 };
    for (const [dealId, deal] of this.deals) {
      const [ending, ...more] = deal.endings;
      if (more.length > 0)
        violations.push(`deal ${dealId} ended ${deal.endings.length} times: ${deal.endings.join(', ')}`);
      if (ending === 'completed' || ending === 'failed') {
        count[ending] += 1;
        continue;
      }
      count.open += 1;
      const age = now.getTime() - Date.parse(deal.openedAt);
      if (deal.skipped !== null)
        notes.push(`deal ${dealId} left open: an operator skipped its event (${deal.skipped})`);
      else if (age < graceMs) notes.push(`deal ${dealId} under way (opened ${Math.round(age / 1000)} s ago)`);
      else violations.push(`deal ${dealId} opened ${deal.openedAt}, neither completed nor failed`);
    }
    const summary = `${this.deals.size} deals opened: ${count.completed} completed, ${count.failed} failed, ${count.open} open`;
    return result('deals', summary, violations, notes);
  }

  private unitFindings(): CheckResult {
    const violations = [...this.violations.units];
    let units = 0;
    for (const [itemId, owners] of this.holdings) {
      const held = sum([...owners.values()]);
      units += held;
      if (held !== this.listed.get(itemId))
        violations.push(`item ${itemId}: ${held} units held, ${this.listed.get(itemId)} listed`);
    }
    return result('units', `${units} units of ${this.holdings.size} items held, as listed`, violations, []);
  }

  private orderFindings(): CheckResult {
    const summary = `${this.orderEndings.size} orders ended, ${this.ordersInDeal.size} in a deal now (${this.events} events read)`;
    return result('orders', summary, this.violations.orders, []);
  }
}

function movedItsTerms(deal: Deal): boolean {
  const commissions = [deal.buyerCommission, deal.sellerCommission].filter((c) => c > 0).sort((a, b) => a - b);
  return (
    deal.paid.length === 1 &&
    deal.paid[0] === deal.price + deal.buyerCommission &&
    deal.accrued.length === 1 &&
    deal.accrued[0] === deal.price - deal.sellerCommission &&
    [...deal.commissions].sort((a, b) => a - b).join() === commissions.join()
  );
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function result(check: CheckName, summary: string, violations: string[], notes: string[]): CheckResult {
  const listed =
    violations.length > MAX_LISTED
      ? [...violations.slice(0, MAX_LISTED), `… ${violations.length - MAX_LISTED} more`]
      : violations;
  return { check, ok: violations.length === 0, summary, violations: listed, notes: notes.slice(0, MAX_LISTED) };
}
