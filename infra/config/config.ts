import { checkOverloadSettings, overloadSettings } from './overload-settings.js';
import { ConfigError, integer, oneOf, optionalText, originList, text, type Setting } from './settings.js';

export { ConfigError } from './settings.js';

export const settings = {
  role: oneOf(
    'ROLE',
    ['all', 'api', 'projector'] as const,
    'all',
    'What this process runs. `all`: the HTTP API, the projections and the process managers (one process is the whole product); `api`: only the HTTP API (stateless, any number of replicas; read-your-writes follows the checkpoints the projector processes store); `projector`: only the projections and process managers (leases keep one active instance of each across replicas), serving `/health` and `/ready`.',
  ),
  port: integer('PORT', 8080, 0, 65535, 'TCP port of the HTTP API.'),
  host: text('HOST', '0.0.0.0', 'Interface the HTTP API listens on.'),
  corsAllowedOrigins: originList(
    'CORS_ALLOWED_ORIGINS',
    'Origins (`https://app.example.com`, comma-separated) whose pages may call the API from a browser: their preflights are answered and their answers carry `Access-Control-Allow-Origin` and expose `ETag`, `X-Event-Position`, `Link`, `Retry-After` and `X-Correlation-Id`. Empty (the default): no cross-origin access.',
  ),
  dataDir: text(
    'DATA_DIR',
    './data',
    'Directory of the embedded stores (`events.db`, `read.db`, `idempotency.db`, `personal-keys.db`), of the signing keys kept (`jwt-signing-key.json`, and `jwt-keys/` once rotated) and of a generated email-claim secret; created if missing, mode 0700, its files 0600 (files left more open are made so at start-up; an existing directory others can enter is reported, not changed).',
  ),
  eventStore: oneOf(
    'EVENT_STORE',
    ['embedded', 'esdb'] as const,
    'embedded',
    '`embedded`: SQLite in `DATA_DIR`; `esdb`: EventStoreDB at `EVENTSTORE_CONNECTION_STRING`.',
  ),
  eventStoreConnectionString: optionalText(
    'EVENTSTORE_CONNECTION_STRING',
    'EventStoreDB connection string, required when `EVENT_STORE=esdb` (e.g. `esdb://localhost:2113?tls=false`).',
    {
      test: /^esdb(\+discover)?:\/\/\S+$/,
      allowed: 'expected an esdb:// or esdb+discover:// connection string',
      // It may carry a user and password (esdb://admin:changeit@…).
      secret: true,
    },
  ),
  embeddedDurability: oneOf(
    'EMBEDDED_DURABILITY',
    ['full', 'normal'] as const,
    'full',
    '`full`: every acknowledged append survives a power cut (WAL synced per commit); `normal`: survives a killed process, not a power cut.',
  ),
  readStore: oneOf(
    'READ_STORE',
    ['embedded', 'mongo'] as const,
    'embedded',
    '`embedded`: SQLite in `DATA_DIR`; `mongo`: MongoDB at `MONGODB_URI`.',
  ),
  mongodbUri: optionalText('MONGODB_URI', 'MongoDB connection string, required when `READ_STORE=mongo`.', {
    test: /^mongodb(\+srv)?:\/\/\S+$/,
    allowed: 'expected a mongodb:// or mongodb+srv:// connection string',
    // It may carry a user and password (mongodb://user:pw@…).
    secret: true,
  }),
  mongodbDb: text('MONGODB_DB', 'marketplace', 'MongoDB database holding the read models.', {
    test: /^[A-Za-z0-9_-]{1,63}$/,
    allowed: 'expected 1-63 letters, digits, _ or -',
  }),
  projectionBatchSize: integer(
    'PROJECTION_BATCH_SIZE',
    500,
    1,
    10000,
    'Most events a projection applies in one commit.',
  ),
  projectionThread: oneOf(
    'PROJECTION_THREAD',
    ['worker', 'main'] as const,
    'worker',
    '`worker`: `npm start` builds the read models in a worker thread (a second core for them); `main`: in the thread that serves requests. Process managers always run with the requests.',
  ),
  projectionLiveBatchMs: integer(
    'PROJECTION_LIVE_BATCH_MS',
    5,
    0,
    1000,
    'Once caught up, a projection starts a batch at most this often, so events arriving together are committed together (read models lag by up to this much more).',
  ),
  projectionMaxAttempts: integer(
    'PROJECTION_MAX_ATTEMPTS',
    5,
    1,
    100,
    'Tries of an event that keeps failing before it is parked (recorded, logged, shown by `projections status`) and skipped.',
  ),
  brokerEmail: optionalText(
    'BROKER_EMAIL',
    'Email of the one broker account (receives commissions, lists items). Created at start-up when absent, with `BROKER_PASSWORD`; without it no broker exists until `npm run cli -- broker provision` creates one.',
    { test: /^\S+@\S+\.\S+$/, allowed: 'expected an email address' },
  ),
  brokerPassword: optionalText(
    'BROKER_PASSWORD',
    'Password of the broker account when it is created (5-128 characters); an existing broker keeps its password (reset it with the CLI).',
    {
      test: /^.{5,128}$/s,
      allowed: 'expected 5 to 128 characters',
      secret: true,
    },
  ),
  readYourWritesTimeoutMs: integer(
    'READ_YOUR_WRITES_TIMEOUT_MS',
    5000,
    0,
    60000,
    'How long a query given an `X-Event-Position` waits for the read models before answering 503 with `Retry-After`.',
  ),
  readyMaxLagEvents: integer(
    'READY_MAX_LAG_EVENTS',
    1000,
    0,
    10_000,
    '`/ready` answers 503 while a read model the API answers from has more than this many events still to take in (or is being rebuilt).',
  ),
  readyMaxLagMs: integer(
    'READY_MAX_LAG_MS',
    30000,
    0,
    3_600_000,
    '`/ready` answers 503 while the oldest event a read model the API answers from has yet to take in is older than this.',
  ),
  logLevel: oneOf(
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    'info',
    'Least severe level written to the JSON log (stdout for the server, stderr for the CLI).',
  ),
  startupTimeoutMs: integer(
    'STARTUP_TIMEOUT_MS',
    30000,
    100,
    600000,
    'How long start-up waits for EventStoreDB and MongoDB to answer; then the process stops with one line naming the store it could not reach (exit code 1).',
  ),
  shutdownTimeoutMs: integer(
    'SHUTDOWN_TIMEOUT_MS',
    10000,
    0,
    600000,
    'On SIGTERM/SIGINT, how long in-flight requests may take to finish before connections are cut.',
  ),
  // infra/auth/keys.ts checks the keys and names the variable only, never the key.
  jwtPrivateKey: optionalText(
    'JWT_PRIVATE_KEY',
    'PEM private key access tokens are signed with: RSA of 2048+ bits (RS256), EC P-256 (ES256) or Ed25519 (EdDSA); line breaks may be written as `\\n`. Set together with `JWT_PUBLIC_KEY`. With neither this nor `JWT_KEY_FILE`, a key is generated once into `DATA_DIR/jwt-signing-key.json`, and `npm run cli -- keys rotate` rotates the keys kept there (a key given here is not rotated).',
    { secret: true },
  ),
  jwtPublicKey: optionalText(
    'JWT_PUBLIC_KEY',
    'PEM public key of `JWT_PRIVATE_KEY` (the pair is checked at start-up); line breaks may be written as `\\n`.',
  ),
  jwtKeyFile: optionalText(
    'JWT_KEY_FILE',
    'Path of a private JWK (JSON) to sign access tokens with, instead of the PEM pair; its `kid` and `alg` are used when present. A file its group or others can open is used, with a warning in the log.',
  ),
  jwtIssuer: text('JWT_ISSUER', 'marketplace', '`iss` of the access tokens issued; tokens with another are refused.'),
  jwtAudience: text(
    'JWT_AUDIENCE',
    'marketplace-api',
    '`aud` of the access tokens issued; tokens for another are refused.',
  ),
  jwtLifetimeSeconds: integer(
    'JWT_LIFETIME_SECONDS',
    86400,
    60,
    2592000,
    'How long an access token is valid, in seconds.',
  ),
  idempotencyRetentionHours: integer(
    'IDEMPOTENCY_RETENTION_HOURS',
    24,
    24,
    8760,
    'How long the answer to a request with an `Idempotency-Key` is kept for replay, in hours (the specification asks for at least 24). Kept next to the read models: `DATA_DIR/idempotency.db`, or a TTL-indexed MongoDB collection (purged every minute on FerretDB).',
  ),
  snapshotEveryEvents: integer(
    'SNAPSHOT_EVERY_EVENTS',
    500,
    10,
    1_000_000,
    "A stream's state is snapshotted once at least this many events were folded since its last snapshot (and a state that takes long to decode waits for proportionally more): loading a stream never folds more than about this many events. Embedded: a table in `events.db`; EventStoreDB: a `snapshot-<stream>` stream keeping its last event.",
  ),
  embeddedPageCacheMb: integer(
    'EMBEDDED_PAGE_CACHE_MB',
    128,
    8,
    65_536,
    "SQLite page cache of a server process's connections to `events.db` and `read.db` together, in MiB (shared out by role: the event writer and the read-model writer get most). Part of what bounds the process's memory (see docs/PERFORMANCE.md).",
  ),
  streamCacheMegabytes: integer(
    'STREAM_CACHE_MB',
    64,
    1,
    4096,
    'Budget of the folded stream states kept in memory for commands, in MiB (each state counted by an estimate of its size); the least recently used are let go past it.',
  ),
  marketOrderMemorySeconds: integer(
    'MARKET_ORDER_MEMORY_SECONDS',
    60,
    1,
    86_400,
    'How long after its submission a market remembers a closed or refused order, so that a racing copy of the placement or a redelivered submission changes nothing; a placement arriving later is refused as expired. The longer, the more memory a busy item holds (a cancel of an order the market forgot is answered from the read models).',
  ),
  emailClaimSecret: optionalText(
    'EMAIL_CLAIM_SECRET',
    "The secret of the keyed hash that names each email address's claim stream (hex or base64, at least 16 bytes), so no stream name carries an address. Unset: generated once into `DATA_DIR/email-claim.secret`. Every process writing to one event store must use the same secret, and it must never change (claims made with another are not found): set it when the processes share no data directory (EventStoreDB with MongoDB).",
    { secret: true },
  ),
  signedOutRecheckMs: integer(
    'SIGNED_OUT_RECHECK_MS',
    1000,
    0,
    60_000,
    'How long a token found not signed out is believed so without asking the read model again (0: ask on every request). A logout through this process counts at once; one through another API process within this long after the read model has it.',
  ),
  ...overloadSettings,
  streamPollMs: integer(
    'STREAM_POLL_MS',
    100,
    10,
    10_000,
    'While a live stream (`GET /api/v1/notifications/stream`) is open, how often this process looks in the read store for new letters and order changes (one query for all its streams): the most a live event waits after its read model has it.',
  ),
  streamHeartbeatSeconds: integer(
    'STREAM_HEARTBEAT_SECONDS',
    15,
    1,
    3600,
    'How often a live stream with nothing to send sends a comment line, so proxies keep it open and a client can tell a quiet stream from a dead one.',
  ),
  streamBufferKb: integer(
    'STREAM_BUFFER_KB',
    256,
    16,
    65_536,
    'How much a live stream may have waiting to be sent to a client that does not read it fast enough (KiB); past it the stream is closed and the client resumes from its `Last-Event-ID` when it comes back.',
  ),
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

/** Reads and checks the environment; a wrong value throws a `ConfigError` naming the variable and what is allowed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Object.fromEntries loses the per-key types; the mapped type restores them.
  const parsed = Object.fromEntries(
    Object.entries(settings).map(([key, setting]) => [key, setting.parse(env[setting.name])]),
  ) as Config;
  if (parsed.eventStore === 'esdb' && !parsed.eventStoreConnectionString) {
    throw new ConfigError(
      'EVENTSTORE_CONNECTION_STRING is required when EVENT_STORE=esdb (e.g. esdb://localhost:2113?tls=false)',
    );
  }
  if (Boolean(parsed.brokerEmail) !== Boolean(parsed.brokerPassword)) {
    throw new ConfigError('BROKER_EMAIL and BROKER_PASSWORD are set together (or neither)');
  }
  if (parsed.readStore === 'mongo' && !parsed.mongodbUri) {
    throw new ConfigError('MONGODB_URI is required when READ_STORE=mongo (e.g. mongodb://localhost:27017)');
  }
  checkOverloadSettings(parsed);
  return parsed;
}

/** The README's configuration table, generated from `settings`. */
export function configurationTable(): string {
  const rows = Object.values(settings).map(
    (s: Setting<unknown>) =>
      `| \`${s.name}\` | ${s.defaultText === undefined ? '–' : `\`${s.defaultText}\``} | ${s.description} |`,
  );
  return ['| Variable | Default | What it does |', '|---|---|---|', ...rows].join('\n');
}
