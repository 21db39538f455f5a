import { MongoServerError } from 'mongodb';

/** What MongoDB answers when a write collides on a unique index (11001: older servers' code for the same). */
export const DUPLICATE_KEY_CODES: ReadonlySet<number> = new Set([11000, 11001]);

/** A single write refused for a duplicate key: for the stores whose first insert wins. */
export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && typeof error.code === 'number' && DUPLICATE_KEY_CODES.has(error.code);
}
