/**
 * No install-time telemetry. `swagger-ui-dist` (and, among the dev dependencies, the
 * Spectral packages under `@asyncapi/parser`) depend on `@scarf/scarf`, whose postinstall
 * reports every `npm ci` (the image build's included) to scarf.sh unless the project opts
 * out. The project's own package.json says `"scarfSettings": { "enabled": false }`, which
 * scarf honours for every package under it — checked here with scarf's own code, deciding
 * on this package.json and the installed dependents, with its reports sent to a local
 * server that counts them. (`SCARF_ANALYTICS=false` in the environment works too, but an
 * environment is not a project file: .npmrc cannot set it, npm passes its settings on as
 * `npm_config_*` variables.)
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { cleanEnv, repoDir, runNode, tempDir, type TempDir } from './support/process.js';

interface PackageJson {
  name: string;
  version: string;
  scarfSettings?: Record<string, unknown>;
  dependencies?: Record<string, string>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const scarfDir = join(repoDir, 'node_modules', '@scarf', 'scarf');

/** The installed packages that depend on scarf (from the lockfile), as `npm ls @scarf/scarf --json --long` shows them. */
function dependencyTree(root: PackageJson): Record<string, unknown> {
  const lock = readJson<{ packages: Record<string, { dependencies?: Record<string, string> }> }>(
    join(repoDir, 'package-lock.json'),
  );
  const scarf = readJson<PackageJson>(join(scarfDir, 'package.json'));
  const dependents: Record<string, unknown> = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || !entry.dependencies?.['@scarf/scarf']) continue;
    const installed = readJson<PackageJson>(join(repoDir, path, 'package.json'));
    dependents[installed.name] = {
      name: installed.name,
      version: installed.version,
      scarfSettings: installed.scarfSettings,
      path: join(repoDir, path),
      dependencies: { '@scarf/scarf': { name: scarf.name, version: scarf.version, path: scarfDir } },
    };
  }
  return {
    name: root.name,
    version: root.version,
    scarfSettings: root.scarfSettings,
    path: repoDir,
    dependencies: dependents,
  };
}

/** Runs scarf's postinstall on `tree` in a process of its own (scarf reads its settings when loaded), reporting to `port`. */
const HARNESS = `
const scarf = require(process.argv[2]);
const tree = require('fs').readFileSync(process.argv[3], 'utf8');
scarf.getDependencyInfo = () => new Promise((resolve, reject) => scarf.processDependencyTreeOutput(resolve, reject)(null, tree, ''));
scarf.reportPostInstall().then(
  () => console.log('OUTCOME reported'),
  (error) => console.log('OUTCOME not reported: ' + error.message),
);
`;

describe('no install-time telemetry (@scarf/scarf is turned off by the project)', function () {
  this.timeout(30_000);
  let dir: TempDir;
  let server: Server;
  let reports: number;

  beforeEach(async () => {
    dir = tempDir('market-scarf-');
    writeFileSync(join(dir.path, 'harness.cjs'), HARNESS);
    reports = 0;
    server = createServer((req, res) => {
      reports += 1;
      req.resume();
      // No keep-alive: the reporting process ends as soon as it has its answer.
      res.setHeader('Connection', 'close');
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  });

  /** What scarf decides for an install of `root`, and how many reports reached the local endpoint. */
  async function install(root: PackageJson): Promise<string> {
    const treeFile = join(dir.path, 'tree.json');
    writeFileSync(treeFile, JSON.stringify(dependencyTree(root)));
    const env = cleanEnv({
      INIT_CWD: repoDir,
      SCARF_LOCAL_PORT: String((server.address() as AddressInfo).port),
    });
    // Whatever the machine running the tests says: the project's files alone must turn it off.
    for (const name of ['SCARF_ANALYTICS', 'SCARF_NO_ANALYTICS', 'DO_NOT_TRACK', 'npm_config_global', 'npm_execpath'])
      delete env[name];
    const run = await runNode(join(dir.path, 'harness.cjs'), [join(scarfDir, 'report.js'), treeFile], env);
    const outcome = /^OUTCOME (.*)$/m.exec(run.stdout)?.[1];
    expect(outcome, `${run.stdout}\n${run.stderr}`).to.be.a('string');
    return outcome!;
  }

  it('package.json turns scarf off for every package under it', () => {
    const own = readJson<PackageJson>(join(repoDir, 'package.json'));
    expect(own.scarfSettings).to.deep.equal({ enabled: false });
  });

  it('scarf, deciding on this package.json and every installed dependent of it, sends nothing', async () => {
    const own = readJson<PackageJson>(join(repoDir, 'package.json'));
    const outcome = await install(own);
    expect(outcome).to.equal('not reported: Scarf has been disabled via a package.json in the dependency chain.');
    expect(reports).to.equal(0);
  });

  it('(the check can fail: without the setting, scarf does report the install)', async () => {
    const { scarfSettings: _off, ...own } = readJson<PackageJson>(join(repoDir, 'package.json'));
    expect(await install(own)).to.equal('reported');
    expect(reports).to.equal(1);
  });
});
