import { statSync } from 'node:fs';

const WAL_HEADER = 32;
const WAL_FRAME_HEADER = 24;
const PAGE_SIZE = 4096;

/** Pages written to a SQLite file's WAL so far (one frame per page per commit): what a change of batching shows in. */
export function walFrames(databaseFile: string): number {
  return (statSync(`${databaseFile}-wal`).size - WAL_HEADER) / (WAL_FRAME_HEADER + PAGE_SIZE);
}
