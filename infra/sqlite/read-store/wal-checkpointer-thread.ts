/** The checkpointer's thread (see wal-checkpointer.ts). Message in: 'stop'. Out: { error } when a checkpoint fails. */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

if (!parentPort) throw new Error('wal-checkpointer-thread runs as a worker thread');
const port = parentPort;
const { file, everyMs } = workerData as { file: string; everyMs: number };

interface CheckpointRow {
  busy: number;
  /** Frames in the WAL when the pass began. */
  log: number;
  checkpointed: number;
}

/** Frames a pass may find new and still leave RESTART little enough to hold writers off for. */
const SMALL_TAIL = 200;
const MAX_PASSES = 4;

function describe(error: unknown): string {
  // A SqliteError crosses threads without its message: say it here.
  return error instanceof Error ? error.message : String(error);
}

function open(): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // Syncs the WAL before copying it back and the database file after: a power cut during
  // a checkpoint then loses nothing the WAL held.
  db.pragma('synchronous = NORMAL');
  // How long RESTART waits for the writer's transaction in progress and for readers of the old WAL.
  db.pragma('busy_timeout = 200');
  return db;
}

/**
 * PASSIVE copies (and syncs) what the WAL holds while the projections go on writing. It
 * never lets the WAL start over, though: they write during it, so it ends behind, and a
 * WAL restarts only when a writer finds it all copied back. So: PASSIVE again over what was
 * written meanwhile until little is new, then RESTART copies that little, holding writers
 * off for that moment only, and has the next commit start the WAL over.
 */
function copyBack(db: Database.Database): void {
  const checkpoint = (mode: 'PASSIVE' | 'RESTART') => (db.pragma(`wal_checkpoint(${mode})`) as CheckpointRow[])[0]!;
  let pass = checkpoint('PASSIVE');
  for (let passes = 1; passes < MAX_PASSES; passes++) {
    const before = pass.log;
    pass = checkpoint('PASSIVE');
    if (pass.log - before <= SMALL_TAIL) break;
  }
  checkpoint('RESTART');
}

function run(): void {
  let db: Database.Database;
  try {
    db = open();
  } catch (error) {
    // Nothing to do here without the file: say why, and let the thread end.
    port.postMessage({ error: describe(error) });
    port.close();
    return;
  }
  const timer = setInterval(() => {
    try {
      copyBack(db);
    } catch (error) {
      port.postMessage({ error: describe(error) });
    }
  }, everyMs);
  port.on('message', (message: unknown) => {
    if (message !== 'stop') return;
    clearInterval(timer);
    db.close();
    port.close();
  });
}

run();
