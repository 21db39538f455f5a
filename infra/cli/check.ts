/**
 * `npm run cli -- check [--grace-seconds N]`: the consistency check of domain/audit.ts over
 * every event of the store, read page by page through the versioned store (so old versions
 * arrive upcast). Prints each check's summary, its notes and violations; exit code 2 on a
 * violation (1 stays for a failure to run).
 */
import { Audit, type CheckResult } from '../../domain/audit.js';
import type { EventStore } from '../eventsourcing/event-store/event-store.js';
import { formatPosition, type Position } from '../eventsourcing/event-store/position.js';

const PAGE = 5_000;

/** Every event of `$all` up to its head when the check starts, fed to an audit. */
export async function auditEventStore(eventStore: EventStore, now: Date, graceMs: number): Promise<CheckResult[]> {
  const audit = new Audit();
  const head = await eventStore.headPosition();
  let after: Position | null = null;
  while (head) {
    const page = await eventStore.readAll({ fromPosition: after ?? 'start', maxCount: PAGE });
    // A read includes the event at its starting position, which was fed already.
    const fresh = after ? page.filter((e) => formatPosition(e.position) !== formatPosition(after!)) : page;
    for (const event of fresh) {
      if (event.unreadable === undefined) audit.add({ id: event.id, type: event.type, data: event.data });
    }
    const last = page[page.length - 1];
    if (page.length < PAGE || !last) break;
    after = last.position;
  }
  return audit.findings(now, graceMs);
}

export function formatFindings(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.ok ? 'ok       ' : 'VIOLATED '} ${r.check}: ${r.summary}`);
    for (const note of r.notes) lines.push(`            note: ${note}`);
    for (const violation of r.violations) lines.push(`            ${violation}`);
  }
  const violated = results.filter((r) => !r.ok).map((r) => r.check);
  lines.push(violated.length === 0 ? 'consistent' : `INCONSISTENT: ${violated.join(', ')}`);
  return lines.join('\n');
}
