/**
 * `npm run test:postman`: starts the server (`node dist/infra/composition-root/main.js`) on a free port with
 * a fresh data directory and a broker, runs the Postman collection against it with newman,
 * prints newman's report and exits non-zero when anything failed; the server is stopped in
 * every case. The mocha suite (test/postman.test.ts) runs the same function, so CI runs
 * the collection too.
 *
 * A run only passes when every request of the collection ran and exactly as many
 * assertions ran as the collection holds: a script that ends early, or a request skipped
 * by `setNextRequest`, fails it instead of passing quietly.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import newman, { type NewmanRunOptions, type NewmanRunSummary } from 'newman';
import { grantRole } from '../../command-handlers/admin.js';
import { registerUser } from '../../command-handlers/identity.js';
import { openSystem } from '../../infra/composition-root/system.js';
import { loadConfig } from '../../infra/config/config.js';
import { createLogger } from '../../infra/log/log.js';
import { cleanEnv, distDir, jsonLines, repoDir, RunningNode, tempDir } from '../support/process.js';

export const COLLECTION_FILE = join(repoDir, 'test', 'postman', 'marketplace.postman_collection.json');
export const ENVIRONMENT_FILE = join(repoDir, 'test', 'postman', 'arch.homework.postman_environment.json');

/** The parts of a Postman collection (v2.1) this runner reads. */
export interface CollectionJson {
  info: { name: string };
  item: CollectionItem[];
  variable?: Array<{ key: string; value: string }>;
  event?: ScriptEvent[];
}

interface CollectionItem {
  name: string;
  /** Present on folders. */
  item?: CollectionItem[];
  event?: ScriptEvent[];
}

interface ScriptEvent {
  listen: string;
  script: { exec: string[] | string };
}

export function loadCollection(file = COLLECTION_FILE): CollectionJson {
  return JSON.parse(readFileSync(file, 'utf8')) as CollectionJson;
}

/** The requests of the collection, folders flattened, in the order they run. */
export function requestNames(collection: CollectionJson): string[] {
  const walk = (items: CollectionItem[]): string[] => items.flatMap((i) => (i.item ? walk(i.item) : [i.name]));
  return walk(collection.item);
}

/**
 * How many assertions one run makes: every `pm.test(` of a request's scripts runs once
 * (the collection keeps them out of loops; a request that is retried while a deal
 * settles asserts only on its last attempt). Collection- and folder-level scripts would
 * run once per request and are not used.
 */
