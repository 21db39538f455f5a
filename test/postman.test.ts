/**
 * The Postman collection (test/postman/): its variables, the runner's judgement of a run
 * (a request that did not run or an assertion that did not run fails it), and the
 * collection itself run by newman against a real server started by `npm run test:postman`'s
 * own function — so CI runs the collection.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  countAssertions,
  ENVIRONMENT_FILE,
  loadCollection,
  requestNames,
  runCollection,
  runPostman,
  type CollectionJson,
} from './postman/run.js';

/** A collection of requests to `{{baseUrl}}/`, each with these test-script lines. */
function collectionOf(requests: Array<{ name: string; test: string[] }>): CollectionJson {
  const item = requests.map(({ name, test }) => ({
    name,
    request: { method: 'GET', url: '{{baseUrl}}/' },
    event: [{ listen: 'test', script: { type: 'text/javascript', exec: test } }],
  }));
  return { info: { name: 'fixture' }, item: [{ name: 'folder', item }] } as unknown as CollectionJson;
}

describe('Postman collection', () => {
  describe('variables', () => {
    it('baseUrl starts as http://arch.homework, in the collection and in the environment file', () => {
      const variables = loadCollection().variable ?? [];
      expect(variables.find((v) => v.key === 'baseUrl')?.value).to.equal('http://arch.homework');
      const environment = JSON.parse(readFileSync(ENVIRONMENT_FILE, 'utf8')) as {
        values: Array<{ key: string; value: string }>;
      };
      expect(environment.values.find((v) => v.key === 'baseUrl')?.value).to.equal('http://arch.homework');
    });

    it('the broker is signed in with the brokerEmail / brokerPassword variables (with defaults)', () => {
      const collection = loadCollection();
      const keys = (collection.variable ?? []).filter((v) => v.value).map((v) => v.key);
      expect(keys).to.include.members(['brokerEmail', 'brokerPassword']);
      const text = JSON.stringify(collection);
      expect(text).to.include('{{brokerEmail}}').and.include('{{brokerPassword}}');
    });

    it('walks the worked example, the ordering scenario and the administrator’s work, one folder each', () => {
      const collection = loadCollection();
      expect(collection.item.map((folder) => folder.name)).to.deep.equal([
        'Worked example',
        'Ordering scenario',
        'Admin',
      ]);
      expect(requestNames(collection)).to.have.length.above(80);
      expect(countAssertions(collection)).to.be.above(200);
    });
  });

  describe('judging a run', function () {
    this.timeout(30_000);
    let server: Server;
    let baseUrl: string;
    /** What the fake server answers next (then `{}` with 200). */
    const queued: Array<{ status: number; body: unknown }> = [];
    let served = 0;
    before(async () => {
      server = createServer((_request, response) => {
        served += 1;
        const next = queued.shift() ?? { status: 200, body: {} };
        response.writeHead(next.status, { 'content-type': 'application/json' }).end(JSON.stringify(next.body));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('counts every pm.test of the request scripts', () => {
      const collection = collectionOf([
        { name: 'a', test: ["pm.test('one', () => {});", "pm.test('two', () => {}); pm.test('three', () => {});"] },
        { name: 'b', test: ['pm.testing = 1; // no assertion here'] },
      ]);
      expect(countAssertions(collection)).to.equal(3);
      expect(requestNames(collection)).to.deep.equal(['a', 'b']);
    });

    it('passes a run where every request and every assertion ran and held', async () => {
      const run = await runCollection({
        baseUrl,
        collection: collectionOf([{ name: 'a', test: ["pm.test('200', () => pm.response.to.have.status(200));"] }]),
      });
      expect(run.problems).to.deep.equal([]);
      expect(run.summary.run.stats.assertions.total).to.equal(1);
    });

    it('fails a run with a failed assertion, naming the request and the assertion', async () => {
      const run = await runCollection({
        baseUrl,
        collection: collectionOf([{ name: 'a', test: ["pm.test('is 201', () => pm.response.to.have.status(201));"] }]),
      });
      expect(run.problems).to.have.length(1);
      expect(run.problems[0]).to.include('a: is 201');
    });

    it('fails a run that silently skips requests and their assertions', async () => {
      const run = await runCollection({
        baseUrl,
        collection: collectionOf([
          {
            name: 'a',
            test: ["pm.test('200', () => pm.response.to.have.status(200));", 'pm.execution.setNextRequest(null);'],
          },
          { name: 'b', test: ["pm.test('200', () => pm.response.to.have.status(200));"] },
        ]),
      });
      expect(run.summary.run.failures).to.deep.equal([]);
      expect(run.problems).to.deep.equal(['requests that did not run: b', '1 assertions ran, the collection holds 2']);
    });

    it("asks again while the state is not there yet, and asserts once on the last answer (the collection's own retry)", async () => {
      const real = loadCollection().item[0]!.item!.find((i) => i.name === 'Broker profile: role broker');
      expect(real, 'the broker profile request').to.not.equal(undefined);
      const collection = { info: { name: 'fixture' }, item: [real!] } as CollectionJson;
      queued.push(
        { status: 404, body: { code: 404, message: 'Not found' } },
        { status: 404, body: { code: 404, message: 'Not found' } },
      );
      queued.push({ status: 200, body: { id: 'b-1', role: 'broker', firstName: 'Bea', lastName: 'Broker' } });
      served = 0;
      const run = await runCollection({ baseUrl, collection });
      expect(run.problems).to.deep.equal([]);
      expect(served, 'two 404s, then the profile').to.equal(3);
      expect(run.summary.run.stats.assertions).to.include({ total: 2, failed: 0 });
    });
  });

  describe('npm run test:postman', function () {
    this.timeout(120_000);

    it('runs the whole collection against a fresh server: every request, every assertion, none failing', async () => {
      const collection = loadCollection();
      const run = await runPostman();
      expect(run.problems, run.problems.join('\n')).to.deep.equal([]);
      expect(run.summary.run.stats.assertions).to.include({ total: countAssertions(collection), failed: 0 });
      expect(new Set(run.summary.run.executions.map((e) => e.item.name))).to.have.keys(requestNames(collection));
    });
  });
});
