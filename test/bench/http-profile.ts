/**
 * Where a server's CPU went, from the V8 profile `node --cpu-prof` wrote (BENCH_CPU_PROF=1
 * in `npm run bench:http`): self time by function, self time by area (jose, SQLite,
 * Koa, JSON…), and inclusive time of the product's own functions (synchronous stacks
 * only: time spent after an `await` is counted where it resumes).
 *
 *   node dist/test/bench/http-profile.js <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { printTable } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled ms, idle included. */
  totalMs: number;
  idleMs: number;
  selfByFunction: Array<{ name: string; ms: number }>;
  selfByArea: Array<{ name: string; ms: number }>;
  inclusiveOwnCode: Array<{ name: string; ms: number }>;
}

/** Short, stable name of a source location: the package, or the path inside dist/. */
function whereOf(url: string): string {
  if (url === '') return '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + '/dist/'.length);
  return url.replace(/^file:\/\//, '');
}

/** Which part of the stack a function belongs to, for the by-area table. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return 'garbage collector';
  if (functionName === '(program)') return '(program: native, not attributed)';
  if (url === '') {
    if (/^(parse|stringify)$/.test(functionName)) return 'JSON.parse / JSON.stringify';
    // better-sqlite3's native methods show with no url: run/get/all/exec/transaction.
    if (/^(run|get|all|iterate|exec|pluck|raw|prepare)$/.test(functionName))
      return 'better-sqlite3 (native: SQL + commit + fsync)';
    return `native/builtin (${functionName || 'anonymous'})`;
  }
  const where = whereOf(url);
  if (url.includes('/node_modules/')) return `package ${where}`;
  if (url.startsWith('node:')) {
    if (
      /node:(_http|http|net|stream|internal\/streams|internal\/http|_http_)/.test(url) ||
      /node:internal\/(stream|http|net)/.test(url)
    )
      return 'node http/net/streams';
    if (url.includes('crypto') || url.includes('webcrypto')) return 'node crypto';
    return `node ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  }
  const dir = where
    .split('/')
    .slice(0, where.startsWith('infra/') ? 2 : 1)
    .join('/');
  return `product ${dir}`;
}

/** Compiled product code (dist/, not the tests or benches, not packages). */
function isProductCode(url: string): boolean {
  return url.includes('/dist/') && !url.includes('/node_modules/') && !url.includes('/dist/test/');
}

export function summarize(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const nameOf = (frame: ProfileNode['callFrame']) => {
    const where = whereOf(frame.url);
    return `${frame.functionName || '(anonymous)'}${where ? ` ${where}:${frame.lineNumber + 1}` : ''}`;
  };

  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  profile.samples.forEach((nodeId, i) => {
    // timeDeltas[i] is the time before sample i; attributing it to sample i is V8's convention.
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(nodeId);
    if (!node) return;
    totalMs += ms;
    if (node.callFrame.functionName === '(idle)') idleMs += ms;
    add(self, nameOf(node.callFrame), ms);
    add(area, areaOf(node.callFrame), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = nodeId; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!isProductCode(frame.url)) continue;
      const name = nameOf(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      add(inclusive, name, ms);
    }
  });
  const sorted = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .map(([name, ms]) => ({ name, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, n);
  return {
    totalMs,
    idleMs,
    selfByFunction: sorted(self, top),
    selfByArea: sorted(area, top),
    inclusiveOwnCode: sorted(inclusive, top),
  };
}

export function printProfile(title: string, file: string, top = 25): void {
  const summary = summarize(file, top);
  const busy = summary.totalMs - summary.idleMs;
  const pct = (ms: number) =>
    `${ms.toFixed(0).padStart(6)} ms  ${((100 * ms) / busy).toFixed(1).padStart(5)} % of busy`;
  console.log(`\n${title}: ${file}`);
  console.log(
    `  sampled ${(summary.totalMs / 1000).toFixed(1)} s of the main thread, busy ${(busy / 1000).toFixed(1)} s (${((100 * busy) / summary.totalMs).toFixed(0)} %)`,
  );
  printTable(
    '  self time by area',
    summary.selfByArea.filter((r) => r.name !== '(idle)').map((r) => [r.name, pct(r.ms)]),
  );
  printTable(
    '  self time by function',
    summary.selfByFunction.filter((r) => !r.name.startsWith('(idle)')).map((r) => [r.name, pct(r.ms)]),
  );
  printTable(
    '  inclusive time of product functions (synchronous part)',
    summary.inclusiveOwnCode.map((r) => [r.name, pct(r.ms)]),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: http-profile.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  printProfile('CPU profile', file, Number(process.argv[3] ?? 25));
}
