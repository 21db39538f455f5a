/**
 * Identity over HTTP, on a real listening server (embedded and EventStoreDB stores):
 * register, login, JWKS, profile, logout, and the account every registration opens.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from 'jose';
import { loadSigningKeys } from '../../infra/auth/keys.js';
import { createTokenService } from '../../infra/auth/tokens.js';
import { formatPosition } from '../../infra/eventsourcing/event-store/position.js';
import { BROKER, startApiServer, type ApiServer } from '../support/api-server.js';
import {
  withApiServer,
  Client,
  eventStores,
  SHARED_SERVER_ENV,
  expectError,
  expectViolation,
  ISO_UTC,
  itHttp,
  positionOf,
  uniqueEmail,
  UUID,
  type Trader,
} from './client.js';

const USER_FIELDS = ['createdAt', 'email', 'firstName', 'id', 'lastName', 'phone', 'role', 'updatedAt'];
const WRONG_CREDENTIALS = 'email or password is incorrect';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

for (const eventStore of eventStores) {
  describe(`HTTP identity (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let server: ApiServer;
    let api: Client;
    withApiServer(eventStore, (started, client) => {
      server = started;
      api = client;
    });

    const valid = () => ({ email: uniqueEmail(), password: 'secret-password', firstName: 'Ada', lastName: 'Lovelace' });

    describe('register', () => {
      itHttp('answers 201 with exactly the User fields, role trader, phone null when not given', async () => {
        const fields = valid();
        const answer = await api.register(fields);
        expect(answer.status, answer.text).to.equal(201);
        expect(Object.keys(answer.body).sort()).to.deep.equal(USER_FIELDS);
        expect(answer.body).to.include({
          email: fields.email,
          role: 'trader',
          firstName: 'Ada',
          lastName: 'Lovelace',
          phone: null,
        });
        expect(answer.body.id).to.match(UUID);
        expect(answer.body.createdAt).to.match(ISO_UTC);
        expect(answer.body.updatedAt).to.match(ISO_UTC);
        expect(answer.text).to.not.match(/password|hash/i);
        positionOf(answer);
      });

      itHttp('keeps the optional phone', async () => {
        const answer = await api.register({ ...valid(), phone: '+1 (555) 123-4567' });
        expect(answer.status, answer.text).to.equal(201);
        expect(answer.body.phone).to.equal('+1 (555) 123-4567');
      });

      itHttp('refuses a duplicate email, also in another case, with the exact message', async () => {
        const fields = valid();
        expect((await api.register(fields)).status).to.equal(201);
        const same = await api.register({ ...fields, firstName: 'Other' });
        expectError(same, 422, `user with email "${fields.email}" already exists`);
        const upper = fields.email.toUpperCase();
        const other = await api.register({ ...valid(), email: upper });
        expectError(other, 422, `user with email "${upper}" already exists`);
        const padded = await api.register({ ...valid(), email: `  ${fields.email}  ` });
        expectError(padded, 422, `user with email "${fields.email}" already exists`);
      });

      itHttp('lets exactly one of 5 concurrent registrations of one email succeed', async () => {
        const email = uniqueEmail();
        const answers = await Promise.all(
          [0, 1, 2, 3, 4].map((i) => api.register({ ...valid(), email: i % 2 ? email.toUpperCase() : email })),
        );
        expect(answers.map((a) => a.status).sort()).to.deep.equal([201, 422, 422, 422, 422]);
        for (const a of answers.filter((x) => x.status === 422))
          expect(a.body.message).to.match(/^user with email ".*" already exists$/);
      });

      describe('validation (422 naming the field)', () => {
        const cases: Array<[string, Record<string, unknown>, string, string?]> = [
          ['email without @', { email: 'not-an-email' }, 'email', 'This value is not a valid email address.'],
          ['email without domain', { email: 'user@' }, 'email'],
          ['email too short', { email: 'a@b' }, 'email'],
          ['email of 101 characters', { email: `${'a'.repeat(64)}@${'b'.repeat(32)}.com` }, 'email'],
          ['email of the wrong type', { email: 12345 }, 'email', 'This value should be of type string.'],
          ['email missing', { email: undefined }, 'email', 'This field is missing.'],
          [
            'password of 4 characters',
            { password: '1234' },
            'password',
            'This value is too short. It should have 5 characters or more.',
          ],
          [
            'password of 129 characters',
            { password: 'p'.repeat(129) },
            'password',
            'This value is too long. It should have 128 characters or less.',
          ],
          ['password missing', { password: undefined }, 'password', 'This field is missing.'],
          ['password null', { password: null }, 'password'],
          [
            'empty first name',
            { firstName: '' },
            'firstName',
            'This value is too short. It should have 1 characters or more.',
          ],
          ['blank first name', { firstName: '   ' }, 'firstName'],
          [
            'first name of 101 characters',
            { firstName: 'f'.repeat(101) },
            'firstName',
            'This value is too long. It should have 100 characters or less.',
          ],
          ['first name missing', { firstName: undefined }, 'firstName', 'This field is missing.'],
          ['empty last name', { lastName: '' }, 'lastName'],
          ['last name of 101 characters', { lastName: 'l'.repeat(101) }, 'lastName'],
          ['last name missing', { lastName: undefined }, 'lastName', 'This field is missing.'],
          ['last name a number', { lastName: 42 }, 'lastName', 'This value should be of type string.'],
          ['phone with letters', { phone: 'call me' }, 'phone'],
          ['an unknown field', { nickname: 'x' }, 'nickname', 'This field was not expected.'],
          ['a role chosen by the client', { role: 'broker' }, 'role', 'This field was not expected.'],
          ['an id chosen by the client', { id: randomUUID() }, 'id', 'This field was not expected.'],
        ];
        for (const [title, change, field, detail] of cases) {
          itHttp(`${title} → 422 at '${field}', and the email stays free`, async () => {
            const fields: Record<string, unknown> = { ...valid(), ...change };
            for (const key of Object.keys(change)) if (change[key] === undefined) delete fields[key];
            const answer = await api.register(fields);
            expectViolation(answer, field, detail);
            if (typeof fields.email === 'string' && fields.email.includes('@market.test')) {
              const again = await api.register({ ...valid(), email: fields.email });
              expect(again.status, `the refused registration left ${fields.email} free: ${again.text}`).to.equal(201);
            }
          });
        }

        itHttp('names every violated field at once', async () => {
          const answer = await api.register({ email: 'x', password: '1', firstName: '' });
          expectError(answer, 422);
          for (const field of ['email', 'password', 'firstName', 'lastName'])
            expect(answer.body.message).to.include(`violation at '${field}': `);
        });

        itHttp(
          'accepts the boundaries: email of 100 characters, password of 5 and 128, names of 1 and 100',
          async () => {
            const email = `${randomUUID().replace(/-/g, '')}${'a'.repeat(32)}@${'b'.repeat(31)}.com`;
            expect(email).to.have.length(100);
            const long = await api.register({
              email,
              password: 'p'.repeat(128),
              firstName: 'f'.repeat(100),
              lastName: 'l'.repeat(100),
            });
            expect(long.status, long.text).to.equal(201);
            expect((await api.login(email, 'p'.repeat(128))).status).to.equal(200);
            const short = await api.register({
              email: uniqueEmail(),
              password: '12345',
              firstName: 'F',
              lastName: 'L',
            });
            expect(short.status, short.text).to.equal(201);
            expect(short.body).to.include({ firstName: 'F', lastName: 'L' });
          },
        );
      });
    });

    describe('login', () => {
      let trader: Trader;
      beforeEach(async () => {
        trader = await api.newTrader();
      });

      itHttp('answers 200 { accessToken } with the claims and header of the contract', async () => {
        const answer = await api.login(trader.email, trader.password);
        expect(answer.status, answer.text).to.equal(200);
        expect(Object.keys(answer.body)).to.deep.equal(['accessToken']);
        const token = answer.body.accessToken as string;
        const payload = decodeJwt(token);
        for (const claim of ['sub', 'userId', 'email', 'role', 'iat', 'exp', 'iss', 'jti'])
          expect(payload, `claim ${claim}`).to.have.property(claim);
        expect(payload).to.include({ sub: trader.id, userId: trader.id, email: trader.email, role: 'trader' });
        expect(payload.exp! - payload.iat!).to.equal(24 * 3600);
        expect(Math.abs(payload.iat! - Date.now() / 1000)).to.be.below(60);
        const header = decodeProtectedHeader(token);
        expect(header.kid).to.be.a('string').and.not.equal('');
        expect(header.alg).to.not.equal('none');
      });

      itHttp('issues tokens the published JWKS verifies (jose createLocalJWKSet + jwtVerify)', async () => {
        const jwks = await api.get('/.well-known/jwks.json');
        expect(jwks.status).to.equal(200);
        expect(jwks.body.keys).to.be.an('array').that.is.not.empty;
        for (const key of jwks.body.keys) {
          expect(key).to.not.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi');
          expect(key.kid).to.be.a('string');
        }
        const token = (await api.login(trader.email, trader.password)).body.accessToken as string;
        const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks.body as JSONWebKeySet), {
          issuer: server.config.jwtIssuer,
        });
        expect(payload.sub).to.equal(trader.id);
        expect((jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid)).to.include(protectedHeader.kid);
        const jti1 = payload.jti;
        const again = decodeJwt((await api.login(trader.email, trader.password)).body.accessToken as string);
        expect(again.jti, 'every token has its own id').to.not.equal(jti1);
      });

      itHttp('is case-insensitive on the email', async () => {
        const answer = await api.login(trader.email.toUpperCase(), trader.password);
        expect(answer.status, answer.text).to.equal(200);
        expect(decodeJwt(answer.body.accessToken as string).sub).to.equal(trader.id);
      });

      itHttp('answers a wrong password and an unknown email with the same 401 text', async () => {
        const wrong = await api.login(trader.email, 'wrong-password');
        expectError(wrong, 401, WRONG_CREDENTIALS);
        const unknown = await api.login(uniqueEmail('nobody'), trader.password);
        expectError(unknown, 401, WRONG_CREDENTIALS);
        expect(unknown.body).to.deep.equal(wrong.body);
        const empty = await api.login(trader.email, '');
        expectError(empty, 401, WRONG_CREDENTIALS);
      });

      itHttp('refuses a login body that is not { email, password } strings with 4xx, never 200', async () => {
        expectViolation(
          await api.post('/api/v1/identity/login', { json: { email: trader.email } }),
          'password',
          'This field is missing.',
        );
        expectViolation(
          await api.post('/api/v1/identity/login', { json: { email: { $gt: '' }, password: { $gt: '' } } }),
          'email',
        );
        expectViolation(
          await api.post('/api/v1/identity/login', {
            json: { email: trader.email, password: trader.password, role: 'admin' },
          }),
          'role',
        );
        const malformed = await api.post('/api/v1/identity/login', {
          raw: '{"email":',
          contentType: 'application/json',
        });
        expectError(malformed, 400);
      });
    });

    describe('profile', () => {
      itHttp("GET answers the caller's User, the same as registration answered", async () => {
        const fields = { ...valid(), phone: '12345' };
        const registered = await api.register(fields);
        const token = (await api.login(fields.email, fields.password)).body.accessToken as string;
        const profile = await api.profile(token, positionOf(registered));
        expect(profile).to.deep.equal(registered.body);
      });

      itHttp('PUT changes names and phone, answers the User, and GET shows it', async () => {
        const trader = await api.newTrader();
        const before = await api.profile(trader.token, trader.position);
        const answer = await api.put('/api/v1/identity/profile', {
          token: trader.token,
          json: { firstName: 'Grace', lastName: 'Hopper', phone: '+44 20 7946 0958' },
        });
        expect(answer.status, answer.text).to.equal(200);
        expect(Object.keys(answer.body).sort()).to.deep.equal(USER_FIELDS);
        expect(answer.body).to.include({
          id: trader.id,
          email: trader.email,
          role: 'trader',
          firstName: 'Grace',
          lastName: 'Hopper',
          phone: '+44 20 7946 0958',
        });
        expect(answer.body.createdAt).to.equal(before.createdAt);
        expect(answer.body.updatedAt).to.match(ISO_UTC);
        expect(Date.parse(answer.body.updatedAt)).to.be.at.least(Date.parse(before.updatedAt));
        const after = await api.profile(trader.token, positionOf(answer));
        expect(after).to.deep.equal(answer.body);
        // phone can be cleared again
        const cleared = await api.put('/api/v1/identity/profile', {
          token: trader.token,
          json: { firstName: 'Grace', lastName: 'Hopper', phone: null },
        });
        expect(cleared.status, cleared.text).to.equal(200);
        expect(cleared.body.phone).to.equal(null);
      });

      itHttp('PUT refuses bad bodies with 422 naming the field and changes nothing', async () => {
        const trader = await api.newTrader({ firstName: 'Keep', lastName: 'Me' });
        const put = (json: unknown) => api.put('/api/v1/identity/profile', { token: trader.token, json });
        expectViolation(await put({ firstName: '', lastName: 'X' }), 'firstName');
        expectViolation(await put({ firstName: 'X' }), 'lastName', 'This field is missing.');
        expectViolation(await put({ firstName: 'X', lastName: 'l'.repeat(101) }), 'lastName');
        expectViolation(
          await put({ firstName: 'X', lastName: 'Y', email: 'other@market.test' }),
          'email',
          'This field was not expected.',
        );
        expectViolation(
          await put({ firstName: 'X', lastName: 'Y', role: 'admin' }),
          'role',
          'This field was not expected.',
        );
        expectViolation(
          await put({ firstName: 'X', lastName: 'Y', id: randomUUID() }),
          'id',
          'This field was not expected.',
        );
        expectViolation(await put({ firstName: 'X', lastName: 'Y', phone: 'abc' }), 'phone');
        expectError(
          await api.put('/api/v1/identity/profile', {
            token: trader.token,
            raw: '{"firstName":',
            contentType: 'application/json',
          }),
          400,
        );
        // unchanged: read after a later command's position (so anything the refused PUTs wrote would show)
        const later = await api.funded(trader.token, 1);
        const profile = await api.profile(trader.token, later);
        expect(profile).to.include({ firstName: 'Keep', lastName: 'Me', role: 'trader', email: trader.email });
      });
    });

    describe('logout', () => {
      itHttp('answers 204; the same token is then refused with 401 and a fresh login works', async () => {
        const trader = await api.newTrader();
        const other = (await api.login(trader.email, trader.password)).body.accessToken as string;
        const out = await api.post('/api/v1/identity/logout', { token: trader.token });
        expect(out.status, out.text).to.equal(204);
        expect(out.text).to.equal('');
        for (const path of ['/api/v1/identity/profile', '/api/v1/billing/account', '/api/v1/billing/operations']) {
          expectError(await api.get(path, { token: trader.token }), 401);
        }
        expectError(await api.post('/api/v1/identity/logout', { token: trader.token }), 401);
        expectError(await api.deposit(trader.token, 10), 401);
        // another token of the same user is not signed out
        expect((await api.get('/api/v1/identity/profile', { token: other })).status).to.equal(200);
        const fresh = await api.login(trader.email, trader.password);
        expect(fresh.status).to.equal(200);
        const profile = await api.get('/api/v1/identity/profile', { token: fresh.body.accessToken as string });
        expect(profile.status, profile.text).to.equal(200);
        expect(profile.body.id).to.equal(trader.id);
      });

      itHttp('a signed-out token stays refused after the read models caught up with the logout', async () => {
        const trader = await api.newTrader();
        const out = await api.post('/api/v1/identity/logout', { token: trader.token });
        expect(out.status).to.equal(204);
        const fresh = (await api.login(trader.email, trader.password)).body.accessToken as string;
        await api.profile(fresh, positionOf(out));
        expectError(await api.get('/api/v1/identity/profile', { token: trader.token }), 401);
      });
    });

    describe('the provisioned broker', () => {
      itHttp(
        'logs in with the configured credentials, gets role broker, and has a billing account like anyone',
        async () => {
          const login = await api.login(BROKER.email, BROKER.password);
          expect(login.status, login.text).to.equal(200);
          const token = login.body.accessToken as string;
          expect(decodeJwt(token)).to.include({ role: 'broker', email: BROKER.email });
          const head = await server.system.eventStore.headPosition();
          const profile = await api.profile(token, head ? formatPosition(head) : undefined);
          expect(profile).to.include({ role: 'broker', email: BROKER.email });
          const account = await api.account(token, head ? formatPosition(head) : undefined);
          expect(account.status, account.text).to.equal(200);
          expect(account.body.amount).to.be.a('number');
          expectError(await api.login(BROKER.email, 'not-the-broker-password'), 401, WRONG_CREDENTIALS);
          expectError(
            await api.register({
              email: BROKER.email.toUpperCase(),
              password: 'secret',
              firstName: 'A',
              lastName: 'B',
            }),
            422,
            `user with email "${BROKER.email.toUpperCase()}" already exists`,
          );
        },
      );
    });

    describe('registration opens the billing account', () => {
      itHttp("GET /billing/account after the registration's position answers 200, amount 0, an ETag", async () => {
        const fields = valid();
        const registered = await api.register(fields);
        const position = positionOf(registered);
        const token = (await api.login(fields.email, fields.password)).body.accessToken as string;
        const account = await api.account(token, position);
        expect(account.status, account.text).to.equal(200);
        expect(Object.keys(account.body).sort()).to.deep.equal(['amount', 'createdAt', 'id', 'updatedAt']);
        expect(account.body.amount).to.equal(0);
        expect(account.body.id).to.match(UUID);
        expect(account.body.createdAt).to.match(ISO_UTC);
        expect(account.headers.get('etag')).to.match(/^"\d+"$/);
        const operations = await api.operations(token, position);
        expect(operations.status).to.equal(200);
        expect(operations.body).to.deep.equal([]);
      });

      itHttp('every one of 5 users registered at once finds their own account right after', async () => {
        const all = await Promise.all([0, 1, 2, 3, 4].map(() => api.newTrader()));
        const accounts = await Promise.all(all.map((t) => api.account(t.token, t.position)));
        for (const account of accounts) expect(account.status, account.text).to.equal(200);
        expect(new Set(accounts.map((a) => a.body.id)).size).to.equal(5);
      });
    });

    describe('reading your own writes on a quiet store (no other traffic)', () => {
      let quiet: ApiServer;
      let quietApi: Client;
      beforeEach(async () => {
        quiet = await startApiServer({ eventStore, env: SHARED_SERVER_ENV });
        quietApi = new Client(quiet.baseUrl);
      });
      afterEach(async () => {
        await quiet?.close();
      });

      itHttp("GET /identity/profile with the registration's X-Event-Position answers 200 (not 503)", async () => {
        const fields = valid();
        const registered = await quietApi.register(fields);
        const token = (await quietApi.login(fields.email, fields.password)).body.accessToken as string;
        const profile = await quietApi.get('/api/v1/identity/profile', {
          token,
          headers: { 'x-event-position': positionOf(registered) },
        });
        expect(
          profile.status,
          `${profile.text} (runners: ${JSON.stringify(
            quiet.system.runners.map((r) => r.status()),
            (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v),
          )})`,
        ).to.equal(200);
      });

      itHttp(
        "GET /billing/account with a deposit's X-Event-Position answers 200 with the new balance (not 503)",
        async () => {
          const fields = valid();
          const registered = await quietApi.register(fields);
          const token = (await quietApi.login(fields.email, fields.password)).body.accessToken as string;
          const opened = await quietApi.account(token, positionOf(registered));
          const deposit = await quietApi.deposit(token, 10, { 'if-match': opened.headers.get('etag') ?? '"0"' });
          expect(deposit.status, deposit.text).to.equal(204);
          const account = await quietApi.account(token, positionOf(deposit));
          expect(
            account.status,
            `${account.text} (runners: ${JSON.stringify(
              quiet.system.runners.map((r) => r.status()),
              (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v),
            )})`,
          ).to.equal(200);
          expect(account.body.amount).to.equal(10);
        },
      );
    });

    describe('authentication', () => {
      let trader: Trader;
      beforeEach(async () => {
        trader = await api.newTrader();
      });

      const securedRoutes: Array<[string, string, unknown?]> = [
        ['GET', '/api/v1/identity/profile'],
        ['PUT', '/api/v1/identity/profile', { firstName: 'A', lastName: 'B' }],
        ['POST', '/api/v1/identity/logout'],
        ['GET', '/api/v1/billing/account'],
        ['POST', '/api/v1/billing/account/deposit', { amount: 10 }],
        ['POST', '/api/v1/billing/account/withdraw', { amount: 10 }],
        ['GET', '/api/v1/billing/operations'],
      ];

      const refusedEverywhere = async (authorization: string | undefined, why: string) => {
        for (const [method, path, json] of securedRoutes) {
          const headers: Record<string, string> = { 'idempotency-key': randomUUID() };
          if (authorization !== undefined) headers.authorization = authorization;
          const answer = await api.request(method, path, { headers, json });
          expect(answer.status, `${why}: ${method} ${path} → ${answer.text}`).to.equal(401);
          expectError(answer, 401);
        }
      };

      itHttp('no Authorization header → 401 JSON on every secured endpoint', async () => {
        await refusedEverywhere(undefined, 'no header');
        const answer = await api.get('/api/v1/billing/account');
        expect(answer.headers.get('www-authenticate')).to.match(/^Bearer/);
      });

      itHttp('malformed Authorization headers → 401', async () => {
        for (const value of [
          '',
          'Bearer',
          'Bearer ',
          'Bearer not-a-jwt',
          'Bearer a.b.c',
          `Basic ${Buffer.from('a:b').toString('base64')}`,
          trader.token,
          `Token ${trader.token}`,
          `Bearer ${trader.token}x`,
          `Bearer ${'a'.repeat(9000)}`,
        ]) {
          await refusedEverywhere(value, `Authorization: ${value.slice(0, 40)}`);
        }
      });

      itHttp('a token signed by another key (same kid) → 401', async () => {
        const kid = decodeProtectedHeader(trader.token).kid!;
        const { privateKey } = await generateKeyPair('RS256');
        const forged = await new SignJWT({ userId: trader.id, email: trader.email, role: 'admin' })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
          .setIssuer(server.config.jwtIssuer)
          .setAudience(server.config.jwtAudience)
          .setSubject(trader.id)
          .setIssuedAt()
          .setExpirationTime('1h')
          .setJti(randomUUID())
          .sign(privateKey);
        await refusedEverywhere(`Bearer ${forged}`, 'forged signature');
      });

      itHttp('a real token with its payload tampered (exp pushed, role raised) → 401', async () => {
        const [header, payload, signature] = trader.token.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
        const later = base64url({ ...claims, exp: Number(claims.exp) + 3600 * 24 * 365 });
        await refusedEverywhere(`Bearer ${header}.${later}.${signature}`, 'tampered exp');
        const admin = base64url({ ...claims, role: 'admin' });
        await refusedEverywhere(`Bearer ${header}.${admin}.${signature}`, 'tampered role');
      });

      itHttp('alg none → 401', async () => {
        const claims = decodeJwt(trader.token);
        const kid = decodeProtectedHeader(trader.token).kid;
        const none = `${base64url({ alg: 'none', typ: 'JWT', kid })}.${base64url(claims)}.`;
        await refusedEverywhere(`Bearer ${none}`, 'alg none');
        const noneWithSignature = `${base64url({ alg: 'none', typ: 'JWT', kid })}.${base64url(claims)}.${trader.token.split('.')[2]}`;
        await refusedEverywhere(`Bearer ${noneWithSignature}`, 'alg none with a signature');
      });

      itHttp("HS256 keyed with the server's public key (alg confusion) → 401", async () => {
        const jwks = (await api.get('/.well-known/jwks.json')).body as JSONWebKeySet;
        const { createPublicKey } = await import('node:crypto');
        const publicKey = createPublicKey({ key: jwks.keys[0] as import('node:crypto').JsonWebKey, format: 'jwk' });
        const claims = decodeJwt(trader.token);
        const kid = decodeProtectedHeader(trader.token).kid;
        for (const secret of [
          publicKey.export({ type: 'spki', format: 'pem' }) as string,
          JSON.stringify(jwks.keys[0]),
        ]) {
          const input = `${base64url({ alg: 'HS256', typ: 'JWT', kid })}.${base64url(claims)}`;
          const signature = createHmac('sha256', secret).update(input).digest('base64url');
          await refusedEverywhere(`Bearer ${input}.${signature}`, 'HS256 with the public key');
        }
        // jose's own SPKI export, in case the PEM differs in line breaks
        const input = `${base64url({ alg: 'HS256', typ: 'JWT', kid })}.${base64url(claims)}`;
        const spki = await exportSPKI(publicKey);
        await refusedEverywhere(
          `Bearer ${input}.${createHmac('sha256', spki).update(input).digest('base64url')}`,
          'HS256 with the SPKI',
        );
      });

      itHttp("an expired token signed with the server's own key → 401", async () => {
        const keys = await loadSigningKeys({ dataDir: server.config.dataDir });
        const past = createTokenService({
          keys,
          issuer: server.config.jwtIssuer,
          audience: server.config.jwtAudience,
          lifetimeSeconds: 60,
          now: () => Date.now() - 3600_000,
        });
        const { accessToken } = await past.issue({ userId: trader.id, email: trader.email, role: 'trader' });
        await refusedEverywhere(`Bearer ${accessToken}`, 'expired');
        // the same key, not expired: accepted (so the refusal above is about exp only)
        const fresh = createTokenService({
          keys,
          issuer: server.config.jwtIssuer,
          audience: server.config.jwtAudience,
          lifetimeSeconds: 60,
        });
        const ok = await fresh.issue({ userId: trader.id, email: trader.email, role: 'trader' });
        expect((await api.get('/api/v1/billing/account', { token: ok.accessToken })).status).to.equal(200);
      });

      itHttp('a token of the right key but another issuer or audience → 401', async () => {
        const keys = await loadSigningKeys({ dataDir: server.config.dataDir });
        for (const [issuer, audience] of [
          ['someone-else', server.config.jwtAudience],
          [server.config.jwtIssuer, 'another-api'],
        ] as const) {
          const service = createTokenService({ keys, issuer, audience, lifetimeSeconds: 600 });
          const { accessToken } = await service.issue({ userId: trader.id, email: trader.email, role: 'trader' });
          await refusedEverywhere(`Bearer ${accessToken}`, `iss ${issuer} aud ${audience}`);
        }
      });

      itHttp('a validly signed token of a user that does not exist → 4xx (401/403/404), never 500', async () => {
        const keys = await loadSigningKeys({ dataDir: server.config.dataDir });
        const service = createTokenService({
          keys,
          issuer: server.config.jwtIssuer,
          audience: server.config.jwtAudience,
          lifetimeSeconds: 600,
        });
        const { accessToken } = await service.issue({
          userId: randomUUID(),
          email: uniqueEmail('ghost'),
          role: 'trader',
        });
        for (const [method, path, json] of securedRoutes) {
          const answer = await api.request(method, path, {
            token: accessToken,
            json,
            headers: { 'idempotency-key': randomUUID() },
          });
          expect(answer.status, `${method} ${path}: ${answer.text}`).to.be.oneOf([401, 403, 404]);
        }
      });

      itHttp('the JWKS and register/login are public', async () => {
        const jwks = await api.get('/.well-known/jwks.json');
        expect(jwks.status).to.equal(200);
        expect(jwks.headers.get('content-type')).to.include('application/json');
      });
    });
  });
}
