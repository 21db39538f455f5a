/**
 * Each limit that sheds load (README, "Overload protection"), on a server with small
 * limits: the rate limits (429 with `Retry-After` and a problem body, nothing changed),
 * which address a request counts against (`TRUST_PROXY`), the bound on password hashes
 * and on a stream's command queue (503), and read-your-writes refusing a position past
 * the log (400) and too many waits at once (503). The client addresses are strings in
 * `X-Forwarded-For` (TEST-NET-3, 203.0.113.0/24): every request goes to 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { httpMessages } from '../../infra/http/messages.js';
import type { ProjectionRunner } from '../../infra/eventsourcing/subscriptions/runner.js';
import { startApiServer, type ApiServer } from '../support/api-server.js';
import { Client, itHttp, positionOf, uniqueEmail, type Answer } from './client.js';

const PASSWORD = 'secret-password';
let nextAddress = 1;
/** A client address no other test uses. */
const newAddress = () => `203.0.113.${nextAddress++}`;
const from = (address: string) => ({ 'x-forwarded-for': address });

/** A 429 or 503 as the contract says: `Retry-After` in whole seconds, the problem body with the exact text. */
function expectShed(answer: Answer, status: 429 | 503, message: string): void {
  expect(answer.status, answer.text).to.equal(status);
  expect(answer.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
  expect(Number(answer.headers.get('retry-after'))).to.be.at.most(60);
  expect(answer.body).to.deep.include({ code: status, status, message, detail: message, type: 'about:blank' });
  expect(answer.body.title).to.equal(status === 429 ? 'Too Many Requests' : 'Service Unavailable');
}

describe('HTTP overload protection', function () {
  this.timeout(120_000);
  let server: ApiServer;
  let api: Client;

  before(async () => {
    server = await startApiServer({
      env: {
        TRUST_PROXY: '1',
        RATE_LIMIT_SIGN_IN_PER_ADDRESS: '5',
        RATE_LIMIT_SIGN_IN_PER_ACCOUNT: '3',
        RATE_LIMIT_COMMANDS_PER_ADDRESS: '8',
        RATE_LIMIT_COMMANDS_PER_ACCOUNT: '4',
        PASSWORD_HASH_CONCURRENCY: '1',
        PASSWORD_HASH_QUEUE: '1',
        COMMAND_QUEUE_PER_STREAM: '1',
        READ_YOUR_WRITES_MAX_WAITS: '1',
        READ_YOUR_WRITES_TIMEOUT_MS: '30000',
      },
    });
    api = new Client(server.baseUrl);
  });
  after(() => server?.close());

  /** Registers (from one fresh address) and signs in (from another): two of the account's three sign-in tokens. */
  async function trader(): Promise<{ email: string; token: string }> {
    const email = uniqueEmail('shed');
    const fields = { email, password: PASSWORD, firstName: 'Shed', lastName: 'Test' };
    const registered = await api.post('/api/v1/identity/register', { json: fields, headers: from(newAddress()) });
    expect(registered.status, registered.text).to.equal(201);
    const login = await api.post('/api/v1/identity/login', {
      json: { email, password: PASSWORD },
      headers: from(newAddress()),
    });
    expect(login.status, login.text).to.equal(200);
    return { email, token: login.body.accessToken as string };
  }

  const deposit = (token: string, address: string, amount = 10) =>
    api.post('/api/v1/billing/account/deposit', {
      token,
      json: { amount },
      headers: { ...from(address), 'idempotency-key': randomUUID() },
    });

  describe('rate limits', () => {
    itHttp('sign-ins naming one account past its limit: 429 for every address, other accounts unaffected', async () => {
      const victim = await trader();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await api.login(victim.email, 'wrong-password')).status);
      const refused = await api.post('/api/v1/identity/login', {
        json: { email: victim.email.toUpperCase(), password: PASSWORD },
        headers: from(newAddress()),
      });
      // Registration and sign-in took two of the three; the first wrong password the third.
      expect(statuses).to.deep.equal([401, 429, 429]);
      expectShed(refused, 429, httpMessages.tooManyRequests);
      await trader();
    });

    itHttp(
      'registrations from one address past its limit: 429, nothing registered; another address goes on',
      async () => {
        const address = newAddress();
        const emails = Array.from({ length: 6 }, () => uniqueEmail('flood'));
        const answers: Answer[] = [];
        for (const email of emails)
          answers.push(
            await api.post('/api/v1/identity/register', {
              json: { email, password: PASSWORD, firstName: 'F', lastName: 'L' },
              headers: from(address),
            }),
          );
        expect(answers.map((a) => a.status)).to.deep.equal([201, 201, 201, 201, 201, 429]);
        expectShed(answers[5]!, 429, httpMessages.tooManyRequests);
        const refusedEmail = emails[5]!;
        const signIn = await api.post('/api/v1/identity/login', {
          json: { email: refusedEmail, password: PASSWORD },
          headers: from(newAddress()),
        });
        expect(signIn.status, 'the refused registration created no user').to.equal(401);
        const elsewhere = await api.post('/api/v1/identity/register', {
          json: { email: refusedEmail, password: PASSWORD, firstName: 'F', lastName: 'L' },
          headers: from(newAddress()),
        });
        expect(elsewhere.status, elsewhere.text).to.equal(201);
      },
    );

    itHttp('X-Forwarded-For counts from the right: what a client writes further left is not its address', async () => {
      const proxySaw = newAddress();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const answer = await api.post('/api/v1/identity/register', {
          json: { email: uniqueEmail('spoof'), password: PASSWORD, firstName: 'F', lastName: 'L' },
          headers: { 'x-forwarded-for': `198.51.100.${i}, ${proxySaw}` },
        });
        statuses.push(answer.status);
      }
      expect(statuses).to.deep.equal([201, 201, 201, 201, 201, 429]);
    });

    itHttp("one account's commands past its limit: 429, the balance holds only the commands taken", async () => {
      const { token } = await trader();
      const answers: Answer[] = [];
      for (let i = 0; i < 6; i++) answers.push(await deposit(token, newAddress()));
      expect(answers.map((a) => a.status)).to.deep.equal([204, 204, 204, 204, 429, 429]);
      const refused = await deposit(token, newAddress());
      expectShed(refused, 429, httpMessages.tooManyRequests);
      const balance = await api.balance(token, positionOf(answers[3]!));
      expect(balance.amount).to.equal(40);
    });

    itHttp("one address's commands past its limit: 429 for every account there, not elsewhere", async () => {
      const shared = newAddress();
      const [first, second, third] = [await trader(), await trader(), await trader()];
      const statuses: number[] = [];
      for (const { token } of [first, second])
        for (let i = 0; i < 4; i++) statuses.push((await deposit(token, shared)).status);
      expect(statuses).to.deep.equal(Array(8).fill(204));
      expectShed(await deposit(third.token, shared), 429, httpMessages.tooManyRequests);
      expect((await deposit(third.token, newAddress())).status).to.equal(204);
    });

    itHttp('queries are not rate-limited', async () => {
      const { token } = await trader();
      for (let i = 0; i < 12; i++) expect((await api.account(token)).status).to.equal(200);
    });
  });

  describe('bounded work', () => {
    itHttp('password hashes past the bound and its line: 503 with Retry-After at once', async () => {
      const original = server.system.services.passwords;
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      server.system.services.passwords = {
        ...original,
        verify: async (password, stored) => {
          await held;
          return original.verify(password, stored);
        },
      };
      try {
        // Unknown emails are checked against a decoy hash, as long as a real one.
        const logins = [0, 1, 2].map(() =>
          api.post('/api/v1/identity/login', {
            json: { email: uniqueEmail('nobody'), password: PASSWORD },
            headers: from(newAddress()),
          }),
        );
        // One hashes, one waits in line: the third is refused before the held ones answer.
        const first = await Promise.race(logins);
        expectShed(first, 503, httpMessages.hashingBusy);
        release();
        const all = await Promise.all(logins);
        expect(all.map((a) => a.status).sort()).to.deep.equal([401, 401, 503]);
      } finally {
        release();
        server.system.services.passwords = original;
      }
    });

    itHttp("commands past a stream's queue cap: 503 with Retry-After, the others applied once", async () => {
      const { token } = await trader();
      const store = server.system.services.eventStore;
      const append = store.appendToStream.bind(store);
      let applied: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      store.appendToStream = async (...args) => {
        await held;
        return append(...args);
      };
      try {
        // One command is being decided (its append held), one waits in line: the third finds the line full.
        const deposits = [0, 1, 2].map(() => deposit(token, newAddress()));
        const first = await Promise.race(deposits);
        expectShed(first, 503, httpMessages.streamBusy);
        release();
        const all = await Promise.all(deposits);
        expect(all.map((a) => a.status).sort()).to.deep.equal([204, 204, 503]);
        applied = all.filter((a) => a.status === 204).map(positionOf);
      } finally {
        release();
        store.appendToStream = append;
      }
      // The later of the two appends (positions of one store compare as numbers here or as commit-prepare).
      const last = applied.sort((a, b) => Number(BigInt(a.split('-')[0]!) - BigInt(b.split('-')[0]!))).at(-1);
      expect((await api.balance(token, last)).amount).to.equal(20);
    });
  });

  describe('read-your-writes', () => {
    itHttp('a position past the end of the event store: 400 at once', async () => {
      const answer = await api.get('/api/v1/statistics/top10?minPosition=999999999999');
      expect(answer.status, answer.text).to.equal(400);
      expect(answer.body.message).to.equal(httpMessages.positionAhead);
      const { token } = await trader();
      const header = await api.get('/api/v1/billing/account', {
        token,
        headers: { 'x-event-position': '18446744073709551615' },
      });
      expect(header.status, header.text).to.equal(400);
    });

    itHttp('more waits than allowed at once: 503; the wait held answers once the read model moves', async () => {
      const { token } = await trader();
      const billing = server.system.runners.find((r) => r.handler.name === 'billing') as ProjectionRunner;
      await billing.stop();
      let restarted = false;
      try {
        const position = positionOf(await deposit(token, newAddress()));
        const reads = [0, 1].map(() => api.account(token, position));
        const first = await Promise.race(reads);
        expectShed(first, 503, httpMessages.tooManyWaits);
        billing.start();
        restarted = true;
        const all = await Promise.all(reads);
        expect(all.map((a) => a.status).sort()).to.deep.equal([200, 503]);
        expect(all.find((a) => a.status === 200)!.body.amount).to.equal(10);
      } finally {
        if (!restarted) billing.start();
      }
    });
  });
});
