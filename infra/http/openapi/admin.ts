/** Administration: finding users, blocking and unblocking them (admin role only). */
import { messages } from '../../../domain/messages.js';
import * as z from 'zod';
import {
  checkQuery,
  consistency,
  directoryUser,
  parkedEvent,
  parkedOutcomes,
  parkedPath,
  parkedQuery,
  skipBody,
  userPath,
  userSearchQuery,
} from '../schemas/admin.js';
import { quoted, type Operation } from './operation.js';

const tag = 'admin';

export const adminOperations: Operation[] = [
  {
    method: 'get',
    path: '/api/v1/admin/users',
    operationId: 'searchUsers',
    tag,
    summary: 'List and search users',
    description:
      'Every user, sorted by email, or those matching the search: the beginning of the email (any case), the role, blocked or not.',
    audience: 'signed-in',
    adminOnly: true,
    queryParameters: userSearchQuery,
    list: true,
    answers: [{ status: 200, description: 'A page of users.', body: z.array(directoryUser), headers: ['Link'] }],
  },
  {
    method: 'post',
    path: '/api/v1/admin/users/{userId}/block',
    operationId: 'blockUser',
    tag,
    summary: 'Block a user',
    description:
      'From now on every token of the user is refused (401) on every API process; their pending orders are canceled by a process manager; their money stays theirs. Blocking a blocked user changes nothing. Recorded as `UserBlocked` naming the administrator.',
    audience: 'signed-in',
    adminOnly: true,
    pathParameters: userPath,
    command: true,
    answers: [{ status: 204, description: 'Blocked.', headers: ['X-Event-Position'] }],
    refusals: {
      404: [`${quoted(messages.notFound)}: no such user`],
      422: [`${quoted(messages.cannotBlockYourself)}: the administrator named themselves`],
    },
  },
  {
    method: 'post',
    path: '/api/v1/admin/users/{userId}/unblock',
    operationId: 'unblockUser',
    tag,
    summary: 'Unblock a user',
    description:
      'The user may sign in and call the API again (orders canceled by the block stay canceled). Unblocking a user who is not blocked changes nothing. Recorded as `UserUnblocked` naming the administrator.',
    audience: 'signed-in',
    adminOnly: true,
    pathParameters: userPath,
    command: true,
    answers: [{ status: 204, description: 'Unblocked.', headers: ['X-Event-Position'] }],
    refusals: { 404: [`${quoted(messages.notFound)}: no such user`] },
  },

  {
    method: 'get',
    path: '/api/v1/admin/parked-events',
    operationId: 'listParkedEvents',
    tag,
    summary: 'The parked events',
    description:
      'The events projections and process managers gave up on, as `npm run cli -- parked list` shows them (the same module), with the deal or order a process manager’s holds up.',
    audience: 'signed-in',
    adminOnly: true,
    queryParameters: parkedQuery,
    answers: [{ status: 200, description: 'The parked events.', body: z.array(parkedEvent) }],
    refusals: { 404: [`${quoted(messages.notFound)}: no projection or process manager has that name`] },
  },
  {
    method: 'post',
    path: '/api/v1/admin/parked-events/{handler}/{eventId}/retry',
    operationId: 'retryParkedEvent',
    tag,
    summary: 'Retry a parked event',
    description:
      "A process manager's parked event is handled again (its steps are harmless when repeated) and unparked once that succeeds (`npm run cli -- parked retry`). A projection's is retried by rebuilding the projection, which only the CLI does: the answer says so.",
    audience: 'signed-in',
    adminOnly: true,
    pathParameters: parkedPath,
    command: true,
    answers: [{ status: 200, description: 'What became of it.', body: parkedOutcomes }],
    refusals: { 404: [`${quoted(messages.notFound)}: no such parked event`] },
  },
  {
    method: 'post',
    path: '/api/v1/admin/parked-events/{handler}/{eventId}/skip',
    operationId: 'skipParkedEvent',
    tag,
    summary: 'Skip a parked event for good',
    description:
      'Never handle it: `ParkedEventSkipped` with the reason and the administrator (`by`) is appended to `repairs-<handler>`, then the event is unparked (`npm run cli -- parked skip`).',
    audience: 'signed-in',
    adminOnly: true,
    pathParameters: parkedPath,
    requestBody: skipBody,
    command: true,
    answers: [{ status: 200, description: 'Skipped.', body: parkedOutcomes }],
    refusals: { 404: [`${quoted(messages.notFound)}: no such parked event`] },
  },
  {
    method: 'get',
    path: '/api/v1/admin/consistency',
    operationId: 'checkConsistency',
    tag,
    summary: 'The consistency check of the event store',
    description:
      'The checks of `npm run cli -- check` (the same module) over every event: money conserved, every deal completed or failed (deals younger than `graceSeconds` may be under way), units in one portfolio, orders in one state.',
    audience: 'signed-in',
    adminOnly: true,
    queryParameters: checkQuery,
    answers: [{ status: 200, description: 'Each check, and whether all held.', body: consistency }],
  },
];
