/**
 * A load test of the overload protection: one client address floods sign-ins (wrong
 * passwords for someone else's account) and commands, while a client at another address
 * deposits as usual. Bounded in requests (a few hundred, 16 at a time), it asserts on
 * outcomes, not on timings: the flood is shed (429) and changes nothing it was refused,
 * and every one of the other client's deposits succeeds and is counted once. The server
 * keeps the production defaults for sign-ins; its command limits are set low so that a
 * short flood reaches them. Addresses are `X-Forwarded-For` strings (`TRUST_PROXY=1`);
 * every request goes to 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { startApiServer, type ApiServer } from '../support/api-server.js';
import { Client, itHttp, positionOf, uniqueEmail, type Answer } from './client.js';

const PASSWORD = 'secret-password';
const FLOODER = '203.0.113.200';
const HONEST = '203.0.113.201';
const COMMANDS_PER_MINUTE = 60;

describe('HTTP overload protection under a flood from one address', function () {
  this.timeout(180_000);
  let server: ApiServer;
  let api: Client;

  before(async () => {
    server = await startApiServer({
      env: {
        TRUST_PROXY: '1',
        // Sign-ins at the production defaults (api-server.ts lifts them for the other suites).
        RATE_LIMIT_SIGN_IN_PER_ADDRESS: '',
        RATE_LIMIT_SIGN_IN_PER_ACCOUNT: '',
        PASSWORD_HASH_QUEUE: '',
        RATE_LIMIT_COMMANDS_PER_ADDRESS: String(COMMANDS_PER_MINUTE),
        RATE_LIMIT_COMMANDS_PER_ACCOUNT: String(COMMANDS_PER_MINUTE),
      },
    });
    api = new Client(server.baseUrl);
  });
  after(() => server?.close());

  async function trader(address: string): Promise<{ email: string; token: string }> {
    const email = uniqueEmail('load');
    const headers = { 'x-forwarded-for': address };
    const fields = { email, password: PASSWORD, firstName: 'Load', lastName: 'Test' };
    const registered = await api.post('/api/v1/identity/register', { json: fields, headers });
    expect(registered.status, registered.text).to.equal(201);
    const login = await api.post('/api/v1/identity/login', { json: { email, password: PASSWORD }, headers });
    expect(login.status, login.text).to.equal(200);
    return { email, token: login.body.accessToken as string };
  }

  const deposit = (token: string, address: string, amount: number) =>
    api.post('/api/v1/billing/account/deposit', {
      token,
      json: { amount },
      headers: { 'x-forwarded-for': address, 'idempotency-key': randomUUID() },
    });

  /** `count` requests, `concurrency` at a time; every answer's status. */
  async function flood(count: number, concurrency: number, send: () => Promise<Answer>): Promise<number[]> {
    const statuses: number[] = [];
    let sent = 0;
    const worker = async () => {
      while (sent < count) {
        sent++;
        statuses.push((await send()).status);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return statuses;
  }

  const tally = (statuses: number[]) => {
    const counts: Record<number, number> = {};
    for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  };

  itHttp("sheds the flood while the other address's deposits all succeed, each counted once", async () => {
    const victim = await trader(HONEST);
    const flooder = await trader(FLOODER);
    const honest = await trader(HONEST);
    const started = Date.now();
    const [logins, commands, deposits] = await Promise.all([
      flood(150, 16, () =>
        api.post('/api/v1/identity/login', {
          json: { email: victim.email, password: 'wrong-password' },
          headers: { 'x-forwarded-for': FLOODER },
        }),
      ),
      flood(200, 16, () => deposit(flooder.token, FLOODER, 1)),
      flood(25, 1, () => deposit(honest.token, HONEST, 10)),
    ]);

    // Buckets refill while the flood lasts: a token a second for commands, one every 6 s for the victim's sign-ins.
    const seconds = Math.ceil((Date.now() - started) / 1000);
    const signIns = tally(logins);
    expect(Object.keys(signIns).map(Number).sort(), JSON.stringify(signIns)).to.satisfy((seen: number[]) =>
      seen.every((s) => s === 401 || s === 429 || s === 503),
    );
    expect(signIns[429], 'sign-ins refused by the rate limit').to.be.greaterThan(0);
    // The victim's account allows 10 a minute, its registration took one.
    expect(signIns[401] ?? 0, 'wrong passwords checked').to.be.at.most(9 + Math.ceil(seconds / 6));

    const flooded = tally(commands);
    expect(Object.keys(flooded).map(Number), JSON.stringify(flooded)).to.satisfy((seen: number[]) =>
      seen.every((s) => s === 204 || s === 429 || s === 503),
    );
    expect(flooded[429], 'commands refused by the rate limit').to.be.greaterThan(0);
    expect(flooded[204] ?? 0, 'commands taken').to.be.at.most(COMMANDS_PER_MINUTE + seconds);

    expect(tally(deposits), 'the other address deposits as usual').to.deep.equal({ 204: 25 });
    // Read once the read models have taken in everything so far (a deposit of 0 is refused, so read with a fresh position).
    const marker = await deposit(honest.token, HONEST, 10);
    expect(marker.status, marker.text).to.equal(204);
    const position = positionOf(marker);
    expect((await api.balance(honest.token, position)).amount).to.equal(260);
    expect((await api.balance(flooder.token, position)).amount, 'only the commands taken moved money').to.equal(
      flooded[204] ?? 0,
    );
  });
});
