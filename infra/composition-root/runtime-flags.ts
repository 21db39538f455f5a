/**
 * How the server process runs, wherever it runs: `npm start`, the Docker image and the
 * benchmarks' server process use exactly these (`test/deployment.test.ts` checks it). They
 * bound the process's memory, so a pod given 512 MiB never dies (docs/PERFORMANCE.md has
 * the budget part by part, and the measurements behind these in "Why the code is as it
 * is", "Heap limits and malloc arenas"):
 *
 * - the main thread's V8 heap: 16 MiB semi-spaces (larger ones gain a little throughput
 *   for more RSS than a 512 MiB pod can spare) and an old generation of at most 192 MiB.
 *   Without a limit V8 sizes its heap from the machine's memory and lets garbage grow the
 *   old generation far past the live data before collecting it.
 *   (The worker threads get their own limits where they are started.)
 * - glibc's malloc arenas: two, not eight per core. Every thread (four JavaScript threads,
 *   libuv's pool hashing passwords, SQLite in each) otherwise allocates from an arena of its
 *   own and keeps what it freed: RSS that no heap accounts for.
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
