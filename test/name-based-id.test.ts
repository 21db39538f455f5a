/** Ids derived from names must never change: operation ids of deals and keyed requests already stored depend on them. */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { nameBasedUuid } from '../infra/eventsourcing/name-based-id.js';

describe('name-based ids', () => {
  it('are the version 5 UUIDs the uuid package makes, for any name and namespace', () => {
    const names = [
      '',
      'a',
      'déjà vu ✓ 🎉',
      '\n',
      'x'.repeat(10_000),
      ...Array.from({ length: 500 }, () => `${randomUUID()}:${Math.random()}`),
    ];
    const namespaces = ['c8a4b7e2-52d1-4f3e-9b6a-7d0e1f2a3b4c', '6A5E0C3E-2F0B-4E63-8D7A-0F3C9B1E2D44', randomUUID()];
    for (const namespace of namespaces)
      for (const name of names) expect(nameBasedUuid(name, namespace), name).to.equal(uuidv5(name, namespace));
  });

  it('match the RFC 9562 example (www.example.com in the DNS namespace)', () => {
    expect(nameBasedUuid('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).to.equal(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });

  it('refuse a namespace that is not a UUID', () => {
    expect(() => nameBasedUuid('a', 'not-a-uuid')).to.throw(TypeError, /not a UUID namespace/);
  });
});
