/** Administration: finding users, blocking and unblocking them (admin role only). */
import { messages } from '../../../domain/messages.js';
import * as z from 'zod';
import { directoryUser, userPath, userSearchQuery } from '../schemas/admin.js';
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
];
