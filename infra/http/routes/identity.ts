/** /api/v1/identity/* and the JWKS. */
import Router from '@koa/router';
import { logIn, logOut, registerUser, updateProfile, upgradePasswordHash } from '../../../command-handlers/identity.js';
import { changePassword, forgetUser, signOutEverywhere } from '../../../command-handlers/self-service.js';
import type { Logger } from '../../log/log.js';
import { getProfile } from '../../../read-api/identity.js';
import type { AuthState } from '../auth.js';
import { HttpError } from '../errors.js';
import { httpMessages } from '../messages.js';
import { announcePosition } from '../read-your-writes.js';
import {
  changePasswordBody,
  deleteProfileBody,
  loginBody,
  registerBody,
  updateProfileBody,
  type AccessToken,
  type Jwks,
  type User,
} from '../schemas/identity.js';
import { validate } from '../validation.js';
import { bodyOf, metadataOf, type ApiServices } from './context.js';

export function publicIdentityRoutes(services: ApiServices): Router {
  const router = new Router();
  router.post('/api/v1/identity/register', async (ctx) => {
    const body = validate(registerBody, bodyOf(ctx));
    const { user, position } = await registerUser(services, { ...body, phone: body.phone ?? null }, metadataOf(ctx));
    announcePosition(ctx, position);
    ctx.status = 201;
    ctx.body = user satisfies User;
  });
  router.post('/api/v1/identity/login', async (ctx) => {
    const { email, password } = validate(loginBody, bodyOf(ctx));
    const found = await logIn(services, email, password);
    try {
      await upgradePasswordHash(services, found, password, metadataOf(ctx));
    } catch (error) {
      // The sign-in stands; the next one tries again (the old hash still verifies).
      (ctx.state.log as Logger | undefined)?.warn(
        { err: error, userId: found.userId },
        'could not store a stronger hash of the password; the next sign-in tries again',
      );
    }
    const { accessToken } = await services.tokens.issue({
      userId: found.userId!,
      email: found.email!,
      role: found.role!,
      sessions: found.sessions,
    });
    ctx.body = { accessToken } satisfies AccessToken;
  });
  router.get('/.well-known/jwks.json', async (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = (await services.tokens.jwks()) satisfies Jwks;
  });
  return router;
}

export function identityRoutes(services: ApiServices): Router<AuthState> {
  const router = new Router<AuthState>();
  router.post('/api/v1/identity/logout', async (ctx) => {
    const { userId, jti, exp } = ctx.state.caller;
    const expiresAt = new Date(exp * 1000);
    services.rememberSignedOut(jti, expiresAt);
    const { position } = await logOut(services, userId, jti, expiresAt, metadataOf(ctx));
    announcePosition(ctx, position);
    ctx.status = 204;
  });
  router.get('/api/v1/identity/profile', async (ctx) => {
    const profile = await getProfile(services.readStore, ctx.state.caller.userId);
    if (!profile) throw new HttpError(404, httpMessages.notFound);
    ctx.body = profile satisfies User;
  });
  router.put('/api/v1/identity/profile', async (ctx) => {
    const body = validate(updateProfileBody, bodyOf(ctx));
    const { user, position } = await updateProfile(
      services,
      ctx.state.caller.userId,
      { ...body, phone: body.phone ?? null },
      metadataOf(ctx),
    );
    announcePosition(ctx, position);
    ctx.body = user satisfies User;
  });
  selfServiceRoutes(router, services);
  return router;
}

/** Changing the password, signing out everywhere, deleting the account: each ends every token of the caller's. */
function selfServiceRoutes(router: Router<AuthState>, services: ApiServices): void {
  router.put('/api/v1/identity/password', async (ctx) => {
    const body = validate(changePasswordBody, bodyOf(ctx));
    const caller = ctx.state.caller;
    const { sessions, position } = await changePassword(services, caller.userId, body, metadataOf(ctx));
    services.rememberSessionsEnded(caller.userId, sessions);
    const { accessToken } = await services.tokens.issue({ ...caller, sessions });
    announcePosition(ctx, position);
    ctx.body = { accessToken } satisfies AccessToken;
  });
  router.post('/api/v1/identity/logout-all', async (ctx) => {
    const { userId } = ctx.state.caller;
    const { sessions, position } = await signOutEverywhere(services, userId, metadataOf(ctx));
    services.rememberSessionsEnded(userId, sessions);
    announcePosition(ctx, position);
    ctx.status = 204;
  });
  router.delete('/api/v1/identity/profile', async (ctx) => {
    const { password } = validate(deleteProfileBody, bodyOf(ctx));
    const { userId } = ctx.state.caller;
    const { sessions, position } = await forgetUser(services, userId, password, metadataOf(ctx));
    services.rememberSessionsEnded(userId, sessions);
    announcePosition(ctx, position);
    ctx.status = 204;
  });
}
