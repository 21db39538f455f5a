/** Trading: items, purchase and sell orders (matched when placed), the portfolio. */
import * as z from 'zod';
import { messages } from '../../../domain/messages.js';
import {
  holding,
  listItemBody,
  order,
  orderListQuery,
  placeOrderBody,
  trackedOrder,
  tradingItem,
  tradingItemWithQuote,
} from '../schemas/trading.js';
import { orderPath } from '../schemas/common.js';
import { httpMessages } from '../messages.js';
import { asOfQuery } from '../schemas/time-travel.js';
import { quoted, type Operation } from './operation.js';

const tag = 'trading';

const sides = [
  { side: 'purchase', path: 'purchase-orders', name: 'Purchase', matched: 'paymentPending' },
  { side: 'sell', path: 'sell-orders', name: 'Sell', matched: 'dealPending' },
] as const;

type OrderSide = (typeof sides)[number];

/** The caller's orders of a side. */
function listOrders({ side, path }: OrderSide): Operation {
  return {
    method: 'get',
    path: `/api/v1/trading/${path}`,
    operationId: `${side}Orders`,
    tag,
    summary: `The caller's ${side} orders, newest first: the active ones, or those \`status\` names`,
    audience: 'signed-in',
    list: true,
    queryParameters: orderListQuery,
    answers: [
      {
        status: 200,
        description: `A page of ${side} orders; the \`ETag\` is the \`If-Match\` for placing one.`,
        body: z.array(trackedOrder),
        headers: ['ETag', 'Link'],
      },
    ],
  };
}

/** One of the caller's orders of a side. */
function getOrder({ side, path, name }: OrderSide): Operation {
  return {
    method: 'get',
    path: `/api/v1/trading/${path}/{id}`,
    operationId: `${side}Order`,
    tag,
    summary: `One of the caller's ${side} orders: its status, the deal it is in, why it failed`,
    audience: 'signed-in',
    pathParameters: orderPath,
    answers: [{ status: 200, description: `The ${name.toLowerCase()} order.`, body: trackedOrder }],
    refusals: {
      403: [`${quoted(messages.operationDenied)}: another user's order`],
      404: [`${quoted(messages.notFound)}: no such ${side} order (or not projected yet)`],
    },
  };
}

/** Placing an order of a side. */
function placeOrder({ side, path, name, matched }: OrderSide): Operation {
  return {
    method: 'post',
    path: `/api/v1/trading/${path}`,
    operationId: `place${name}Order`,
    tag,
    summary: `Place a ${side} order`,
    description:
      side === 'purchase'
        ? "Matched at once with the best resting sell order of the item at or below the price (lowest ask, then oldest), not the caller's own; the resting order sets the price. The deal then settles asynchronously."
        : "Puts one unit of the caller's that is not on sale on sale; matched at once with the best resting purchase order at or above the price (highest bid, then oldest), not the caller's own; the resting order sets the price.",
    audience: 'signed-in',
    requestBody: placeOrderBody,
    precondition: true,
    command: true,
    answers: [
      {
        status: 202,
        description: `Placed: \`${matched}\` when matched, else \`pending\` in the book.`,
        body: order,
        headers: ['ETag', 'X-Event-Position'],
      },
    ],
    refusals: {
      422: [
        quoted(messages.itemDoesNotExist),
        ...(side === 'sell' ? [`${quoted(messages.noItemsForSale)}: no unit of the item off sale`] : []),
      ],
    },
  };
}

/** Canceling an order of a side. */
function cancelOrder({ side, path, name }: OrderSide): Operation {
  return {
    method: 'post',
    path: `/api/v1/trading/${path}/{id}/cancel`,
    operationId: `cancel${name}Order`,
    tag,
    summary: `Cancel a pending ${side} order`,
    description: 'Naturally idempotent: no `If-Match` needed; canceling a canceled order answers it again.',
    audience: 'signed-in',
    pathParameters: orderPath,
    command: true,
    answers: [{ status: 200, description: 'Canceled.', body: order, headers: ['X-Event-Position'] }],
    refusals: {
      403: [`${quoted(messages.operationDenied)}: another user's order`],
      404: [`${quoted(messages.notFound)}: no such order`],
      422: [`${quoted(messages.cannotCancel)}: the order is no longer \`pending\``],
    },
  };
}

const orderOperations = sides.flatMap((side): Operation[] => [
  listOrders(side),
  getOrder(side),
  placeOrder(side),
  cancelOrder(side),
]);

export const tradingOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/trading/items',
    operationId: 'items',
    tag,
    summary: 'The items on the market, by name, each with its best bid and ask and its last price',
    audience: 'signed-in',
    list: true,
    answers: [{ status: 200, description: 'A page of items.', body: z.array(tradingItemWithQuote), headers: ['Link'] }],
  },
  {
    method: 'post',
    path: '/api/v1/trading/items',
    operationId: 'listItem',
    tag,
    summary: 'List an item (broker only)',
    description: 'The broker then owns `initialCount` units, all on sale at `initialPrice`.',
    audience: 'signed-in',
    brokerOnly: true,
    requestBody: listItemBody,
    command: true,
    answers: [{ status: 201, description: 'Listed.', body: tradingItem, headers: ['X-Event-Position'] }],
  },
  ...orderOperations,
  {
    method: 'get',
    path: '/api/v1/trading/user-items',
    operationId: 'portfolio',
    tag,
    summary: "The caller's portfolio, by item name (now, or as it was at `asOf`)",
    description:
      "With `asOf`: every holding as it was then, in one answer (no `Link`): each item's latest version at or before the point, kept by the portfolio-history projection (one indexed read per item the caller ever held). A position the read models have not reached yet is not waited for: send it as `X-Event-Position` too.",
    audience: 'signed-in',
    list: true,
    queryParameters: asOfQuery,
    answers: [{ status: 200, description: 'A page of holdings.', body: z.array(holding), headers: ['Link'] }],
    refusals: {
      404: [`${quoted(httpMessages.asOfBeforeAccount)}: \`asOf\` is before the caller's account's first event`],
      422: [
        `${quoted(httpMessages.asOfInvalid)}`,
        `${quoted(httpMessages.asOfInFuture)}: a position past the log's last event, or a time after now`,
      ],
    },
  },
];
