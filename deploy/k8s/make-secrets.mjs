#!/usr/bin/env node
/**
 * Writes deploy/k8s/secrets.env, the source of the `marketplace-secrets` Secret: the
 * broker's credentials and a fresh RS256 key pair that every API pod signs and verifies
 * tokens with. Plain node, no dependencies, so it runs before anything is installed.
 *
 *   node deploy/k8s/make-secrets.mjs --broker-email broker@example.com --broker-password '…' [--out FILE] [--force]
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'broker-email': { type: 'string' },
    'broker-password': { type: 'string' },
    out: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'secrets.env') },
    force: { type: 'boolean', default: false },
  },
});

function fail(message) {
  console.error(`make-secrets: ${message}`);
  process.exit(1);
}

const email = values['broker-email'];
const password = values['broker-password'];
if (!email || !/^\S+@\S+\.\S+$/.test(email)) fail('--broker-email <email address> is required');
// The server's own rule for BROKER_PASSWORD; a line break would also break the env file.
if (!password || password.length < 5 || password.length > 128 || /[\r\n]/.test(password))
  fail('--broker-password takes 5 to 128 characters on one line');
if (existsSync(values.out) && !values.force)
  fail(`${values.out} exists (a new key would sign out everyone): pass --force to replace it`);

// RSA: verification, the per-request cost, is fastest with RS256 (see infra/auth/keys.ts).
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// One line per variable: the PEM's line breaks as \n, which the server reads back.
const oneLine = (pem) => pem.trim().replace(/\r?\n/g, '\\n');
const lines = [
  `BROKER_EMAIL=${email}`,
  `BROKER_PASSWORD=${password}`,
  `JWT_PRIVATE_KEY=${oneLine(privateKey.export({ type: 'pkcs8', format: 'pem' }))}`,
  `JWT_PUBLIC_KEY=${oneLine(publicKey.export({ type: 'spki', format: 'pem' }))}`,
];
writeFileSync(values.out, `${lines.join('\n')}\n`, { mode: 0o600 });
console.log(`wrote ${values.out}; now: kubectl apply -k ${dirname(values.out)}`);
