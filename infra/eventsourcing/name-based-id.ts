/**
 * Name-based (version 5, SHA-1) UUIDs, the same ones `uuid`'s v5 makes, hashed with
 * node's native one-shot SHA-1: uuid hashes in JavaScript, slower, and every keyed request
 * and every step of a deal derives one (docs/PERFORMANCE.md, "Why the code is as it is",
 * "Name-based ids hashed by node's one-shot SHA-1").
 */
import { hash as digest } from 'node:crypto';

const namespaces = new Map<string, Buffer>();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function namespaceBytes(namespace: string): Buffer {
  let bytes = namespaces.get(namespace);
  if (!bytes) {
    if (!UUID.test(namespace)) throw new TypeError(`not a UUID namespace: ${namespace}`);
    bytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    namespaces.set(namespace, bytes);
  }
  return bytes;
}

/** The version 5 UUID of `name` (UTF-8) in `namespace` (RFC 9562, section 5.5). */
export function nameBasedUuid(name: string, namespace: string): string {
  const ns = namespaceBytes(namespace);
  const input = Buffer.allocUnsafe(ns.length + Buffer.byteLength(name, 'utf8'));
  ns.copy(input, 0);
  input.write(name, ns.length, 'utf8');
  // One-shot hashing: a Hash object per id cost more than the hashing itself.
  const hash = digest('sha1', input, 'buffer');
  hash[6] = (hash[6]! & 0x0f) | 0x50; // version 5
  hash[8] = (hash[8]! & 0x3f) | 0x80; // RFC variant
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
