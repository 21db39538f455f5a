/**
 * The AsyncAPI 3.0 document of the domain events: valid by the AsyncAPI parser (no error,
 * no warning), served at `/asyncapi.json` as the OpenAPI document describes it, and saying
 * what the event schemas say — every stream kind a channel, every event type and version a
 * message with its payload and metadata, the payloads checking real events as the store does.
 */
import { Parser } from '@asyncapi/parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { domainEvents, streamKinds, streamPattern } from '../domain/events.js';
import { eventsDescription } from '../infra/asyncapi/document.js';
import { apiDescription } from '../infra/http/openapi/document.js';
import { createHttpApp, listen, type RunningServer } from '../infra/http/server.js';
import { ResponseValidator } from './support/openapi-validator.js';

describe('AsyncAPI document of the domain events', function () {
  this.timeout(30_000);
  const document = eventsDescription();

  it('is a valid AsyncAPI 3.0 document: the parser finds no error and no warning', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    // Severity 0 is an error, 1 a warning; 2 and 3 are hints (the parser suggests the newest 3.x).
    const problems = diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(problems).to.deep.equal([]);
    expect(parsed, 'parsed').to.not.equal(undefined);
    expect(parsed!.version()).to.equal('3.0.0');
    expect(
      parsed!
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).to.deep.equal(streamKinds.map(streamPattern).sort());
    const account = parsed!
      .channels()
      .all()
      .find((c) => c.address() === 'account-{userId}')!;
    expect(
      account
        .parameters()
        .all()
        .map((p) => p.id()),
    ).to.deep.equal(['userId']);
    const deposited = account
      .messages()
      .all()
      .find((m) => m.id() === 'MoneyDeposited')!;
    expect(deposited.payload()?.properties()).to.include.keys('amount', 'balance', 'operationId');
    expect(deposited.headers()?.properties()).to.include.keys('correlationId', 'causationId', 'schemaVersion');
    expect(deposited.correlationId()?.location()).to.equal('$message.header#/correlationId');
  });

  it('the parser used above refuses a broken document (so the check above can fail)', async () => {
    const broken = {
      ...document,
      channels: { ...document.channels, account: { ...document.channels.account, address: 42 } },
    };
    const { diagnostics } = await new Parser().parse(JSON.stringify(broken));
    expect(diagnostics.filter((d) => d.severity === 0)).to.not.deep.equal([]);
  });

  it('has each event type in its stream’s channel, once per version, the current one sent by the marketplace', () => {
    for (const kind of streamKinds) {
      const channel = Object.values(document.channels).find((c) => c.address === streamPattern(kind))!;
      const names = Object.keys(channel.messages as object);
      const expected = kind.events.flatMap((e) =>
        e.versions.map((v) => (v.version === e.version ? e.type : `${e.type}.v${v.version}`)),
      );
      expect(names.sort(), streamPattern(kind)).to.deep.equal(expected.sort());
    }
    const sent = Object.values(document.operations).flatMap((op) =>
      (op.messages as Array<{ $ref: string }>).map((m) => m.$ref.split('/').at(-1)),
    );
    expect(sent.sort()).to.deep.equal(
      domainEvents
        .all()
        .map((e) => e.type)
        .sort(),
    );
    for (const type of domainEvents.all()) {
      const headers = document.components.messages[type.type]!.headers as {
        properties: { schemaVersion: { const: number } };
      };
      expect(headers.properties.schemaVersion.const, type.type).to.equal(type.version);
    }
  });

  it('its payload schemas accept what the store accepts and refuse what it refuses', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    for (const [name, schema] of Object.entries(document.components.schemas))
      ajv.addSchema(schema, `#/components/schemas/${name}`);
    const payload = ajv.getSchema('#/components/schemas/MoneyDeposited.v1')!;
    const good = {
      accountId: 'a',
      userId: 'u',
      operationId: 'o',
      amount: 1050,
      balance: 1050,
      at: '2026-11-21T10:00:00.000Z',
    };
    expect(payload(good), JSON.stringify(payload.errors)).to.equal(true);
    expect(domainEvents.problemWith('MoneyDeposited', good)).to.equal(null);
    for (const bad of [
      { ...good, amount: '10.50' },
      { ...good, amount: 10.5 },
      { ...good, extra: 1 },
      { ...good, at: 5 },
    ]) {
      expect(payload(bad), JSON.stringify(bad)).to.equal(false);
      expect(domainEvents.problemWith('MoneyDeposited', bad), JSON.stringify(bad)).to.be.a('string');
    }
  });

  describe('served', () => {
    let running: RunningServer;
    before(async () => {
      running = await listen(
        createHttpApp({
          dependencies: [{ name: 'eventStore', ping: async () => undefined }],
          logError: () => undefined,
        }),
        0,
        '127.0.0.1',
      );
    });
    after(async () => {
      await running.close(0);
    });

    it('GET /asyncapi.json is the document, as JSON, as the OpenAPI document describes it', async () => {
      const response = await fetch(`http://127.0.0.1:${running.port}/asyncapi.json`);
      const text = await response.text();
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^application\/json/);
      expect(JSON.parse(text)).to.deep.equal(JSON.parse(JSON.stringify(document)));
      expect(
        new ResponseValidator(apiDescription()).check({
          method: 'GET',
          path: '/asyncapi.json',
          status: 200,
          headers: response.headers,
          text,
        }),
      ).to.deep.equal([]);
    });
  });
});
