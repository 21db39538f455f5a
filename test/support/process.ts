/**
 * Child processes for tests: run a compiled entry point to completion, or start one and
 * wait for a line of its output. Every variable the configuration reads is removed from
 * the inherited environment, so a developer's shell settings never leak into a test.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { settings } from '../../infra/config/config.js';

/** `dist/` (this file runs as `dist/test/support/process.js`). */
export const distDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The repository root (where README.md lives). */
export const repoDir = join(distDir, '..');

/**
 * The rate limits and the bound on waiting password hashes set out of the way, for servers
 * that suites flood from 127.0.0.1 (hundreds of registrations and sign-ins, commands as
 * fast as they go): the defaults are for production, and test/http/overload.test.ts tests
 * them. Spread into a server's environment explicitly, where a suite needs it.
 */
export const UNLIMITED_RATES: Readonly<Record<string, string>> = Object.freeze({
  RATE_LIMIT_SIGN_IN_PER_ADDRESS: '0',
  RATE_LIMIT_SIGN_IN_PER_ACCOUNT: '0',
  RATE_LIMIT_COMMANDS_PER_ADDRESS: '0',
  RATE_LIMIT_COMMANDS_PER_ACCOUNT: '0',
  PASSWORD_HASH_QUEUE: '100000',
});

/** The inherited environment without any configuration variable, plus `overrides`. */
export function cleanEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const setting of Object.values(settings)) delete env[setting.name];
  delete env.LOG_LEVEL;
  delete env.NODE_OPTIONS;
  return { ...env, ...overrides };
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function tempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <script> <args>` to its end (killed after `timeoutMs`) and collects its output. */
export function runNode(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<Finished> {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running child whose stdout is read line by line. */
export class RunningNode {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  private partial = '';
  private listeners = new Set<() => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(script: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [script, ...args], { env });
    this.child.stdout.on('data', (chunk: Buffer) => {
      const parts = (this.partial + chunk.toString()).split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts);
      for (const listener of [...this.listeners]) listener();
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        for (const listener of [...this.listeners]) listener();
        resolve({ code, signal });
      });
    });
  }

  /** The first stdout line matching `predicate` (already seen or yet to come). */
  waitForLine(predicate: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find(predicate);
        if (line !== undefined) return finish(() => resolve(line));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          return finish(() =>
            reject(
              new Error(
                `process ended before the expected line; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `no matching line within ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`,
              ),
            ),
          ),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Kills the process if it still runs (cleanup after a failed test). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** JSON log lines (pino) parsed; other lines are skipped. */
export function jsonLines(lines: string[]): Array<Record<string, unknown>> {
  const parsed: Array<Record<string, unknown>> = [];
  for (const line of lines) {
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object') parsed.push(value as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return parsed;
}