export function countAssertions(collection: CollectionJson): number {
  const count = (events: ScriptEvent[] = []) =>
    events.reduce(
      (n, e) =>
        n +
        ([e.script.exec]
          .flat()
          .join('\n')
          .match(/\bpm\.test\(/g)?.length ?? 0),
      0,
    );
  const walk = (items: CollectionItem[]): number =>
    items.reduce((n, i) => n + (i.item ? count(i.event) + walk(i.item) : count(i.event)), 0);
  return count(collection.event) + walk(collection.item);
}

export interface CollectionRun {
  summary: NewmanRunSummary;
  expectedAssertions: number;
  /** Everything wrong with the run (failed assertions, request errors, requests or assertions that did not run); empty when it passed. */
  problems: string[];
}

export interface RunOptions {
  collection?: CollectionJson;
  baseUrl: string;
  /** Variables given to newman as `--env-var key=value` (they override the collection's). */
  variables?: Record<string, string>;
  /** Newman reporters, e.g. ['cli']; none by default. */
  reporters?: string[];
}

/** Runs the collection with newman against `baseUrl` and judges the run. */
export async function runCollection(options: RunOptions): Promise<CollectionRun> {
  const collection = options.collection ?? loadCollection();
  const variables = { ...options.variables, baseUrl: options.baseUrl };
  const summary = await new Promise<NewmanRunSummary>((resolve, reject) => {
    newman.run(
      {
        // CollectionJson names only what this runner reads; newman is given the whole JSON.
        collection: collection as unknown as NewmanRunOptions['collection'],
        envVar: Object.entries(variables).map(([key, value]) => ({ key, value })),
        reporters: options.reporters ?? [],
        timeout: 180_000,
        timeoutRequest: 30_000,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  const expectedAssertions = countAssertions(collection);
  return { summary, expectedAssertions, problems: problemsOf(collection, summary, expectedAssertions) };
}

function problemsOf(collection: CollectionJson, summary: NewmanRunSummary, expectedAssertions: number): string[] {
  const problems = summary.run.failures.map(
    (f) => `${f.source?.name ?? f.at}: ${f.error.test ? `${f.error.test}: ` : ''}${f.error.message}`,
  );
  const ran = new Set(summary.run.executions.map((e) => e.item.name));
  const skipped = requestNames(collection).filter((name) => !ran.has(name));
  if (skipped.length > 0) problems.push(`requests that did not run: ${skipped.join('; ')}`);
  const assertions = summary.run.stats.assertions.total ?? 0;
  if (assertions !== expectedAssertions)
    problems.push(`${assertions} assertions ran, the collection holds ${expectedAssertions}`);
  return problems;
}

export interface StartedServer {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * `node dist/infra/composition-root/main.js` on a free port of 127.0.0.1 (PORT=0: the port it logs), on a
 * fresh data directory, with this broker; resolves once /ready answers 200.
 */
export async function startServer(
  broker: { email: string; password: string },
  admin?: { email: string; password: string },
): Promise<StartedServer> {
  const dataDir = tempDir('market-postman-');
  if (admin) await seedAdmin(dataDir.path, admin);
  const server = new RunningNode(
    join(distDir, 'infra', 'composition-root', 'main.js'),
    [],
    cleanEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir.path,
      BROKER_EMAIL: broker.email,
      BROKER_PASSWORD: broker.password,
      EMBEDDED_DURABILITY: 'normal',
      LOG_LEVEL: 'info',
    }),
  );
  const stop = async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      const killer = setTimeout(() => server.kill(), 15_000);
      await server.exited;
      clearTimeout(killer);
    }
    dataDir.remove();
  };
  try {
    const line = await server.waitForLine((l) => l.includes('"marketplace listening"'), 30_000);
    const port = Number(jsonLines([line])[0]?.port);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`no port in the server's log line: ${line}`);
    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilReady(baseUrl, 30_000);
    return { baseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** An administrator in the fresh data directory, made as `npm run cli -- users grant <email> admin` makes one. */
async function seedAdmin(dataDir: string, admin: { email: string; password: string }): Promise<void> {
  const config = loadConfig({ DATA_DIR: dataDir, EMBEDDED_DURABILITY: 'normal' });
  const system = await openSystem(config, createLogger('silent'), 'cli');
  try {
    await registerUser(system.services, { ...admin, firstName: 'Postman', lastName: 'Admin', phone: null });
    await grantRole(system.services, admin.email, 'admin', 'cli');
  } finally {
    await system.close();
  }
}

async function waitUntilReady(baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${baseUrl}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${baseUrl}/ready did not answer 200 within ${timeoutMs} ms (last: ${status || 'no answer'})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a server, runs the collection against it, stops the server. */
export async function runPostman(options: { reporters?: string[] } = {}): Promise<CollectionRun> {
  // A broker other than the collection's defaults: the run proves the variables are used.
  const broker = { email: `postman-broker-${randomUUID().slice(0, 8)}@market.test`, password: randomUUID() };
  const admin = { email: `postman-admin-${randomUUID().slice(0, 8)}@market.test`, password: randomUUID() };
  const server = await startServer(broker, admin);
  try {
    return await runCollection({
      baseUrl: server.baseUrl,
      variables: {
        brokerEmail: broker.email,
        brokerPassword: broker.password,
        adminEmail: admin.email,
        adminPassword: admin.password,
      },
      reporters: options.reporters,
    });
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  const { problems, summary, expectedAssertions } = await runPostman({ reporters: ['cli'] });
  if (problems.length > 0) {
    console.error(`\nPostman run failed:\n  - ${problems.join('\n  - ')}`);
    return 1;
  }
  console.log(`\nPostman run passed: ${summary.run.executions.length} requests, ${expectedAssertions} assertions.`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
