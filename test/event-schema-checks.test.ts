/**
 * The compiled checks (Ajv, from the JSON Schemas generated from the zod schemas) say what
 * zod says, for every version of every event type: on every event of the frozen histories,
 * and on each of them broken field by field — a field missing, of another type, a fraction
 * of a cent, one too many.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { domainEvents } from '../domain/events.js';
import { compiledChecks } from '../infra/event-schemas/compiled-checks.js';
import { HISTORIES_DIR, readHistories } from './frozen-histories/files.js';
import { repoDir } from './support/process.js';

const zod = domainEvents;
const compiled = domainEvents.withChecks(compiledChecks());
const stored = readHistories(join(repoDir, HISTORIES_DIR)).flatMap((h) => h.events);

/** Each value a field could wrongly hold. */
const wrongValues: unknown[] = [null, 'text', '10.50', 10.5, -1, 0, true, {}, [], { kind: 'deal' }];

function variants(data: Record<string, unknown>): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [data, { ...data, unexpected: 1 }];
  for (const [field, value] of Object.entries(data)) {
    const { [field]: _dropped, ...without } = data;
    out.push(without);
    for (const wrong of wrongValues) out.push({ ...data, [field]: wrong });
    if (value && typeof value === 'object')
      for (const inner of variants(value as Record<string, unknown>)) out.push({ ...data, [field]: inner });
  }
  return out;
}

describe('compiled event checks', function () {
  this.timeout(60_000);

  it('agree with zod on every stored event and on thousands of broken ones, for every version', () => {
    const firstOfEach = new Map<string, (typeof stored)[number]>();
    for (const event of stored)
      firstOfEach.set(
        `${event.type} ${String(event.metadata.schemaVersion ?? 1)}`,
        firstOfEach.get(`${event.type} ${String(event.metadata.schemaVersion ?? 1)}`) ?? event,
      );
    let compared = 0;
    const disagreements: string[] = [];
    const compare = (type: string, version: number, data: unknown) => {
      compared++;
      const byZod = zod.read(type, version, data);
      const byAjv = compiled.read(type, version, data);
      if (byZod.readable !== byAjv.readable)
        disagreements.push(
          `${type} v${version} ${JSON.stringify(data)}: zod ${JSON.stringify(byZod)}, compiled ${JSON.stringify(byAjv)}`,
        );
    };
    for (const event of stored) compare(event.type, Number(event.metadata.schemaVersion ?? 1), event.data);
    for (const event of firstOfEach.values()) {
      const type = domainEvents.get(event.type);
      if (!type) continue;
      for (const { version } of type.versions)
        for (const data of variants(event.data)) compare(event.type, version, data);
    }
    expect(disagreements.slice(0, 5)).to.deep.equal([]);
    expect(compared).to.be.greaterThan(3_000);
  });

  it('name the field that fails, as zod does', () => {
    const data = {
      accountId: 'a',
      userId: 'u',
      operationId: 'o',
      amount: 10.5,
      balance: 1050,
      at: '2026-11-21T10:00:00.000Z',
    };
    expect(compiled.problemWith('MoneyDeposited', data)).to.equal(
      'MoneyDeposited version 1 does not match its schema: amount: must be integer',
    );
    expect(compiled.problemWith('MoneyDeposited', { ...data, amount: 1, colour: 'red' })).to.equal(
      'MoneyDeposited version 1 does not match its schema: (data): must NOT have additional properties (colour)',
    );
    expect(compiled.problemWith('MoneyFound', {})).to.equal('MoneyFound is not an event type of this system');
  });
});
