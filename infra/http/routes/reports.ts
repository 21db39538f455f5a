/** Deal history (the caller's own), and the public statistics. */
import Router from '@koa/router';
import { dailyItemStats, dailyTotals, listDeals, topItems } from '../../../read-api/deals.js';
import type { AuthState } from '../auth.js';
import { linkNextPage, pageOf } from '../lists.js';
import type { DailyItemStat, DailyTotal, Deal, TopItem } from '../schemas/reports.js';
import { toMoney } from '../validation.js';
import type { ApiServices } from './context.js';

export function reportRoutes(services: ApiServices): Router<AuthState> {
  const router = new Router<AuthState>();
  router.get('/api/v1/history/deals', async (ctx) => {
    const page = pageOf(ctx);
    const { items, next } = await listDeals(services.readStore, ctx.state.caller.userId, page);
    linkNextPage(ctx, next, page.limit);
    // The deals projection writes only these two sides.
    ctx.body = items.map(
      (d): Deal => ({
        ...d,
        type: d.type as Deal['type'],
        amount: toMoney(d.amount),
        commission: toMoney(d.commission),
      }),
    );
  });
  return router;
}

export function statisticsRoutes(services: ApiServices): Router {
  const router = new Router();
  router.get('/api/v1/statistics/daily-stats', async (ctx) => {
    ctx.body = (await dailyItemStats(services.readStore, services.now())).map(
      (s): DailyItemStat => ({ ...s, amount: toMoney(s.amount) }),
    );
  });
  router.get('/api/v1/statistics/total-daily-stats', async (ctx) => {
    ctx.body = (await dailyTotals(services.readStore, services.now())).map(
      (s): DailyTotal => ({ ...s, amount: toMoney(s.amount) }),
    );
  });
  router.get('/api/v1/statistics/top10', async (ctx) => {
    ctx.body = (await topItems(services.readStore)).map((s): TopItem => ({ ...s, amount: toMoney(s.amount) }));
  });
  return router;
}
