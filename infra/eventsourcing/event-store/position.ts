/**
 * A global position in `$all`. EventStoreDB has a commit and a prepare position (byte
 * offsets in its log); the embedded store uses its sequence number for both. Callers
 * treat it as opaque: compare with `comparePositions`, serialise with `formatPosition`.
 */
export interface Position {
  readonly commit: bigint;
  readonly prepare: bigint;
}

export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

export function isAfter(a: Position, b: Position | null | undefined): boolean {
  return !b || comparePositions(a, b) > 0;
}

/** `"<commit>-<prepare>"`, or just `"<commit>"` when both are equal (the embedded store). */
export function formatPosition(p: Position): string {
  return p.commit === p.prepare ? `${p.commit}` : `${p.commit}-${p.prepare}`;
}

const POSITION_TEXT = /^(\d{1,20})(?:-(\d{1,20}))?$/;
const MAX_U64 = (1n << 64n) - 1n;

/** Parses what `formatPosition` wrote; null for anything else (client input is untrusted). */
export function parsePosition(text: string): Position | null {
  const m = POSITION_TEXT.exec(text.trim());
  if (!m) return null;
  const commit = BigInt(m[1]!);
  const prepare = m[2] === undefined ? commit : BigInt(m[2]);
  if (commit > MAX_U64 || prepare > MAX_U64) return null;
  return { commit, prepare };
}

/**
 * A fixed-width text that sorts like the position, for stores that compare strings
 * (idempotency guards and checkpoints in document stores).
 */
export function sortablePosition(p: Position): string {
  return `${p.commit.toString().padStart(20, '0')}-${p.prepare.toString().padStart(20, '0')}`;
}

export function parseSortablePosition(text: string): Position {
  const [c, p] = text.split('-');
  return { commit: BigInt(c!), prepare: BigInt(p!) };
}
