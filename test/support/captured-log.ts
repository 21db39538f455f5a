/** A logger like the server's (pino, JSON lines) writing into an array the test reads. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../infra/log/log.js';

/** Parsed JSON lines: fields the assertions compare, and pino's serialised error. */
export type Line = Record<string, unknown> & { err?: { type: string; message: string; stack: string } };

export function capturedLogger(level = 'info'): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return { logger: pino({ level, base: { service: 'marketplace' } }, stream), lines };
}

/** pino writes asynchronously to its stream: give it a turn. */
export const flushed = () => new Promise((resolve) => setImmediate(resolve));
