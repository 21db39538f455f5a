/** Ordering: the plain order flow, paid from the balance asynchronously. */
import * as z from 'zod';
import { messages } from '../../../domain/messages.js';
import { customerOrder, customerOrderBody } from '../schemas/ordering.js';
import { orderPath } from '../schemas/common.js';
import { quoted, type Operation } from './operation.js';

const tag = 'ordering';

export const orderingOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/ordering/orders',
    operationId: 'customerOrders',
    tag,
    summary: "All the caller's orders, newest first",
    audience: 'signed-in',
    list: true,
    answers: [
      {
        status: 200,
        description: 'A page of orders; the `ETag` is the `If-Match` for placing one.',
        body: z.array(customerOrder),
        headers: ['ETag', 'Link'],
      },
    ],
  },
  {
    method: 'post',
    path: '/api/v1/ordering/orders',
    operationId: 'placeCustomerOrder',
    tag,
    summary: 'Place an order',
    description:
      'Paid from the balance asynchronously: `pending` → `succeeded` (a `payment` operation and the happy letter) or `failed` (nothing charged, the sad letter).',
    audience: 'signed-in',
    requestBody: customerOrderBody,
    precondition: true,
    command: true,
    answers: [
      { status: 202, description: 'Accepted, `pending`.', body: customerOrder, headers: ['ETag', 'X-Event-Position'] },
    ],
  },
  {
    method: 'get',
    path: '/api/v1/ordering/orders/{id}',
    operationId: 'customerOrder',
    tag,
    summary: "One of the caller's orders",
    audience: 'signed-in',
    pathParameters: orderPath,
    answers: [{ status: 200, description: 'The order.', body: customerOrder }],
    refusals: {
      403: [`${quoted(messages.operationDenied)}: another user's order`],
      404: [`${quoted(messages.notFound)}: no such order (or not projected yet)`],
    },
  },
];
