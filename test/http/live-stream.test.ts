/**
 * The live stream (`GET /api/v1/notifications/stream`) read by a real HTTP client while
 * deals happen: letters and order changes arrive in order with their positions as ids, a
 * reconnect with `Last-Event-ID` (or `?after=`) gets exactly what was missed, heartbeats
 * keep a quiet stream alive, and a browser's way in (a single-use ticket) works once.
 * Also the letters' read/unread state: the unread filter, the count, marking one read.
 */
import { expect } from 'chai';
import {
  SHARED_SERVER_ENV,
  withApiServer,
  type Client,
  eventStores,
  expectError,
  itHttp,
  positionOf,
} from './client.js';
import { SseClient, type SseEvent } from './sse-client.js';
import { eventually, LETTERS, Market, type NamedTrader } from './trading-client.js';

const ENV = { ...SHARED_SERVER_ENV, STREAM_POLL_MS: '20', STREAM_HEARTBEAT_SECONDS: '1' };
const STREAM = '/api/v1/notifications/stream';
const ID = /^\d+(-\d+)?\/\d+$/;

for (const eventStore of eventStores) {
  describe(`HTTP live stream of letters and order changes (${eventStore} event store)`, function () {
    this.timeout(30_000);
    let api: Client;
    let market: Market;
    let baseUrl: string;
    const open: SseClient[] = [];
    withApiServer(
      eventStore,
      (server, client) => {
        api = client;
        baseUrl = server.baseUrl;
        market = new Market(client);
      },
      { env: ENV },
    );
    afterEach(() => {
      for (const client of open.splice(0)) client.close();
    });

    async function stream(headers: Record<string, string>, query = ''): Promise<SseClient> {
      const client = await SseClient.open(`${baseUrl}${STREAM}${query}`, headers);
      open.push(client);
      return client;
    }
    const bearer = (t: NamedTrader) => ({ authorization: `Bearer ${t.token}` });

    /** A fresh item whose one unit the buyer buys from the broker at 100 (commission 10). */
    async function dealFor(buyer: NamedTrader, name: string) {
      const item = await market.newItem({ name, initialPrice: 100 });
      const placed = await market.placed(buyer.token, 'purchase', item.id, 100);
      return { item, order: placed.order };
    }
    const ofKind = (events: SseEvent[], kind: string) => events.filter((e) => e.event === kind);

    itHttp('sends a deal’s order changes and letter as they happen, ids in log order', async () => {
      const buyer = await market.trader(1000);
      const live = await stream(bearer(buyer));
      expect(live.status).to.equal(200);
      expect(live.headers['content-type']).to.match(/^text\/event-stream/);
      await live.until((c) => c.comments.includes('stream open'), 5000, 'the opening comment');
      const { item, order } = await dealFor(buyer, `Live Lamp ${Date.now()}`);
      await live.until((c) => ofKind(c.events, 'notification').length === 1, 10_000, 'the letter');
      const orders = ofKind(live.events, 'order').map((e) => JSON.parse(e.data));
      expect(orders.map((o) => o.status)).to.deep.equal(['paymentPending', 'approved']);
      for (const o of orders)
        expect(o).to.include({ orderId: order.id, side: 'purchase', itemId: item.id, price: 100 });
      const letter = JSON.parse(ofKind(live.events, 'notification')[0]!.data);
      expect(letter.message).to.equal(LETTERS.bought(buyer.firstName, buyer.lastName, item.name, '100.00', '10.00'));
      expect(letter.read).to.equal(false);
      const ids = live.events.map((e) => e.id);
      for (const id of ids) expect(id).to.match(ID);
      expect(sortedByPosition(ids), 'ids in log order').to.deep.equal(ids);
      expect(new Set(ids).size, 'no id twice').to.equal(ids.length);
      // The letter is the one the list shows.
      expect((await market.notifications(buyer.token))[0]).to.deep.equal(letter);
    });

    itHttp('resumes after Last-Event-ID (or ?after=) with nothing lost and nothing repeated', async () => {
      const buyer = await market.trader(1000);
      const first = await stream(bearer(buyer));
      await first.until((c) => c.comments.includes('stream open'), 5000, 'the opening comment');
      await dealFor(buyer, `Resume A ${Date.now()}`);
      await first.until((c) => ofKind(c.events, 'notification').length === 1, 10_000, 'the first letter');
      // The client goes away after the first order change; two more deals happen meanwhile.
      first.close();
      const seen = first.events.slice(0, 1);
      await dealFor(buyer, `Resume B ${Date.now()}`);
      await dealFor(buyer, `Resume C ${Date.now()}`);
      await eventually(async () => expect(await market.notifications(buyer.token)).to.have.length(3), 10_000);
      const again = await stream({ ...bearer(buyer), 'last-event-id': seen[0]!.id });
      await again.until((c) => ofKind(c.events, 'notification').length === 3, 10_000, 'the missed letters');
      // Everything from the start, for comparison: the same entries, each once.
      const all = await stream(bearer(buyer), '?after=0');
      await all.until((c) => ofKind(c.events, 'notification').length === 3, 10_000, 'the whole history');
      const ids = (events: SseEvent[]) => events.map((e) => `${e.id} ${e.event} ${e.data}`);
      expect([...ids(seen), ...ids(again.events)]).to.deep.equal(ids(all.events));
      expect(all.events).to.have.length(9); // per deal: matched, approved, the letter
      // Resuming from the last id sends nothing old.
      const last = all.events[all.events.length - 1]!.id;
      const quiet = await stream(bearer(buyer), `?after=${encodeURIComponent(last)}`);
      await quiet.until((c) => c.comments.includes('heartbeat'), 5000, 'a heartbeat');
      expect(quiet.events).to.deep.equal([]);
    });

    itHttp('heartbeats keep a quiet stream open', async () => {
      const trader = await market.trader();
      const live = await stream(bearer(trader));
      await live.until((c) => c.comments.filter((x) => x === 'heartbeat').length >= 2, 5000, 'two heartbeats');
      expect(live.events).to.deep.equal([]);
    });

    itHttp('opens from a single-use ticket (a browser’s EventSource), and refuses it twice', async () => {
      const buyer = await market.trader(1000);
      const issued = await api.post('/api/v1/notifications/stream-tickets', { token: buyer.token });
      expect(issued.status, issued.text).to.equal(201);
      expect(issued.body.ticket).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(Date.parse(issued.body.expiresAt) - Date.now()).to.be.within(50_000, 61_000);
      const ticket = encodeURIComponent(issued.body.ticket);
      const live = await stream({}, `?ticket=${ticket}`);
      expect(live.status).to.equal(200);
      await live.until((c) => c.comments.includes('stream open'), 5000, 'the opening comment');
      await dealFor(buyer, `Ticket Torch ${Date.now()}`);
      await live.until((c) => ofKind(c.events, 'notification').length === 1, 10_000, 'the letter');
      const reused = await stream({}, `?ticket=${ticket}`);
      expect(reused.status).to.equal(401);
      expect(JSON.parse(reused.body).message).to.equal('Unauthorized: the stream ticket is unknown, expired or used');
      const forged = await stream({}, `?ticket=${'A'.repeat(43)}`);
      expect(forged.status).to.equal(401);
      const none = await stream({});
      expect(none.status).to.equal(401);
      const badResume = await stream(bearer(buyer), '?after=yesterday');
      expect(badResume.status).to.equal(422);
      expect(JSON.parse(badResume.body).message).to.match(/^violation at 'after'/);
    });

    itHttp('letters are unread until marked read: the filter, the count, and who may mark one', async () => {
      const buyer = await market.trader(1000);
      const other = await market.trader();
      await dealFor(buyer, `Unread A ${Date.now()}`);
      await dealFor(buyer, `Unread B ${Date.now()}`);
      await eventually(async () => expect(await market.notifications(buyer.token)).to.have.length(2), 10_000);
      const count = async (position?: string) => {
        const answer = await api.get('/api/v1/notifications/unread-count', {
          token: buyer.token,
          headers: position ? { 'x-event-position': position } : {},
        });
        expect(answer.status, answer.text).to.equal(200);
        return answer.body.unread as number;
      };
      expect(await count()).to.equal(2);
      const [newest, older] = await market.notifications(buyer.token);
      expect(await markRead(other.token, newest.id)).to.include({ status: 403 });
      expectError(await api.post('/api/v1/notifications/nope:buyer/read', { token: buyer.token }), 404, 'Not found');
      expect((await api.post('/api/v1/notifications/a%20b/read', { token: buyer.token })).status).to.equal(422);
      const marked = await markRead(buyer.token, older.id);
      expect(marked.status, marked.text).to.equal(204);
      const position = positionOf(marked);
      expect(await count(position)).to.equal(1);
      const unread = await api.get('/api/v1/notifications?unread=true', {
        token: buyer.token,
        headers: { 'x-event-position': position },
      });
      expect(unread.body.map((n: { id: string }) => n.id)).to.deep.equal([newest.id]);
      const all = await market.notifications(buyer.token);
      expect(all.map((n) => [n.id, n.read])).to.deep.equal([
        [newest.id, false],
        [older.id, true],
      ]);
      // Again: nothing more to record, and the count stays.
      const repeat = await markRead(buyer.token, older.id);
      expect(repeat.status).to.equal(204);
      expect(repeat.headers.get('x-event-position')).to.equal(null);
      expect(await count()).to.equal(1);
      expect((await api.get('/api/v1/notifications?unread=maybe', { token: buyer.token })).status).to.equal(422);
    });

    function markRead(token: string, id: string) {
      return api.post(`/api/v1/notifications/${encodeURIComponent(id)}/read`, { token });
    }
  });
}

/** The ids sorted by position, then rank. */
function sortedByPosition(ids: string[]): string[] {
  const key = (id: string) => {
    const [position, rank] = id.split('/');
    const [commit] = position!.split('-');
    return [BigInt(commit!), Number(rank)] as const;
  };
  return [...ids].sort((a, b) => {
    const [ca, ra] = key(a);
    const [cb, rb] = key(b);
    return ca === cb ? ra - rb : ca < cb ? -1 : 1;
  });
}
