/** /api/v1/trading/items/{itemId}…: market data, public like the statistics. */
import Router from '@koa/router';
import { candlesOf, marketSummaryOf, orderBookOf } from '../../../read-api/market.js';
import { getItem } from '../../../read-api/trading.js';
import { HttpError } from '../errors.js';
import { httpMessages } from '../messages.js';
import {
  candleQuery,
  itemPath,
  orderBookQuery,
  type Candle,
  type ItemWithMarket,
  type OrderBook,
} from '../schemas/trading.js';
import { moneyOrNull, toMoney, validate } from '../validation.js';
import type { ApiServices } from './context.js';

export function marketDataRoutes(services: ApiServices): Router {
  const router = new Router();
  const { readStore } = services;
  /** The item the path names, or 404. */
  const itemOf = async (params: unknown) => {
    const { itemId } = validate(itemPath, params);
    const item = await getItem(readStore, itemId);
    if (!item) throw new HttpError(404, httpMessages.notFound);
    return item;
  };
  router.get('/api/v1/trading/items/:itemId', async (ctx) => {
    const { commissionBasisPoints, initialPrice, ...item } = await itemOf(ctx.params);
    const market = await marketSummaryOf(readStore, item.id, services.now());
    ctx.body = {
      ...item,
      initialPrice: toMoney(initialPrice),
      commissionPercent: commissionBasisPoints / 100,
      market: {
        ...market,
        bestBid: moneyOrNull(market.bestBid),
        bestAsk: moneyOrNull(market.bestAsk),
        lastPrice: moneyOrNull(market.lastPrice),
      },
    } satisfies ItemWithMarket;
  });
  router.get('/api/v1/trading/items/:itemId/order-book', async (ctx) => {
    const item = await itemOf(ctx.params);
    const { depth } = validate(orderBookQuery, ctx.query);
    const { bids, asks } = await orderBookOf(readStore, item.id, depth);
    const json = (levels: typeof bids) => levels.map((level) => ({ ...level, price: toMoney(level.price) }));
    ctx.body = { itemId: item.id, bids: json(bids), asks: json(asks) } satisfies OrderBook;
  });
  router.get('/api/v1/trading/items/:itemId/candles', async (ctx) => {
    const item = await itemOf(ctx.params);
    const query = validate(candleQuery, ctx.query);
    const { items, nextFrom } = await candlesOf(readStore, item.id, query);
    if (nextFrom !== undefined) {
      const { interval, to, limit } = query;
      const params = new URLSearchParams({ interval, from: nextFrom, ...(to ? { to } : {}), limit: String(limit) });
      ctx.set('Link', `<${ctx.path}?${params.toString()}>; rel="next"`);
    }
    ctx.body = items.map(
      (c): Candle => ({
        ...c,
        open: toMoney(c.open),
        high: toMoney(c.high),
        low: toMoney(c.low),
        close: toMoney(c.close),
      }),
    );
  });
  return router;
}
