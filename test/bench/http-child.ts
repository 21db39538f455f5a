/**
 * The bench's side of a server under test running in its own process
 * (http-server-process.ts): started with a clean environment, spoken to in JSON lines —
 * commands on its stdin, answers on its stdout, each answer naming the command's `id`.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from '../../infra/composition-root/runtime-flags.js';
import { join } from 'node:path';
import { cleanEnv, distDir, UNLIMITED_RATES } from '../support/process.js';

export type ServerMode = 'api' | 'baseline';

/** What the server process measured between `mark` and `stats` (see http-server-process.ts). */
export interface ServerStats {
  pid: number;
  /** CPU of the whole server process (all threads) since `mark`, ms. */
  cpuMs: number;
  /** Wall time since `mark`, ms. */
  wallMs: number;
  /** Share of the wall time the main thread's event loop was busy (0..1). */
  eventLoopUtilization: number;
  /** The main thread's time on a CPU, and runnable but waiting for one (another process had it); null off Linux. */
  mainThread?: { onCpuMs: number; waitingForCpuMs: number } | null;
  tokenCache: { hits: number; misses: number; size: number };
  /** Calls since `mark`, by name (event store and read store operations, commits…). */
  calls: Record<string, number>;
  /** Mode-specific figures (event store head, sum of balances…). */
  extra: Record<string, number | string | null>;
  /** Requests answered 5xx whose error the server logged. */
  loggedErrors: number;
}

export interface StartOptions {
  mode: ServerMode;
  env: Record<string, string>;
}

export class ServerProcess {
  readonly port: number;
  readonly pid: number;
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly answers: Map<number, (value: Record<string, unknown>) => void>,
    private readonly stderr: { text: string },
    readonly exited: Promise<number | null>,
    port: number,
  ) {
    this.port = port;
    this.pid = child.pid ?? 0;
  }

  static async start(options: StartOptions): Promise<ServerProcess> {
    const script = join(distDir, 'test', 'bench', 'http-server-process.js');
    // The server's own flags (as `npm start` passes them), for the API and the baselines alike.
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, script, options.mode], {
      // A benchmark floods the server from 127.0.0.1: the rate limits would measure themselves.
      env: cleanEnv({ ...SERVER_ENVIRONMENT, ...UNLIMITED_RATES, ...options.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const answers = new Map<number, (value: Record<string, unknown>) => void>();
    const stderr = { text: '' };
    let listening: (port: number) => void = () => undefined;
    const ready = new Promise<number>((resolve) => (listening = resolve));
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue; // not ours (a stray log line)
        }
        if (typeof message.listening === 'number') listening(message.listening);
        if (typeof message.id === 'number') answers.get(message.id)?.(message);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the tail only: enough to explain a crash.
      stderr.text = (stderr.text + chunk.toString()).slice(-20_000);
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const port = await Promise.race([
      ready,
      exited.then((code) =>
        Promise.reject(new Error(`${options.mode} server exited (code ${code}) before listening:\n${stderr.text}`)),
      ),
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`${options.mode} server not listening after 60 s:\n${stderr.text}`)),
          60_000,
        ).unref(),
      ),
    ]);
    return new ServerProcess(child, answers, stderr, exited, port);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the measurement window: counters, CPU and event-loop figures (and the CPU profile)
   * from now on. A `drain` window (after the load, while the backlog catches up) is one
   * the experiment BENCH_PAUSE_PROJECTIONS leaves the process managers running in.
   */
  async mark(window: 'load' | 'drain' = 'load'): Promise<void> {
    await this.command('mark', { window });
  }

  async stats(): Promise<ServerStats> {
    return (await this.command('stats')).stats as ServerStats;
  }

  /** Where the server's memory is now (MB by part: rss, each thread's heap, caches). */
  async memory(): Promise<Record<string, number>> {
    return (await this.command('memory')).memory as Record<string, number>;
  }

  /** Writes a heap snapshot of the server's main thread; its file. */
  async heapSnapshot(): Promise<string> {
    return String((await this.command('heap-snapshot')).file);
  }

  /** Closes the server and its stores; the process exits. */
  async stop(): Promise<void> {
    await this.command('stop').catch(() => undefined);
    const code = await Promise.race([
      this.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref()),
    ]);
    if (code === 'timeout') {
      this.child.kill('SIGKILL');
      throw new Error('server did not exit within 30 s of stop');
    }
    if (code !== 0) throw new Error(`server exited with code ${code}:\n${this.stderr.text}`);
  }

  /** Last resort after a failure. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private nextId = 1;

  private command(name: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answers.delete(id);
        reject(new Error(`server did not answer "${name}" within 60 s:\n${this.stderr.text}`));
      }, 60_000);
      this.answers.set(id, (answer) => {
        clearTimeout(timer);
        this.answers.delete(id);
        if (typeof answer.error === 'string') reject(new Error(`server failed "${name}": ${answer.error}`));
        else resolve(answer);
      });
      this.child.stdin.write(`${JSON.stringify({ id, command: name, ...fields })}\n`);
    });
  }
}
