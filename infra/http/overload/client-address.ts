/**
 * Who a request comes from, for the rate limits. The connection's peer, unless `TRUST_PROXY`
 * says how many reverse proxies stand in front: each appends the address it saw to
 * `X-Forwarded-For`, so the Nth entry from the right is what the outermost of them saw.
 * Entries further left are the client's own to write, and never trusted.
 */
import type { Context } from 'koa';

export function clientAddress(ctx: Context, trustedProxies: number): string {
  const peer = normalised(ctx.req.socket.remoteAddress ?? 'unknown');
  if (trustedProxies === 0) return peer;
  const forwarded = ctx
    .get('x-forwarded-for')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  // The last proxy is the peer itself; each one before it appended one entry.
  const chain = [...forwarded, peer];
  return normalised(chain[Math.max(0, chain.length - 1 - trustedProxies)]!);
}

/** An IPv4 address as the IPv6 socket shows it (`::ffff:10.0.0.1`) is the IPv4 address. */
function normalised(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
