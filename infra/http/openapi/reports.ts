/** Read-only reports: the caller's deal history, and the public statistics. */
import * as z from 'zod';
import { dailyItemStat, dailyTotal, deal, topItem } from '../schemas/reports.js';
import type { Operation } from './operation.js';

const statistics = (path: string, operationId: string, summary: string, body: z.ZodType): Operation => ({
  method: 'get',
  path: `/api/v1/statistics/${path}`,
  operationId,
  tag: 'statistics',
  summary,
  audience: 'public',
  answers: [
    {
      status: 200,
      description: 'The figures; amounts sum deal prices without commission, each deal counted once.',
      body,
    },
  ],
});

export const reportOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/history/deals',
    operationId: 'deals',
    tag: 'history',
    summary: "The caller's completed deals, newest first",
    audience: 'signed-in',
    list: true,
    answers: [{ status: 200, description: 'A page of deals.', body: z.array(deal), headers: ['Link'] }],
  },
  statistics(
    'daily-stats',
    'dailyItemStats',
    'Deals per item per UTC day, last 7 days: newest day first, then most deals',
    z.array(dailyItemStat),
  ),
  statistics(
    'total-daily-stats',
    'dailyTotals',
    'All deals per UTC day, last 7 days, newest first',
    z.array(dailyTotal),
  ),
  statistics('top10', 'topItems', 'The 10 items with the most deals (ties: larger amount)', z.array(topItem)),
];
