/**
 * The flags the server runs with, wherever it runs: `npm start`, the Docker image and the
 * benchmarks' server process use exactly these (`test/deployment.test.ts` checks it).
 *
 * A young generation of 64 MB per semi-space instead of V8's 16: a request allocates
 * briefly-lived objects (parsed bodies, events, promises), and with the default nursery
 * they are scavenged so often that the survivors of in-flight requests get promoted and
 * collected again later. Measured with `npm run bench:http`: about 8 % more deposits/s
 * at about 10 % less CPU per deposit. V8 grows the nursery to this size only while a
 * thread's allocation keeps it busy, so an idle process stays small; a busy thread can hold
 * up to ~150 MB more (within the 512 Mi the Kubernetes manifests allow a pod).
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];
