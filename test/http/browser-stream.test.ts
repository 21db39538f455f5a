/**
 * The live stream from a browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) opens a page this test serves, whose script opens an `EventSource` with
 * a stream ticket, and sees a deal's letter arrive. The page and the API share an origin:
 * this test's server serves the page and passes `/api/` on to the API server.
 *
 * Without Chromium (`CHROMIUM_PATH`, default /usr/bin/chromium) the suite is skipped, saying
 * so; `.ci/run` installs Debian's package when it runs as root.
 */
import { existsSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { chromium, type Browser } from 'playwright-core';
import { SHARED_SERVER_ENV, withApiServer, type Client, itHttp } from './client.js';
import { LETTERS, Market } from './trading-client.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The page: an EventSource on the stream, everything it receives kept in `window.received`. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>live</title></head>
<body><ul id="letters"></ul>
<script>
  window.received = [];
  window.opened = false;
  const ticket = new URLSearchParams(location.search).get('ticket');
  const source = new EventSource('/api/v1/notifications/stream?ticket=' + encodeURIComponent(ticket));
  source.onopen = () => { window.opened = true; };
  for (const kind of ['notification', 'order']) {
    source.addEventListener(kind, (e) => {
      window.received.push({ kind, id: e.lastEventId, data: JSON.parse(e.data) });
      if (kind === 'notification') {
        const li = document.createElement('li');
        li.textContent = JSON.parse(e.data).message;
        document.getElementById('letters').appendChild(li);
      }
    });
  }
</script></body></html>`;

/** Serves the page at `/` and passes everything under `/api/` to the API server. */
function pageServer(apiBase: string): Promise<Server> {
  const api = new URL(apiBase);
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/api/')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const upstream = request(
      { host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('Browser: an EventSource in headless Chromium sees a deal’s letter arrive', function () {
  this.timeout(60_000);
  let api: Client;
  let market: Market;
  let pages: Server | undefined;
  let browser: Browser | undefined;
  const available = existsSync(CHROMIUM);
  before(async function () {
    if (!available) {
      console.log(
        `    SKIPPED browser stream test: Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`,
      );
      this.skip();
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  withApiServer(
    'embedded',
    (server, client) => {
      api = client;
      market = new Market(client);
      void server;
    },
    { env: { ...SHARED_SERVER_ENV, STREAM_POLL_MS: '20' } },
  );
  after(async () => {
    await browser?.close();
    if (pages) await new Promise((resolve) => pages!.close(resolve));
  });

  itHttp('opens the stream with a ticket and shows the letter of a deal made meanwhile', async () => {
    const buyer = await market.trader(1000);
    const issued = await api.post('/api/v1/notifications/stream-tickets', { token: buyer.token });
    expect(issued.status, issued.text).to.equal(201);
    pages = await pageServer(api.baseUrl);
    const page = await browser!.newPage();
    const origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    await page.goto(`${origin}/?ticket=${encodeURIComponent(issued.body.ticket)}`);
    // Strings, evaluated in the page (this project compiles without the DOM's types).
    await page.waitForFunction('window.opened === true', undefined, { timeout: 10_000 });

    const item = await market.newItem({ name: `Browser Bell ${Date.now()}`, initialPrice: 100 });
    await market.placed(buyer.token, 'purchase', item.id, 100);

    await page.waitForSelector('#letters li', { timeout: 15_000 });
    const shown = await page.textContent('#letters li');
    expect(shown).to.equal(LETTERS.bought(buyer.firstName, buyer.lastName, item.name, '100.00', '10.00'));
    const received = (await page.evaluate('window.received')) as Array<{ kind: string; id: string }>;
    // Matched; then the deal's completion: its letter, and the order approved (letters first within an event).
    expect(received.map((r) => r.kind)).to.deep.equal(['order', 'notification', 'order']);
    for (const r of received) expect(r.id).to.match(/^\d+\/\d+$/);
    await page.close();
  });
});
