/**
 * A Server-Sent Events client for the tests: a real HTTP connection (node:http), the body
 * parsed as the EventSource specification says (fields, blank line ends an event, `:`
 * comments), every event and comment kept in order.
 */
import { request, type IncomingMessage, type ClientRequest } from 'node:http';

export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  /** The body, when the answer was not a stream (an error). */
  body = '';
  ended = false;
  private buffer = '';
  private pending: Partial<SseEvent> & { data?: string } = {};
  private req: ClientRequest | null = null;
  private waiters: Array<() => void> = [];

  /** Opens the stream; resolves once the answer's head has arrived. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    await client.connect(url, headers);
    return client;
  }

  private connect(url: string, headers: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        const isStream = (res.headers['content-type'] ?? '').startsWith('text/event-stream');
        res.on('data', (chunk: string) => {
          if (isStream) this.take(chunk);
          else this.body += chunk;
        });
        res.on('close', () => {
          this.ended = true;
          this.wake();
        });
        resolve();
      });
      this.req.on('error', (error) => {
        this.ended = true;
        this.wake();
        reject(error);
      });
      this.req.end();
    });
  }

  /** Until `check` holds on what arrived (or the stream ended, or the time is up: then it throws). */
  async until(check: (client: SseClient) => boolean, timeoutMs = 10_000, what = 'events'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (this.ended) throw new Error(`the stream ended before ${what} arrived (got ${this.describe()})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms (got ${this.describe()})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.req?.destroy();
  }

  describe(): string {
    return JSON.stringify(this.events.map((e) => `${e.id} ${e.event} ${e.data.slice(0, 80)}`));
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline >= 0) {
      this.line(this.buffer.slice(0, newline).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
    }
    this.wake();
  }

  private line(line: string): void {
    if (line === '') {
      if (this.pending.data !== undefined)
        this.events.push({
          id: this.pending.id ?? '',
          event: this.pending.event ?? 'message',
          data: this.pending.data,
        });
      this.pending = {};
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data')
      this.pending.data = this.pending.data === undefined ? value : `${this.pending.data}\n${value}`;
    else if (field === 'id') this.pending.id = value;
    else if (field === 'event') this.pending.event = value;
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
