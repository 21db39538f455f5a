/**
 * The projector thread's supervision (infra/composition-root/thread-supervisor.ts), with
 * real worker threads that die on cue: restarted with backoff, `down()` (what `/ready`
 * asks) saying why while it is down, and one line ending the process when it keeps dying.
 */
import { expect } from 'chai';
import { Worker } from 'node:worker_threads';
import { ThreadSupervisor, type SupervisorLog } from '../infra/composition-root/thread-supervisor.js';
import { projectorReadiness } from '../infra/http/probes.js';
import { eventually } from './http/trading-client.js';

/** A thread that says it is ready, then (when `dies`) exits with code 3 after `afterMs`. */
function thread(dies: boolean, afterMs = 30): Worker {
  return new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.postMessage({ ready: true });
     parentPort.on('message', (m) => { if (m === 'stop') { parentPort.postMessage({ stopped: true }); process.exit(0); } });
     ${dies ? `setTimeout(() => process.exit(3), ${afterMs});` : 'setInterval(() => {}, 1000);'}`,
    { eval: true },
  );
}

function recordingLog(): SupervisorLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (_fields, message) => lines.push(message), error: (_fields, message) => lines.push(message) };
}

describe('thread supervisor (the projector thread kept running)', function () {
  this.timeout(20_000);
  const fast = { initialDelayMs: 20, maxDelayMs: 40 };

  it('restarts a thread that died, says why while it is down, and is up again once the new thread is ready', async () => {
    const log = recordingLog();
    let spawned = 0;
    const downs: string[] = [];
    const supervisor = new ThreadSupervisor({
      name: 'test thread',
      spawn: () => thread(++spawned <= 2),
      onMessage: () => undefined,
      onDown: (reason) => downs.push(reason),
      log,
      giveUp: () => expect.fail('gave up'),
      restartBackoff: { initialDelayMs: 200, maxDelayMs: 400 },
    });
    supervisor.start();
    const readiness = projectorReadiness({ projectorDown: () => supervisor.down() });
    const down = await eventually(async () => {
      expect(supervisor.down()).to.be.a('string');
      return supervisor.down()!;
    }, 5000);
    expect(down).to.equal('test thread died (exit code 3)');
    let refused: unknown = null;
    await readiness.ping().catch((error: unknown) => (refused = error));
    expect((refused as Error | null)?.message).to.equal('test thread died (exit code 3)');
    await eventually(async () => {
      expect(spawned).to.equal(3);
      expect(supervisor.down()).to.equal(null);
    }, 10_000);
    await readiness.ping();
    expect(downs).to.deep.equal(['test thread died (exit code 3)', 'test thread died (exit code 3)']);
    expect(log.lines.filter((l) => l.startsWith('test thread died (exit code 3); restarting in '))).to.have.length(2);
    expect(log.lines.at(-1)).to.equal('test thread restarted');
    await supervisor.stop();
  });

  it('gives up with one line once the thread died `maxDeaths` times within the window, and starts it no more', async () => {
    let spawned = 0;
    const gaveUp: string[] = [];
    const supervisor = new ThreadSupervisor({
      name: 'test thread',
      spawn: () => {
        spawned += 1;
        return thread(true, 5);
      },
      onMessage: () => undefined,
      log: recordingLog(),
      giveUp: (line) => gaveUp.push(line),
      restartBackoff: fast,
      maxDeaths: 3,
      windowMs: 60_000,
    });
    supervisor.start();
    await eventually(async () => expect(gaveUp).to.have.length(1), 10_000);
    expect(gaveUp[0]).to.equal('test thread died 3 times within 60 s, last: exit code 3; giving up, the process exits');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(spawned).to.equal(3);
    expect(supervisor.down()).to.equal('test thread died (exit code 3)');
  });

  it('does not restart a thread it was asked to stop', async () => {
    let spawned = 0;
    const supervisor = new ThreadSupervisor({
      name: 'test thread',
      spawn: () => {
        spawned += 1;
        return thread(false);
      },
      onMessage: () => undefined,
      log: recordingLog(),
      giveUp: () => expect.fail('gave up'),
      restartBackoff: fast,
    });
    supervisor.start();
    await eventually(async () => expect(supervisor.down()).to.equal(null), 5000);
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(spawned).to.equal(1);
    expect(supervisor.down()).to.equal(null);
  });
});
