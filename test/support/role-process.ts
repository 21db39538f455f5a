/** `node dist/infra/composition-root/main.js` as a child process in a given ROLE, on a port of its choosing. */
import { join } from 'node:path';
import { cleanEnv, distDir, jsonLines, RunningNode } from './process.js';

export const mainScript = join(distDir, 'infra', 'composition-root', 'main.js');

export interface RoleProcess {
  node: RunningNode;
  port: number;
  baseUrl: string;
  /** SIGTERM, then the exit code (a clean shutdown is 0). */
  stop(): Promise<number | null>;
}

/** Starts the server process with `env` (ROLE among it) and waits for the line announcing its port. */
export async function startRoleProcess(env: Record<string, string>): Promise<RoleProcess> {
  const node = new RunningNode(
    mainScript,
    [],
    cleanEnv({ PORT: '0', HOST: '127.0.0.1', EMBEDDED_DURABILITY: 'normal', ...env }),
  );
  try {
    const line = await node.waitForLine((l) => /"msg":"marketplace (listening|projector running)/.test(l), 20_000);
    const port = Number(jsonLines([line])[0]!.port);
    return {
      node,
      port,
      baseUrl: `http://127.0.0.1:${port}`,
      async stop() {
        if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGTERM');
        return (await node.exited).code;
      },
    };
  } catch (error) {
    node.kill();
    throw error;
  }
}

/** GET `url` until `accept` likes the answer (or `timeoutMs` passes); returns the last answer. */
export async function pollUntil(
  url: string,
  accept: (status: number, body: unknown) => boolean,
  timeoutMs = 10_000,
): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let answer: { status: number; body: unknown };
    try {
      const response = await fetch(url);
      const text = await response.text();
      answer = { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    } catch (error) {
      answer = { status: 0, body: String(error) };
    }
    if (accept(answer.status, answer.body) || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
