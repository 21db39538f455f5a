/** Billing: the caller's own account, deposits and withdrawals, and its operations. */
import * as z from 'zod';
import { messages } from '../../../domain/messages.js';
import { account, moneyMovementBody, operation } from '../schemas/billing.js';
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
    summary: "The caller's account and balance",
    audience: 'signed-in',
    answers: [
      {
        status: 200,
        description: 'The account; its `ETag` changes with every balance change.',
        body: account,
        headers: ['ETag'],
      },
    ],
    refusals: { 404: [`${quoted(messages.notFound)}: the account is not open yet (read your own writes)`] },
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
