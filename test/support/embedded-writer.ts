/**
 * A separate process that appends to an embedded event store and prints one line per
 * acknowledged append (`ack <revision>`), so tests can kill it mid-flight or watch a
 * second process see its writes. Usage: node embedded-writer.js <file> <stream> <count>
 */
import { v4 as uuid } from 'uuid';
import { openSqliteEventStore } from '../../infra/sqlite/event-store/sqlite-event-store.js';

const [file, stream, countText] = process.argv.slice(2);
if (!file || !stream || !countText) {
  console.error('usage: embedded-writer <file> <stream> <count>');
  process.exit(2);
}
const store = openSqliteEventStore({ file });
let expected: number | 'no_stream' = 'no_stream';
for (let i = 0; i < Number(countText); i++) {
  const result = await store.appendToStream(stream, [{ id: uuid(), type: 'Written', data: { i } }], {
    expectedRevision: expected,
  });
  expected = result.nextExpectedRevision;
  process.stdout.write(`ack ${expected}\n`);
}
await store.close();
