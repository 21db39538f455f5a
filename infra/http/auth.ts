/**
 * Who is calling: a Bearer access token, verified (signature, alg, iss, aud, exp) and
 * checked against the signed-out tokens and the user's ended sessions (a password change,
 * a sign-out everywhere, a deleted account). Missing, forged, expired or signed-out → 401;
 * a valid token without the needed role → 403.
 */
import type { Middleware, ParameterizedContext } from 'koa';
import type { Role } from '../../domain/identity/events.js';
import { InvalidToken, type AccessClaims, type TokenService } from '../auth/tokens.js';
import { HttpError } from './errors.js';
import { httpMessages } from './messages.js';

export interface SignedOutTokens {
  /** Whether the token was signed out, or issued before its user's sessions were last ended. */
  isSignedOut(token: Pick<AccessClaims, 'jti' | 'userId' | 'sessions'>): Promise<boolean>;
}

export interface AuthState {
  caller: AccessClaims;
  accessToken: string;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]+)$/;

export function authenticate(tokens: TokenService, signedOut: SignedOutTokens): Middleware<AuthState> {
  return async (ctx, next) => {
    const match = BEARER.exec(ctx.get('authorization').trim());
    if (!match) throw unauthorized(httpMessages.unauthorized);
    let caller: AccessClaims;
    try {
      caller = await tokens.verify(match[1]!);
    } catch (error) {
      if (error instanceof InvalidToken) throw unauthorized(`${httpMessages.unauthorized} (${error.reason})`);
      throw error;
    }
    if (await signedOut.isSignedOut(caller)) throw unauthorized(httpMessages.tokenRevoked);
    ctx.state.caller = caller;
    ctx.state.accessToken = match[1]!;
    await next();
  };
}

export function requireRole(...allowed: Role[]): Middleware<AuthState> {
  return async (ctx, next) => {
    if (!allowed.includes(ctx.state.caller.role)) throw new HttpError(403, httpMessages.operationDenied);
    await next();
  };
}

export function callerOf(ctx: ParameterizedContext<AuthState>): AccessClaims {
  return ctx.state.caller;
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, message, { 'WWW-Authenticate': 'Bearer' });
}
