/**
 * The layers import each other in one direction only (docs/ARCHITECTURE.md, "Folders and
 * layers"): the import graph of every TypeScript source file outside test/ (relative
 * imports and re-exports, type-only ones too, dynamic imports and worker entry points) is
 * read with the compiler's own pre-processor, and each import is checked against the table
 * below. A failure names every import that crosses a layer the wrong way.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';
import { repoDir } from './support/process.js';

type Layer = 'domain' | 'core' | 'command-handlers' | 'projections' | 'read-api' | 'adapter' | 'entry-point';

/**
 * What each layer may import besides itself. Dependencies point inwards, towards the
 * business rules, so a rule never changes because a technology did, and each ring can be
 * tested without the rings outside it.
 */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  // The business rules: pure functions of commands, states and events, no store, no clock.
  domain: [],
  // infra/eventsourcing/: the ports and the generic runtime (command handling, subscriptions).
  // It names no aggregate, read model or technology; of the domain it uses only the contract
  // its deciders implement (CORE_USES_OF_DOMAIN).
  core: ['domain'],
  // The product's use of the core: commands on its aggregates, read models of its events.
  'command-handlers': ['domain', 'core'],
  projections: ['domain', 'core'],
  // Queries read the collections the projections write, through their declarations
  // (READ_MODELS): names, document types and indexes, never the projections themselves.
  'read-api': ['domain', 'core', 'projections'],
  // A technology behind a port (SQLite, EventStoreDB, MongoDB), or the edge that drives the
  // application (HTTP, auth, metrics...). Adapters may use each other; nothing inside them
  // depends on them, so replacing one touches its folder only.
  adapter: ['domain', 'core', 'command-handlers', 'projections', 'read-api', 'adapter'],
  // Processes start here: the composition root chooses an adapter for each port, and the CLI
  // (a process of its own) opens the system through it.
  'entry-point': ['domain', 'core', 'command-handlers', 'projections', 'read-api', 'adapter'],
};

/**
 * The domain's files the core builds on: the contracts its rules implement, which the core
 * runs — the Decider (decide, evolve, DomainEvent), which command handling runs, and the
 * Workflow (a process manager's decide and evolve), which the workflow reactor runs.
 */
const CORE_USES_OF_DOMAIN = new Set(['domain/decider.ts', 'domain/workflow.ts']);

/**
 * Where each read-model collection is declared (name, document type, indexes), imported by
 * the projection that writes it and the queries that read it. Of the projections, the queries
 * see only this folder, and it imports nothing else of them, so a query cannot come to depend
 * on how a projection handles events.
 */
const READ_MODELS = 'projections/read-models/';

/** Each storage driver is imported in its adapter's folder and nowhere else. */
const DRIVERS: Record<string, string> = {
  'better-sqlite3': 'infra/sqlite/',
  '@eventstore/db-client': 'infra/esdb/',
  mongodb: 'infra/mongodb/',
};

/** A file's layer, by its folder; null for a file outside every layer (itself a failure). */
function layerOf(file: string): Layer | null {
  const [top, second] = file.split('/');
  if (top === 'domain' || top === 'command-handlers' || top === 'projections' || top === 'read-api') return top;
  if (top !== 'infra' || !file.slice('infra/'.length).includes('/')) return null; // infra/ holds folders only
  if (second === 'eventsourcing') return 'core';
  if (second === 'composition-root' || second === 'cli') return 'entry-point';
  return 'adapter';
}

interface Import {
  from: string;
  /** The repository path of the file imported (`infra/sqlite/...ts`), or the package's name. */
  to: string;
  kind: 'file' | 'package';
}

function file(from: string, to: string): Import {
  return { from, to, kind: 'file' };
}

const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'test']);

/** Every .ts file of the repository outside node_modules/, dist/, test/ and dot-folders, as a posix path from the root. */
function sourceFiles(dir = repoDir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || (dir === repoDir && SKIPPED_FOLDERS.has(entry.name))) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) files.push(relative(repoDir, path).split(sep).join('/'));
  }
  return files.sort();
}

