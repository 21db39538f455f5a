/**
 * How the server process runs, wherever it runs: `npm start`, the Docker image and the
 * benchmarks' server process use exactly these (`test/deployment.test.ts` checks it). They
 * bound the process's memory, so a pod given 512 MiB never dies (docs/PERFORMANCE.md has
 * the budget part by part and the measurements behind it):
 *
 * - the main thread's V8 heap: 16 MiB semi-spaces (32 gave ~7 % more orders/s in
 *   bench:trading but ~45 MiB more RSS in a long run, too close to 512 MiB) and an old
 *   generation of at most 192 MiB. Without a limit V8 sizes its heap from the machine's
 *   memory and let garbage grow the old generation to 300+ MiB before collecting it, while
 *   the live data stayed under 90 MiB.
 *   (The worker threads get their own limits where they are started.)
 * - glibc's malloc arenas: two, not eight per core. Every thread (four JavaScript threads,
 *   libuv's pool hashing passwords, SQLite in each) otherwise allocates from an arena of its
 *   own and keeps what it freed: ~150 MiB of RSS that no heap accounted for.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=16', '--max-old-space-size=192'];

/** Read by glibc when the process starts, so it is set in the environment that starts it. */
export const SERVER_ENVIRONMENT = { MALLOC_ARENA_MAX: '2' } as const;

/** `npm start`'s command line: the environment, then node with its flags. */
export const SERVER_COMMAND = [
  ...Object.entries(SERVER_ENVIRONMENT).map(([name, value]) => `${name}=${value}`),
  'node',
  ...SERVER_NODE_FLAGS,
  'dist/infra/composition-root/main.js',
].join(' ');
