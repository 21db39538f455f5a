/**
 * The past on demand: the specification's worked example played step by step, then the
 * balance and the portfolio asked for as they were between its steps (by position and by
 * time), each step's figures back; a point in the future or before the account: 4xx.
 */
import { expect } from 'chai';
import { withApiServer, type Client, eventStores, expectError, itHttp } from './client.js';
import { eventually, Market, type NamedTrader } from './trading-client.js';

for (const eventStore of eventStores) {
  describe(`HTTP time travel: balance and portfolio asOf (${eventStore} event store)`, function () {
    this.timeout(60_000);
    let api: Client;
    let market: Market;
    withApiServer(eventStore, (_server, client) => {
      api = client;
      market = new Market(client);
    });

    const past = async (path: string, token: string, asOf: string, position?: string) => {
      const headers: Record<string, string> = position ? { 'x-event-position': position } : {};
      return api.get(`${path}?asOf=${encodeURIComponent(asOf)}`, { token, headers });
    };
    const balanceAt = async (t: NamedTrader, asOf: string) => {
      const answer = await past('/api/v1/billing/account', t.token, asOf);
      expect(answer.status, answer.text).to.equal(200);
      return answer.body.amount as number;
    };
    const portfolioAt = async (t: NamedTrader, asOf: string, position: string) => {
      const answer = await past('/api/v1/trading/user-items', t.token, asOf, position);
      expect(answer.status, answer.text).to.equal(200);
      return (answer.body as Array<{ count: number; onSaleCount: number }>).map((h) => [h.count, h.onSaleCount]);
    };

    itHttp('gives the worked example’s figures of each step, by position and by time', async () => {
      const item = await market.newItem({ initialPrice: 200, commissionPercent: 10 });
      const trader1 = await market.trader();
      const trader2 = await market.trader();
      const steps: Array<{ position: string; time: string }> = [];
      const mark = async (position: string) => {
        steps.push({ position, time: new Date().toISOString() });
        await new Promise((resolve) => setTimeout(resolve, 20));
      };
      // Step 0: both accounts open, nothing in them.
      await mark(await api.funded(trader2.token, 1)); // trader 2: 1 (so the step shows)
      // Step 1: trader 1 deposits 1000 and buys the unit at 200 (+20).
      await api.funded(trader1.token, 1000);
      const bid = await market.placed(trader1.token, 'purchase', item.id, 200);
      await eventually(async () => expect(await market.portfolio(trader1.token)).to.have.length(1), 10_000);
      const bought = await api.get('/api/v1/billing/account', { token: trader1.token });
      expect(bid.order.status).to.equal('paymentPending');
      await mark(await api.funded(trader1.token, 1));
      // Step 2: trader 1 offers it at 250 (on sale), trader 2 deposits 999 more.
      await market.placed(trader1.token, 'sell', item.id, 250);
      await mark(await api.funded(trader2.token, 999));
      // Step 3: trader 2 bids 260: the deal runs at 250 (+25).
      await market.placed(trader2.token, 'purchase', item.id, 260);
      await eventually(async () => expect(await market.portfolio(trader2.token)).to.have.length(1), 10_000);
      await mark(await api.funded(trader2.token, 1));

      expect(bought.body.amount).to.equal(780);
      const expected = [
        { t1: 0, t2: 1, p1: [], p2: [] },
        { t1: 781, t2: 1, p1: [[1, 0]], p2: [] },
        { t1: 781, t2: 1000, p1: [[1, 1]], p2: [] },
        { t1: 1006, t2: 726, p1: [], p2: [[1, 0]] },
      ];
      for (const [n, step] of steps.entries()) {
        for (const asOf of [step.position, step.time]) {
          const want = expected[n]!;
          const at = `step ${n} asOf ${asOf}`;
          expect(await balanceAt(trader1, asOf), at).to.equal(want.t1);
          expect(await balanceAt(trader2, asOf), at).to.equal(want.t2);
          expect(await portfolioAt(trader1, asOf, steps[3]!.position), at).to.deep.equal(want.p1);
          expect(await portfolioAt(trader2, asOf, steps[3]!.position), at).to.deep.equal(want.p2);
        }
      }
    });

    itHttp('refuses a point in the future (422), before the account (404), or no point at all (422)', async () => {
      const early = await market.trader();
      const startedAt = new Date(Date.now() - 60_000).toISOString();
      const later = await market.trader();
      const position = await api.funded(later.token, 5);
      expectError(
        await past('/api/v1/billing/account', later.token, startedAt),
        404,
        'The account did not exist yet at that point',
      );
      expectError(await past('/api/v1/trading/user-items', later.token, startedAt), 404);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      expectError(await past('/api/v1/billing/account', early.token, future), 422, /in the future/);
      expectError(await past('/api/v1/trading/user-items', early.token, future), 422, /in the future/);
      expectError(await past('/api/v1/billing/account', early.token, '99999999999'), 422, /in the future/);
      expectError(await past('/api/v1/billing/account', early.token, 'last tuesday'), 422, /^violation at 'asOf'/);
      expect(await balanceAt(later, position)).to.equal(5);
    });
  });
}
