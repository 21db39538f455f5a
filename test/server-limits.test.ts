/**
 * The HTTP server's limits (`HTTP_*` settings, infra/http/server.ts `listen`), which
 * address a request counts against (`TRUST_PROXY`), the bound on work such as password
 * hashing, and the settings' own checks.
 */
import { expect } from 'chai';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Context } from 'koa';
import { ConfigError, loadConfig } from '../infra/config/config.js';
import { WorkBound } from '../infra/http/overload/bounded-work.js';
import { clientAddress } from '../infra/http/overload/client-address.js';
import { createHttpApp, listen, type RunningServer } from '../infra/http/server.js';

/** Just what `clientAddress` reads of a request. */
function request(peer: string, forwardedFor?: string): Context {
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  // A stand-in for koa's Context: only these two members are read.
  return { req: { socket: { remoteAddress: peer } }, get: (name: string) => headers[name] ?? '' } as unknown as Context;
}

describe('overload limits below the routes', () => {
  describe('the client address', () => {
    it('is the peer, whatever X-Forwarded-For says, unless TRUST_PROXY says proxies append to it', () => {
      expect(clientAddress(request('::ffff:192.0.2.7', '198.51.100.1'), 0)).to.equal('192.0.2.7');
      expect(clientAddress(request('::1'), 0)).to.equal('::1');
    });

    it('is the Nth entry from the right with N trusted proxies (what the outermost one saw)', () => {
      const forwarded = 'forged, 198.51.100.1, 203.0.113.9';
      expect(clientAddress(request('192.0.2.7', forwarded), 1)).to.equal('203.0.113.9');
      expect(clientAddress(request('192.0.2.7', forwarded), 2)).to.equal('198.51.100.1');
      // Fewer entries than proxies: the leftmost there is.
      expect(clientAddress(request('192.0.2.7', '203.0.113.9'), 3)).to.equal('203.0.113.9');
      expect(clientAddress(request('192.0.2.7'), 1)).to.equal('192.0.2.7');
    });
  });

  describe('a bound on work', () => {
    it('runs at most N at once, lines up M more, refuses the rest at once and lets the line through in order', async () => {
      const bound = new WorkBound(2, 1, () => new Error('busy'));
      const releases: Array<() => void> = [];
      const order: number[] = [];
      const job = (n: number) =>
        bound.run(async () => {
          order.push(n);
          await new Promise<void>((resolve) => releases.push(resolve));
          return n;
        });
      const running = [job(1), job(2), job(3)];
      expect(await failureOf(job(4))).to.equal('busy');
      expect(bound.busy).to.deep.equal({ running: 2, waiting: 1 });
      expect(order).to.deep.equal([1, 2]);
      releases.shift()!();
      expect(await running[0]).to.equal(1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(order).to.deep.equal([1, 2, 3]);
      for (const release of releases.splice(0)) release();
      expect(await Promise.all(running)).to.deep.equal([1, 2, 3]);
      expect(bound.busy).to.deep.equal({ running: 0, waiting: 0 });
    });

    it('gives the slot back when the work fails', async () => {
      const bound = new WorkBound(1, 0, () => new Error('busy'));
      expect(await failureOf(bound.run(() => Promise.reject(new Error('boom'))))).to.equal('boom');
      expect(await bound.run(async () => 'next')).to.equal('next');
    });
  });

  describe('the server', () => {
    let server: RunningServer | undefined;
    const sockets: Socket[] = [];
    afterEach(async () => {
      for (const socket of sockets.splice(0)) socket.destroy();
      await server?.close(100);
      server = undefined;
    });

    it('takes its timeouts from the settings', async () => {
      server = await listen(createHttpApp({ dependencies: [], logError: () => undefined }), 0, '127.0.0.1', {
        headersTimeoutMs: 2_000,
        requestTimeoutMs: 3_000,
        keepAliveTimeoutMs: 1_500,
        maxConnections: 7,
      });
      expect(server.server.headersTimeout).to.equal(2_000);
      expect(server.server.requestTimeout).to.equal(3_000);
      expect(server.server.keepAliveTimeout).to.equal(1_500);
      expect(server.server.maxConnections).to.equal(7);
    });

    it('closes connections past HTTP_MAX_CONNECTIONS as they arrive, and takes new ones once there is room', async () => {
      server = await listen(createHttpApp({ dependencies: [], logError: () => undefined }), 0, '127.0.0.1', {
        maxConnections: 1,
      });
      const held = await opened(server.port);
      sockets.push(held);
      // The server closes the second connection without reading a request from it.
      const second = await opened(server.port);
      sockets.push(second);
      await new Promise((resolve) => second.once('close', resolve));
      held.destroy();
      let status: number | string = 'closed';
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = await healthOf(server.port);
      }
      expect(status).to.equal(200);
    });
  });

  describe('settings', () => {
    it('have defaults meant for production: limits on, proxies not trusted', () => {
      const config = loadConfig({});
      expect(config.rateLimitSignInPerAddress).to.be.greaterThan(0);
      expect(config.rateLimitSignInPerAccount).to.be.greaterThan(0);
      expect(config.rateLimitCommandsPerAddress).to.be.greaterThan(0);
      expect(config.rateLimitCommandsPerAccount).to.be.greaterThan(0);
      expect(config.trustProxy).to.equal(0);
      expect(config.httpRequestTimeoutMs).to.be.at.most(60_000);
      expect(config.httpMaxConnections).to.be.greaterThan(0);
    });

    it('refuse a headers timeout longer than the request timeout', () => {
      expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).to.throw(
        ConfigError,
        'HTTP_HEADERS_TIMEOUT_MS must not be more than HTTP_REQUEST_TIMEOUT_MS',
      );
    });
  });
});

function opened(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'fulfilled',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

/** The status of `GET /health` on a connection of its own, or `closed`. */
function healthOf(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 2_000 }, (answer) => {
      answer.resume();
      resolve(answer.statusCode ?? 'none');
    });
    request.once('error', () => resolve('closed'));
    request.once('timeout', () => request.destroy());
  });
}
