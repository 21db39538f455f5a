/** Identity: registering, signing in and out, the profile, and the public signing keys. */
import { messages } from '../../../domain/messages.js';
import { accessToken, jwks, loginBody, registerBody, updateProfileBody, user } from '../schemas/identity.js';
import { quoted, type Operation } from './operation.js';

const tag = 'identity';

export const identityOperations: Operation[] = [
  {
    method: 'post',
    path: '/api/v1/identity/register',
    operationId: 'register',
    tag,
    summary: 'Register a trader',
    description: 'Creates a user with role `trader`; their billing account (balance 0) is opened as a consequence.',
    audience: 'public',
    requestBody: registerBody,
    command: true,
    answers: [{ status: 201, description: 'Registered.', body: user, headers: ['X-Event-Position'] }],
    refusals: { 422: [`${quoted(messages.emailTaken('<email>'))}: the email is taken (case-insensitively)`] },
  },
  {
    method: 'post',
    path: '/api/v1/identity/login',
    operationId: 'logIn',
    tag,
    summary: 'Sign in',
    description: 'Issues a signed access token (JWT, verifiable with the keys at `/.well-known/jwks.json`).',
    audience: 'public',
    requestBody: loginBody,
    answers: [{ status: 200, description: 'Signed in.', body: accessToken }],
    refusals: { 401: [`${quoted(messages.wrongCredentials)}: wrong email or password (the same text for both)`] },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'signingKeys',
    tag,
    summary: 'The public keys that verify access tokens',
    audience: 'public',
    answers: [{ status: 200, description: 'The key set.', body: jwks, headers: ['Cache-Control'] }],
  },
  {
    method: 'post',
    path: '/api/v1/identity/logout',
    operationId: 'logOut',
    tag,
    summary: 'Sign out',
    description: "Revokes the token's id until it expires.",
    audience: 'signed-in',
    command: true,
    answers: [{ status: 204, description: 'Signed out.', headers: ['X-Event-Position'] }],
    refusals: { 404: [`${quoted(messages.notFound)}: the token's user does not exist`] },
  },
  {
    method: 'get',
    path: '/api/v1/identity/profile',
    operationId: 'profile',
    tag,
    summary: "The caller's profile",
    audience: 'signed-in',
    answers: [{ status: 200, description: 'The profile.', body: user }],
    refusals: {
      404: [`${quoted(messages.notFound)}: the registration is not in the read models yet (read your own writes)`],
    },
  },
  {
    method: 'put',
    path: '/api/v1/identity/profile',
    operationId: 'updateProfile',
    tag,
    summary: "Change the caller's name and phone",
    audience: 'signed-in',
    requestBody: updateProfileBody,
    command: true,
    answers: [{ status: 200, description: 'The profile as changed.', body: user, headers: ['X-Event-Position'] }],
    refusals: { 404: [`${quoted(messages.notFound)}: the user does not exist`] },
  },
];
