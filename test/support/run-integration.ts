/**
 * `npm run test:integration`: the whole suite against real servers, by default the ones
 * `docker compose up -d` starts. Suites that need a server then fail when it is not there,
 * instead of being skipped.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

import { INTEGRATION_DEFAULTS } from './integration-defaults.js';

const env = { ...process.env };
for (const [name, value] of Object.entries(INTEGRATION_DEFAULTS)) env[name] ||= value;
console.log(`test:integration on EventStoreDB ${env.EVENTSTORE_CONNECTION_STRING} and MongoDB ${env.MONGODB_URI}`);

const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
const child = spawn(process.execPath, [mocha, 'dist/test/**/*.test.js', ...process.argv.slice(2)], {
  env,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
