/**
 * `npm run test:integration` runs the whole suite against real servers; without their
 * addresses it would quietly fall back to skipping them, so it refuses to start instead.
 */
const missing = ['EVENTSTORE_CONNECTION_STRING', 'MONGODB_URI'].filter((name) => !process.env[name]);
if (missing.length > 0) {
  console.error(`test:integration needs ${missing.join(' and ')}. Start the servers and point at them:

  docker compose up -d eventstoredb mongodb
  EVENTSTORE_CONNECTION_STRING='esdb://localhost:2113?tls=false' \\
  MONGODB_URI='mongodb://localhost:27017/?directConnection=true' \\
  npm run test:integration`);
  process.exit(1);
}
