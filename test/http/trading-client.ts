/**
 * Trading, ordering, history, notifications and statistics over HTTP, on top of the
 * shared `Client` of client.ts: the steps the trading, ordering, worked-example and
 * crash-safety tests have in common, and `eventually` — a bounded poll for the end
 * states that settle asynchronously (deals, plain orders), never a fixed sleep.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { BROKER } from '../support/api-server.js';
import { type Client, positionOf, type Answer, type Trader, type JsonBody } from './client.js';

export type Side = 'purchase' | 'sell';

export const pathOf = (side: Side) =>
  side === 'purchase' ? '/api/v1/trading/purchase-orders' : '/api/v1/trading/sell-orders';

/** The fields of an order as the API shows it, sorted: every order answer has exactly these. */
export const ORDER_FIELDS = ['commission', 'createdAt', 'id', 'itemId', 'price', 'status', 'updatedAt'];

export const TEXTS = {
  operationDenied: 'Operation denied',
  notFound: 'Not found',
  itemDoesNotExist: 'trading item does not exist',
  noItemsForSale: 'no trading items for sale',
  cannotCancel: 'cannot cancel order',
  missingIfMatch: 'Missing If-Match header',
  stateChanged: 'State of resource has changed',
  notEnoughMoney: 'Not enough money on the account',
} as const;

/** The letters of the specification, word for word. */
export const LETTERS = {
  sold: (first: string, last: string, item: string, price: string, commission: string) =>
    `Dear, ${first} ${last}! You have successfully sold item "${item}" for ${price}$ (commission ${commission}$) on the marketplace.`,
  bought: (first: string, last: string, item: string, price: string, commission: string) =>
    `Dear, ${first} ${last}! You have successfully bought item "${item}" for ${price}$ (commission ${commission}$) on the marketplace.`,
  purchaseFailed: (first: string, last: string, item: string, price: string, reason = 'not enough money') =>
    `Dear, ${first} ${last}! Your purchase of item "${item}" for ${price}$ was not completed due to: ${reason}.`,
  orderProcessed: (first: string, last: string, price: string) =>
    `Dear, ${first} ${last}! Your order for ${price}$ has been successfully processed.`,
  orderNotFulfilled: (first: string, last: string, price: string, reason = 'not enough money') =>
    `Dear, ${first} ${last}! Your order for ${price}$ was not fulfilled due to: ${reason}.`,
};

export const DESCRIPTIONS = {
  buying: (item: string, commission: string) =>
    `buying the item "${item}" on the marketplace (with commission ${commission})`,
  selling: (item: string, commission: string) =>
    `selling the item "${item}" on the marketplace (with commission ${commission})`,
  commission: (userId: string, kind: 'payment' | 'accrual', operationId: string) =>
    `commission charge from user ${userId} (${kind} ${operationId})`,
  orderPayment: (orderId: string) => `payment for order ${orderId}`,
};

