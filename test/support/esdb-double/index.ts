/**
 * An in-process gRPC double of EventStoreDB's Streams API, for driving the unmodified
 * `@eventstore/db-client` in tests. See server.ts for the options and the README-style notes
 * at the top of each module for what is reproduced and on which server sources it is based.
 */
export { startEsdbDouble, type EsdbDouble, type EsdbDoubleOptions } from './server.js';
export { DoubleCluster } from './cluster.js';
export { EventLog } from './store.js';
