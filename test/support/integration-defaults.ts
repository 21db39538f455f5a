/** Where docker-compose.yml publishes the stores: what `npm run test:integration` uses unless told otherwise. */
export const INTEGRATION_DEFAULTS = {
  EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
  MONGODB_URI: 'mongodb://localhost:27017/?directConnection=true',
} as const;
