import type { Middleware } from 'koa';

/**
 * An error the client caused or may see, with its HTTP status. Everything else is a bug:
 * logged with its stack and answered with a 500 that reveals nothing.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Every error leaves as `{ code, message }` JSON (plus problem-details members). */
export function errorBodies(log: (error: unknown) => void): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // The router answers 404/405/501 without a body: give those the same JSON shape.
      if (ctx.status >= 400 && ctx.body == null) throw new HttpError(ctx.status, ctx.status === 404 ? 'Not found' : ctx.message);
    } catch (error) {
      const known = toHttpError(error);
      if (!known) log(error);
      const status = known?.status ?? 500;
      const message = known?.message ?? 'Internal server error';
      ctx.status = status;
      ctx.set(known?.headers ?? {});
      ctx.type = 'application/json';
      ctx.body = { code: status, message, status, title: message };
    }
  };
}

function toHttpError(error: unknown): HttpError | null {
  if (error instanceof HttpError) return error;
  // Errors koa and its body parsers raise for bad client input carry `expose` and a 4xx status.
  const candidate = error as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof candidate?.status === 'number' && candidate.status >= 400 && candidate.status < 500 && candidate.expose) {
    return new HttpError(candidate.status, String(candidate.message));
  }
  return null;
}