/**
 * Runs `check` until it resolves (an assertion inside it throws while the state is not
 * there yet), for at most `timeoutMs`; then rethrows its last failure.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        if (error instanceof Error) error.message = `${what}: still not so after ${timeoutMs} ms: ${error.message}`;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 50);
    }
  }
}

export interface NamedTrader extends Trader {
  firstName: string;
  lastName: string;
}

export interface Item {
  id: string;
  name: string;
  initialCount: number;
  initialPrice: number;
  commissionPercent: number;
  createdAt: string;
}

let itemCounter = 0;
export function uniqueItemName(prefix = 'item'): string {
  itemCounter += 1;
  return `${prefix} ${randomUUID().slice(0, 8)} #${itemCounter}`;
}

export class Market {
  private brokerSession: Promise<NamedTrader> | null = null;

  constructor(readonly api: Client) {}

  // ---- users ---------------------------------------------------------------------------

  /** The broker provisioned from the environment, logged in (once per Market). */
  broker(): Promise<NamedTrader> {
    this.brokerSession ??= (async () => {
      const login = await this.api.login(BROKER.email, BROKER.password);
      expect(login.status, login.text).to.equal(200);
      const token = login.body.accessToken as string;
      const profile = await this.api.get('/api/v1/identity/profile', { token });
      expect(profile.status, profile.text).to.equal(200);
      expect(profile.body.role).to.equal('broker');
      return {
        id: profile.body.id,
        email: BROKER.email,
        password: BROKER.password,
        token,
        position: '',
        firstName: profile.body.firstName,
        lastName: profile.body.lastName,
      };
    })();
    return this.brokerSession;
  }

  /** A fresh trader whose billing account exists (waited for), funded with `amount` when given. */
  async trader(amount = 0, names: { firstName?: string; lastName?: string } = {}): Promise<NamedTrader> {
    const firstName = names.firstName ?? `First${randomUUID().slice(0, 4)}`;
    const lastName = names.lastName ?? `Last${randomUUID().slice(0, 4)}`;
    const t = await this.api.newTrader({ firstName, lastName });
    // The account is opened by a reaction to the registration: poll for it (not with the
    // registration's position: on EventStoreDB that wait is broken, see trading.test.ts).
    await eventually(
      async () => {
        const account = await this.api.account(t.token);
        expect(account.status, account.text).to.equal(200);
        expect(account.body.amount).to.equal(0);
      },
      5000,
      'the new trader’s account',
    );
    if (amount > 0) await this.api.funded(t.token, amount);
    return { ...t, firstName, lastName };
  }

  // ---- items ---------------------------------------------------------------------------

  listItem(token: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.api.post('/api/v1/trading/items', { token, json: body, headers });
  }

  /** The broker lists a fresh item (1 unit at 100, 10 % unless told otherwise). */
  async newItem(fields: Partial<Omit<Item, 'id' | 'createdAt'>> = {}): Promise<Item & { position: string }> {
    const broker = await this.broker();
    const body = { name: uniqueItemName(), initialCount: 1, initialPrice: 100, commissionPercent: 10, ...fields };
    const answer = await this.listItem(broker.token, body);
    expect(answer.status, answer.text).to.equal(201);
    return { ...(answer.body as Item), position: positionOf(answer) };
  }

  items(token: string, query = ''): Promise<Answer> {
    return this.api.get(`/api/v1/trading/items${query}`, { token });
  }

  // ---- orders --------------------------------------------------------------------------

  orders(token: string, side: Side, position?: string): Promise<Answer> {
    return this.api.get(pathOf(side), { token, headers: position ? { 'x-event-position': position } : {} });
  }

  /** The active orders of one side (200 expected). */
  async activeOrders(token: string, side: Side, position?: string): Promise<JsonBody[]> {
    const answer = await this.orders(token, side, position);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.be.an('array');
    return answer.body as JsonBody[];
  }

  async etag(token: string, side: Side, position?: string): Promise<string> {
    const answer = await this.orders(token, side, position);
    expect(answer.status, answer.text).to.equal(200);
    const etag = answer.headers.get('etag');
    expect(etag, `${answer.describe} carries an ETag`).to.be.a('string');
    return etag!;
  }

  /** POST an order with exactly these headers (none: neither If-Match nor Idempotency-Key). */
  postOrder(token: string, side: Side, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.api.post(pathOf(side), { token, json: body, headers });
  }

  /** Places an order with a fresh Idempotency-Key. */
  place(token: string, side: Side, itemId: string, price: number): Promise<Answer> {
    return this.postOrder(token, side, { itemId, price }, { 'idempotency-key': randomUUID() });
  }

  /** Places an order expecting 202; returns the order and the answer's position. */
  async placed(
    token: string,
    side: Side,
    itemId: string,
    price: number,
  ): Promise<{ order: JsonBody; position: string; answer: Answer }> {
    const answer = await this.place(token, side, itemId, price);
    expect(answer.status, answer.text).to.equal(202);
    return { order: answer.body, position: positionOf(answer), answer };
  }

  cancel(token: string, side: Side, orderId: string): Promise<Answer> {
    return this.api.post(`${pathOf(side)}/${encodeURIComponent(orderId)}/cancel`, { token });
  }

  // ---- portfolio, history, notifications, statistics ------------------------------------

  async portfolio(token: string, position?: string): Promise<JsonBody[]> {
    const answer = await this.api.get('/api/v1/trading/user-items', {
      token,
      headers: position ? { 'x-event-position': position } : {},
    });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.be.an('array');
    return answer.body as JsonBody[];
  }

  async deals(token: string): Promise<JsonBody[]> {
    const answer = await this.api.get('/api/v1/history/deals', { token });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.be.an('array');
    return answer.body as JsonBody[];
  }

  async notifications(token: string): Promise<JsonBody[]> {
    const answer = await this.api.get('/api/v1/notifications', { token });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.be.an('array');
    return answer.body as JsonBody[];
  }

  async operations(token: string): Promise<JsonBody[]> {
    const answer = await this.api.get('/api/v1/billing/operations', { token });
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.be.an('array');
    return answer.body as JsonBody[];
  }

  async balance(token: string): Promise<number> {
    return (await this.api.balance(token)).amount;
  }

  async statistics(path: 'daily-stats' | 'total-daily-stats' | 'top10'): Promise<JsonBody[]> {
    const answer = await this.api.get(`/api/v1/statistics/${path}`);
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.body).to.be.an('array');
    return answer.body as JsonBody[];
  }

  // ---- ordering ------------------------------------------------------------------------

  customerOrders(token: string, position?: string): Promise<Answer> {
    return this.api.get('/api/v1/ordering/orders', {
      token,
      headers: position ? { 'x-event-position': position } : {},
    });
  }

  postCustomerOrder(token: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
    return this.api.post('/api/v1/ordering/orders', { token, json: body, headers });
  }

  customerOrder(token: string, id: string): Promise<Answer> {
    return this.api.get(`/api/v1/ordering/orders/${encodeURIComponent(id)}`, { token });
  }
}

/** Today's UTC date as the statistics write it. */
export function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}
