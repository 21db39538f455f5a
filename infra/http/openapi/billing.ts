/** Billing: the caller's own account, deposits and withdrawals, and its operations. */
import * as z from 'zod';
import { messages } from '../../../domain/messages.js';
import { account, moneyMovementBody, operation } from '../schemas/billing.js';
import { httpMessages } from '../messages.js';
import { asOfQuery } from '../schemas/time-travel.js';
import { quoted, type Operation } from './operation.js';

const tag = 'billing';

const movement = (kind: 'deposit' | 'withdraw'): Operation => ({
  method: 'post',
  path: `/api/v1/billing/account/${kind}`,
  operationId: kind,
  tag,
  summary: kind === 'deposit' ? 'Deposit money' : 'Withdraw money',
  description: "Changes the balance; the account's `ETag` is the `If-Match` it needs. A balance never goes below zero.",
  audience: 'signed-in',
  requestBody: moneyMovementBody,
  precondition: true,
  command: true,
  answers: [
    {
      status: 204,
      description: kind === 'deposit' ? 'Deposited.' : 'Withdrawn.',
      headers: ['ETag', 'X-Event-Position'],
    },
  ],
  refusals: {
    404: [`${quoted(messages.notFound)}: the account is not open yet`],
    422: kind === 'withdraw' ? [`${quoted(messages.notEnoughMoney)}`] : [],
  },
});

export const billingOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/billing/account',
    operationId: 'account',
    tag,
    summary: "The caller's account and balance (now, or as it was at `asOf`)",
    description:
      'With `asOf`, the account as it was then, folded from its events in the event store: the balance of its last event at or before the point, found by bisecting the account stream (about log2(n) events read for n events, plus any declined payments right before the point). The `ETag` is then the revision it had.',
    audience: 'signed-in',
    queryParameters: asOfQuery,
    answers: [
      {
        status: 200,
        description: 'The account; its `ETag` changes with every balance change.',
        body: account,
        headers: ['ETag'],
      },
    ],
    refusals: {
      404: [
        `${quoted(messages.notFound)}: the account is not open yet (read your own writes)`,
        `${quoted(httpMessages.asOfBeforeAccount)}: \`asOf\` is before the account's first event`,
      ],
      422: [
        `${quoted(httpMessages.asOfInvalid)}`,
        `${quoted(httpMessages.asOfInFuture)}: a position past the log's last event, or a time after now`,
      ],
    },
  },
  movement('deposit'),
  movement('withdraw'),
  {
    method: 'get',
    path: '/api/v1/billing/operations',
    operationId: 'operations',
    tag,
    summary: "The caller's balance changes, newest first",
    audience: 'signed-in',
    list: true,
    answers: [{ status: 200, description: 'A page of operations.', body: z.array(operation), headers: ['Link'] }],
  },
];
