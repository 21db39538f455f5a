/** Market data, public like the statistics: an item with its market summary, its order book, its candles. */
import { messages } from '../../../domain/messages.js';
import { MAX_CANDLES } from '../../../read-api/market.js';
import { candle, candleQuery, itemPath, itemWithMarket, orderBook, orderBookQuery } from '../schemas/trading.js';
import * as z from 'zod';
import { quoted, type Operation } from './operation.js';

const tag = 'market data';
const unknownItem = [`${quoted(messages.notFound)}: no such item (or not projected yet)`];

export const marketDataOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/trading/items/{itemId}',
    operationId: 'item',
    tag,
    summary: 'An item with its market summary',
    description:
      'Best bid and ask, the last deal (price and time), units and deals of the last 24 hours, and the orders resting on each side.',
    audience: 'public',
    pathParameters: itemPath,
    answers: [{ status: 200, description: 'The item.', body: itemWithMarket }],
    refusals: { 404: unknownItem },
  },
  {
    method: 'get',
    path: '/api/v1/trading/items/{itemId}/order-book',
    operationId: 'orderBook',
    tag,
    summary: "An item's order book by price level",
    description:
      'The `depth` best price levels of each side (bids highest first, asks lowest first), each with its units and orders; no owners.',
    audience: 'public',
    pathParameters: itemPath,
    queryParameters: orderBookQuery,
    answers: [{ status: 200, description: 'The book.', body: orderBook }],
    refusals: { 404: unknownItem },
  },
  {
    method: 'get',
    path: '/api/v1/trading/items/{itemId}/candles',
    operationId: 'candles',
    tag,
    summary: "An item's candles: open, high, low, close, volume and deals per UTC interval",
    description: `Completed deals only, oldest first; intervals without a deal are left out. At most ${MAX_CANDLES} per answer (\`limit\`); a \`Link: <…>; rel="next"\` names the next page (its \`from\`).`,
    audience: 'public',
    pathParameters: itemPath,
    queryParameters: candleQuery,
    answers: [{ status: 200, description: 'A page of candles.', body: z.array(candle), headers: ['Link'] }],
    refusals: { 404: unknownItem },
  },
];
