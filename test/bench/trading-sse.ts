/**
 * bench:trading with live streams open (BENCH_SSE_CLIENTS, e.g. 1000): that many
 * `GET /api/v1/notifications/stream` connections, spread over the traders, stay open through
 * the measured runs; at the end each is checked to have received every letter its trader got
 * after it connected (compared with `GET /api/v1/notifications`).
 */
import { request, type ClientRequest } from 'node:http';
import type { User } from './trading-setup.js';

interface Stream {
  user: User;
  openedAt: string;
  letters: Set<string>;
  closed: boolean;
  req: ClientRequest;
}

export interface LiveStreams {
  /** Whether every stream is still open and received every letter of its trader since it opened; one line to print. */
  report(baseUrl: string): Promise<{ ok: boolean; line: string }>;
  close(): void;
}

export async function openLiveStreams(baseUrl: string, users: User[], count: number): Promise<LiveStreams> {
  const streams: Stream[] = [];
  for (let i = 0; i < count; i++) streams.push(await openOne(baseUrl, users[i % users.length]!));
  return {
    async report(base) {
      const expected = new Map<string, Array<{ id: string; createdAt: string }>>();
      for (const user of new Set(streams.map((s) => s.user))) expected.set(user.id, await lettersOf(base, user));
      let complete = 0;
      let received = 0;
      for (const s of streams) {
        received += s.letters.size;
        const due = expected.get(s.user.id)!.filter((l) => l.createdAt > s.openedAt);
        if (!s.closed && due.every((l) => s.letters.has(l.id))) complete++;
      }
      const open = streams.filter((s) => !s.closed).length;
      return {
        ok: complete === streams.length,
        line: `live streams: ${open} of ${streams.length} still open, ${complete} received every letter of their trader since they connected (${received} letters in all)`,
      };
    },
    close() {
      for (const s of streams) s.req.destroy();
    },
  };
}

function openOne(baseUrl: string, user: User): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const openedAt = new Date().toISOString();
    const req = request(`${baseUrl}/api/v1/notifications/stream`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    const stream: Stream = { user, openedAt, letters: new Set(), closed: false, req };
    req.on('response', (res) => {
      if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const events = buffer.split('\n\n');
        buffer = events.pop() ?? '';
        for (const event of events) {
          if (!event.includes('event: notification')) continue;
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data) stream.letters.add((JSON.parse(data) as { id: string }).id);
        }
      });
      res.on('close', () => {
        stream.closed = true;
      });
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

async function lettersOf(baseUrl: string, user: User): Promise<Array<{ id: string; createdAt: string }>> {
  const letters: Array<{ id: string; createdAt: string }> = [];
  let next: string | null = '/api/v1/notifications?limit=500';
  while (next) {
    const answer = await fetch(`${baseUrl}${next}`, { headers: { authorization: `Bearer ${user.token}` } });
    letters.push(...((await answer.json()) as Array<{ id: string; createdAt: string }>));
    next = /<([^>]+)>; rel="next"/.exec(answer.headers.get('link') ?? '')?.[1] ?? null;
  }
  return letters;
}
