import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { errorBodies } from './errors.js';
import { probeRoutes, type Dependency } from './probes.js';

export interface HttpAppOptions {
  dependencies: Dependency[];
  logError(error: unknown): void;
}

export function createHttpApp(options: HttpAppOptions): Koa {
  const app = new Koa();
  // Errors are answered by `errorBodies`; Koa's own handler would print them a second time.
  app.silent = true;
  app.use(errorBodies(options.logError));
  const probes = probeRoutes(options.dependencies);
  app.use(probes.routes()).use(probes.allowedMethods());
  return app;
}

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `timeoutMs`), then cuts what is left. */
  close(timeoutMs: number): Promise<void>;
}

export async function listen(app: Koa, port: number, host: string): Promise<RunningServer> {
  const server = createServer(app.callback());
  let closing = false;
  // Responses not yet sent: told to close their connection once shutdown starts, so a
  // keep-alive client cannot hold the server open (or send more requests) after it.
  const unanswered = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) res.shouldKeepAlive = false;
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const res of unanswered) if (!res.headersSent) res.shouldKeepAlive = false;
        const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Keep-alive connections with no request in flight would hold `close` open for nothing.
        server.closeIdleConnections();
      }),
  };
}