/** `new URL('./writer-thread.js', import.meta.url)`: a worker's entry point, which the pre-processor does not see. */
const WORKER_ENTRY = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(join(repoDir, file), 'utf8');
  const specifiers = [
    ...ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName),
    ...[...text.matchAll(WORKER_ENTRY)].map((m) => m[2]!),
  ];
  return specifiers.map((specifier) =>
    specifier.startsWith('.')
      ? {
          from: file,
          to: posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, '.ts'),
          kind: 'file',
        }
      : { from: file, to: packageOf(specifier), kind: 'package' },
  );
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Each import that crosses a layer the wrong way, as a line naming it and the rule it breaks. */
function wrongWayImports(imports: Import[]): string[] {
  const wrong: string[] = [];
  for (const i of imports) {
    const from = layerOf(i.from);
    if (i.kind === 'package') {
      const home = DRIVERS[i.to];
      if (home && !i.from.startsWith(home))
        wrong.push(`${i.from} imports ${i.to}: only ${home} may import that driver`);
      continue;
    }
    const to = layerOf(i.to);
    if (from === null || to === null) {
      wrong.push(`${i.from} imports ${i.to}: ${from === null ? i.from : i.to} lies outside every layer`);
    } else if (from !== to && !ALLOWED[from].includes(to)) {
      wrong.push(`${i.from} imports ${i.to}: ${from} may not import ${to}`);
    } else if (from === 'core' && to === 'domain' && !CORE_USES_OF_DOMAIN.has(i.to)) {
      wrong.push(`${i.from} imports ${i.to}: the core may use only the domain's contracts`);
    } else if (
      to === 'projections' &&
      (from === 'read-api' || i.from.startsWith(READ_MODELS)) &&
      !i.to.startsWith(READ_MODELS)
    ) {
      wrong.push(`${i.from} imports ${i.to}: of the projections, only their read models (${READ_MODELS})`);
    }
  }
  return wrong;
}

describe('architecture: imports point inwards', () => {
  const files = sourceFiles();
  const imports = files.flatMap(importsOf);

  it('reads the import graph of every source file', () => {
    expect(files).to.include.members(['domain/decider.ts', 'infra/composition-root/main.ts']);
    expect(imports).to.deep.include(
      file('command-handlers/billing.ts', 'infra/eventsourcing/command-handling/handle-command.ts'),
    );
    expect(imports).to.deep.include(
      file('infra/sqlite/event-store/writer.ts', 'infra/sqlite/event-store/writer-thread.ts'),
    );
    expect(imports).to.deep.include({
      from: 'infra/sqlite/event-store/writer.ts',
      to: 'better-sqlite3',
      kind: 'package',
    });
    const missing = imports.filter((i) => i.kind === 'file' && !files.includes(i.to));
    expect(missing, 'relative imports that name no source file').to.deep.equal([]);
  });

  it('puts every source file in a layer', () => {
    expect(files.filter((f) => layerOf(f) === null)).to.deep.equal([]);
  });

  it('has no import crossing a layer the wrong way', () => {
    expect(wrongWayImports(imports).join('\n')).to.equal('');
  });

  it('names an import that does (the check itself)', () => {
    const wrong = wrongWayImports([
      file('projections/billing.ts', 'infra/sqlite/read-store/sqlite-read-store.ts'),
      file('infra/eventsourcing/subscriptions/runner.ts', 'projections/billing.ts'),
      file('infra/eventsourcing/subscriptions/runner.ts', 'domain/trading/market.ts'),
      file('domain/decider.ts', 'infra/eventsourcing/event-store/position.ts'),
      file('infra/http/server.ts', 'infra/composition-root/system.ts'),
      { from: 'infra/composition-root/system.ts', to: 'better-sqlite3', kind: 'package' },
      file('infra/stray.ts', 'domain/decider.ts'),
      file('command-handlers/billing.ts', 'infra/eventsourcing/command-handling/handle-command.ts'),
      file('read-api/billing.ts', 'projections/billing.ts'),
      file('projections/read-models/billing.ts', 'projections/operation-descriptions.ts'),
      file('read-api/billing.ts', 'projections/read-models/billing.ts'),
    ]);
    expect(wrong).to.deep.equal([
      'projections/billing.ts imports infra/sqlite/read-store/sqlite-read-store.ts: projections may not import adapter',
      'infra/eventsourcing/subscriptions/runner.ts imports projections/billing.ts: core may not import projections',
      "infra/eventsourcing/subscriptions/runner.ts imports domain/trading/market.ts: the core may use only the domain's contracts",
      'domain/decider.ts imports infra/eventsourcing/event-store/position.ts: domain may not import core',
      'infra/http/server.ts imports infra/composition-root/system.ts: adapter may not import entry-point',
      'infra/composition-root/system.ts imports better-sqlite3: only infra/sqlite/ may import that driver',
      'infra/stray.ts imports domain/decider.ts: infra/stray.ts lies outside every layer',
      'read-api/billing.ts imports projections/billing.ts: of the projections, only their read models (projections/read-models/)',
      'projections/read-models/billing.ts imports projections/operation-descriptions.ts: of the projections, only their read models (projections/read-models/)',
    ]);
  });
});
