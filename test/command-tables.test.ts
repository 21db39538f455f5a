import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v4 as uuid } from 'uuid';
import {
  accountCommands,
  customerOrdersCommands,
  emailClaimCommands,
  marketCommands,
  traderOrdersCommands,
  userCommands,
} from '../command-handlers/commands.js';
import { StreamStateMismatch } from '../infra/eventsourcing/command-handling/handle-command.js';
import { StreamStateCache } from '../infra/eventsourcing/command-handling/stream-state-cache.js';
import { WrongExpectedVersion, type EventStore } from '../infra/eventsourcing/event-store/event-store.js';
import { openSqliteEventStore } from '../infra/sqlite/event-store/sqlite-event-store.js';

describe('declared commands', () => {
  it('each command type goes to the stream and expects the state the handlers used to wire by hand', () => {
    const declared = (table: { commands: Record<string, { expects: string }> }) =>
      Object.fromEntries(Object.entries(table.commands).map(([type, { expects }]) => [type, expects]));
    expect(declared(accountCommands)).to.deep.equal({
      OpenAccount: 'any',
      DepositMoney: 'existing',
      WithdrawMoney: 'existing',
      PayFromAccount: 'existing',
      ReceiveAccrual: 'existing',
      ReceiveCommission: 'existing',
    });
    expect(declared(marketCommands)).to.deep.equal({
      ListItem: 'any',
      PlacePurchaseOrder: 'existing',
      PlaceSellOrder: 'existing',
      CancelOrder: 'existing',
      MarkDealPaid: 'existing',
      FailDeal: 'existing',
      CompleteDeal: 'existing',
    });
    expect(declared(traderOrdersCommands)).to.deep.equal({ SubmitOrder: 'any', RejectOrder: 'existing' });
    expect(declared(customerOrdersCommands)).to.deep.equal({
      CreateOrder: 'any',
      MarkOrderPaid: 'existing',
      MarkOrderUnpaid: 'existing',
    });
    expect(declared(userCommands)).to.deep.equal({
      RegisterUser: 'new',
      UpdateProfile: 'existing',
      ChangePassword: 'existing',
      RehashPassword: 'existing',
      ChangeRole: 'existing',
      LogOut: 'existing',
      SignOutEverywhere: 'existing',
      Forget: 'existing',
    });
    expect(declared(emailClaimCommands)).to.deep.equal({
      ClaimEmail: 'new',
      TakeOverClaim: 'existing',
      ClaimReleased: 'existing',
      ReleaseClaim: 'existing',
    });
    const at = '2026-11-21T10:00:00Z';
    expect(accountCommands.streamOf({ type: 'DepositMoney', userId: 'u1', operationId: 'o', amount: 1, at })).to.equal(
      'account-u1',
    );
    expect(marketCommands.streamOf({ type: 'CompleteDeal', itemId: 'i1', dealId: 'd', at })).to.equal('market-i1');
    expect(
      traderOrdersCommands.streamOf({ type: 'RejectOrder', userId: 'u1', orderId: 'o', reason: 'r', at }),
    ).to.equal('trader-orders-u1');
    expect(customerOrdersCommands.streamOf({ type: 'MarkOrderPaid', userId: 'u1', orderId: 'o', at })).to.equal(
      'customer-orders-u1',
    );
    expect(userCommands.streamOf({ type: 'ChangeRole', userId: 'u1', role: 'broker', at })).to.equal('user-u1');
    expect(
      emailClaimCommands.streamOf({ type: 'ClaimEmail', claimKey: 'h1-abc', email: ' Ann@X.io ', userId: 'u1', at }),
    ).to.equal('email-h1-abc');
  });

  describe('on the embedded store', function () {
    this.timeout(20_000);
    let dir: string;
    let store: EventStore;
    const env = () => ({ eventStore: store, cache: new StreamStateCache(), newId: uuid });
    const at = '2026-11-21T10:00:00Z';

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'market-command-tables-'));
      store = openSqliteEventStore({ file: join(dir, 'events.db'), durability: 'normal' });
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('decides a command on its declared stream, refusing one whose stream is not in the declared state', async () => {
      const e = env();
      const deposit = { type: 'DepositMoney' as const, userId: 'u1', operationId: 'o1', amount: 5, at };
      const refused = await accountCommands.handle(e, deposit).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(StreamStateMismatch);
      expect(refused).to.include({ streamId: 'account-u1', expected: 'existing' });
      await accountCommands.handle(e, { type: 'OpenAccount', accountId: 'a1', userId: 'u1', at });
      const metadata = { correlationId: 'c1', causationId: 'e1' };
      const result = await accountCommands.handle(e, deposit, { metadata, expectedRevision: 0 });
      expect(result.revision).to.equal(1);
      const read = await store.readStream('account-u1', {});
      expect(read.status).to.equal('found');
      if (read.status === 'found') expect(read.events[1]!.metadata).to.include(metadata);
    });

    it('decides a command that expects a new stream without reading it: the append refuses one that exists', async () => {
      const calls: string[] = [];
      const watched: EventStore = {
        ...store,
        readStream: (...args) => {
          calls.push(`read ${args[0]}`);
          return store.readStream(...args);
        },
        appendToStream: (...args) => {
          calls.push(`append ${args[0]}`);
          return store.appendToStream(...args);
        },
      };
      const claim = (userId: string) => ({
        type: 'ClaimEmail' as const,
        claimKey: 'ann-at-x',
        email: 'Ann@X.io',
        userId,
        at,
      });
      await emailClaimCommands.handle({ ...env(), eventStore: watched }, claim('u1'));
      expect(calls).to.deep.equal(['append email-ann-at-x']);
      // Even a process whose cache holds the claimed stream leaves the refusal to the store, then reads.
      const e = { ...env(), eventStore: watched };
      await emailClaimCommands.handle(e, claim('u1')).catch(() => null);
      calls.splice(0);
      const refused = await emailClaimCommands.handle(e, claim('u2')).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(StreamStateMismatch);
      expect(refused).to.include({ streamId: 'email-ann-at-x', expected: 'new' });
      expect(calls).to.deep.equal(['append email-ann-at-x', 'read email-ann-at-x']);
      const read = await store.readStream('email-ann-at-x', {});
      expect(read.status === 'found' && read.events.map((event) => event.data.userId)).to.deep.equal(['u1']);
    });

    it('passes the client’s If-Match on: a stale revision is the client’s conflict', async () => {
      const e = env();
      await accountCommands.handle(e, { type: 'OpenAccount', accountId: 'a1', userId: 'u1', at });
      const deposit = { type: 'DepositMoney' as const, userId: 'u1', operationId: 'o1', amount: 5, at };
      const stale = await accountCommands.handle(e, deposit, { expectedRevision: -1 }).catch((error: unknown) => error);
      expect(stale).to.be.instanceOf(WrongExpectedVersion);
    });
  });
});
