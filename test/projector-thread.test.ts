/**
 * `npm start`'s default: projections and process managers in a worker thread. The whole
 * flow across the two threads: the API appends, the projector thread is woken, opens the
 * account, projects it, reports back, and a read with the command's position sees it.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { cleanEnv, distDir, jsonLines, RunningNode, tempDir, type TempDir } from './support/process.js';

describe('projector thread (PROJECTION_THREAD=worker, the default of npm start)', function () {
  this.timeout(30_000);
  let dir: TempDir;
  let server: RunningNode;
  let base: string;

  before(async () => {
    dir = tempDir('market-projector-');
    server = new RunningNode(
      join(distDir, 'infra', 'composition-root', 'main.js'),
      [],
      cleanEnv({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir.path, EMBEDDED_DURABILITY: 'normal' }),
    );
    const line = await server.waitForLine((l) => l.includes('"marketplace listening"'));
    base = `http://127.0.0.1:${String(jsonLines([line])[0]!.port)}/api/v1`;
  });
  after(async () => {
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    dir.remove();
    expect(code, server.stderr).to.equal(0);
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('a registration opens an account that a read with its position sees; a deposit shows up in the operations', async () => {
    const registered = await post('/identity/register', {
      email: 'thread@example.com',
      password: 'secret1',
      firstName: 'Tee',
      lastName: 'Hread',
    });
    expect(registered.status).to.equal(201);
    const position = registered.headers.get('x-event-position')!;
    const login = (await (
      await post('/identity/login', { email: 'thread@example.com', password: 'secret1' })
    ).json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${login.accessToken}` };

    const account = await fetch(`${base}/billing/account`, { headers: { ...auth, 'x-event-position': position } });
    expect(account.status, await account.clone().text()).to.equal(200);
    expect(((await account.json()) as { amount: number }).amount).to.equal(0);

    const deposit = await post(
      '/billing/account/deposit',
      { amount: 12.5 },
      { ...auth, 'if-match': account.headers.get('etag')! },
    );
    expect(deposit.status).to.equal(204);
    const operations = await fetch(`${base}/billing/operations`, {
      headers: { ...auth, 'x-event-position': deposit.headers.get('x-event-position')! },
    });
    const listed = (await operations.json()) as Array<Record<string, unknown>>;
    expect(listed).to.have.length(1);
    expect(listed[0]).to.include({ type: 'deposit', amount: 12.5, description: 'money deposit by user' });
  });
});
