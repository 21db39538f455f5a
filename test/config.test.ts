import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configurationTable, loadConfig, settings, type Config } from '../infra/config/config.js';
import { repoDir } from './support/process.js';

type Env = Record<string, string>;

/** Expects `env` to be refused with a ConfigError naming the variable, the value and what is allowed. */
function expectRefused(env: Env, variable: string, allowed: RegExp | string): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught, `${JSON.stringify(env)} should be refused`).to.be.instanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.message).to.include(`${variable}=${JSON.stringify(env[variable])}`);
  expect(error.message).to.include('is not valid');
  if (typeof allowed === 'string') expect(error.message).to.include(allowed);
  else expect(error.message).to.match(allowed);
  return error;
}

/** Expects `env` to be refused naming the variable and what is allowed, never the value: the variable holds a secret. */
function expectRefusedSecret(env: Env, variable: string, allowed: string): ConfigError {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught, `${variable} should be refused`).to.be.instanceOf(ConfigError);
  const error = caught as ConfigError;
  // Exactly this: the variable, why its value is not shown, and what is allowed.
  expect(error.message).to.equal(`${variable} is not valid (its value is not shown: it is a secret): ${allowed}`);
  return error;
}

function accepted(env: Env): Config {
  return loadConfig(env);
}

/** What an empty environment gives (settings added later are checked by 'applies each setting's documented default'). */
const defaults: Partial<Config> = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: './data',
  eventStore: 'embedded',
  eventStoreConnectionString: undefined,
  embeddedDurability: 'full',
  readStore: 'embedded',
  mongodbUri: undefined,
  mongodbDb: 'marketplace',
  projectionBatchSize: 500,
  projectionMaxAttempts: 5,
  logLevel: 'info',
  shutdownTimeoutMs: 10000,
};

describe('configuration', () => {
  describe('defaults', () => {
    it('runs fully embedded on port 8080 when nothing is set', () => {
      expect(loadConfig({})).to.deep.include(defaults);
    });

    it("applies each setting's documented default (the one the README table shows)", () => {
      const config = loadConfig({});
      expect(Object.keys(config)).to.have.members(Object.keys(settings));
      for (const [key, setting] of Object.entries(settings)) {
        const value = config[key as keyof Config];
        expect(value === undefined ? undefined : String(value), setting.name).to.equal(setting.defaultText);
      }
    });

    it('treats an empty variable as unset', () => {
      const empty = Object.fromEntries(Object.values(settings).map((s) => [s.name, '']));
      expect(loadConfig(empty)).to.deep.equal(loadConfig({}));
    });

    it('ignores variables it does not know', () => {
      expect(loadConfig({ UNRELATED: 'x', PORTS: 'nope' })).to.deep.equal(loadConfig({}));
    });

    it('reads process.env when no environment is passed', () => {
      const saved = process.env.PROJECTION_BATCH_SIZE;
      process.env.PROJECTION_BATCH_SIZE = '42';
      try {
        expect(loadConfig().projectionBatchSize).to.equal(42);
      } finally {
        if (saved === undefined) delete process.env.PROJECTION_BATCH_SIZE;
        else process.env.PROJECTION_BATCH_SIZE = saved;
      }
    });
  });

  describe('whole-number settings', () => {
    const ranges: Array<{ variable: string; key: keyof Config; min: number; max: number }> = [
      { variable: 'PORT', key: 'port', min: 0, max: 65535 },
      { variable: 'PROJECTION_BATCH_SIZE', key: 'projectionBatchSize', min: 1, max: 10000 },
      { variable: 'PROJECTION_MAX_ATTEMPTS', key: 'projectionMaxAttempts', min: 1, max: 100 },
      { variable: 'SHUTDOWN_TIMEOUT_MS', key: 'shutdownTimeoutMs', min: 0, max: 600000 },
      // Below 24 h would break the specification's promise to remember keys that long.
      { variable: 'IDEMPOTENCY_RETENTION_HOURS', key: 'idempotencyRetentionHours', min: 24, max: 8760 },
    ];
    for (const { variable, key, min, max } of ranges) {
      describe(variable, () => {
        const allowed = `expected a whole number from ${min} to ${max}`;

        it(`accepts ${min}, ${max} and a value in between, as numbers`, () => {
          for (const value of [min, Math.floor((min + max) / 2), max]) {
            expect(accepted({ [variable]: String(value) })[key]).to.equal(value);
          }
        });

        it(`refuses ${min - 1} and ${max + 1} (out of range), naming the range`, () => {
          expectRefused({ [variable]: String(min - 1) }, variable, allowed);
          expectRefused({ [variable]: String(max + 1) }, variable, allowed);
        });

        it('refuses text that is not a plain whole number', () => {
          for (const raw of ['abc', '12abc', '1.5', '-1', '+5', '1e3', '0x10', 'NaN', 'Infinity', '9'.repeat(30)]) {
            expectRefused({ [variable]: raw }, variable, allowed);
          }
        });
      });
    }

    it('accepts PORT=0 (the system picks a free port)', () => {
      expect(accepted({ PORT: '0' }).port).to.equal(0);
    });

    it('accepts surrounding spaces and leading zeros in a number', () => {
      expect(accepted({ PORT: ' 8081 ' }).port).to.equal(8081);
      expect(accepted({ PORT: '08081' }).port).to.equal(8081);
    });

    it('quotes the refused value in the message: PORT="70000" is not valid: expected a whole number from 0 to 65535', () => {
      const error = expectRefused({ PORT: '70000' }, 'PORT', 'expected a whole number from 0 to 65535');
      expect(error.message).to.equal('PORT="70000" is not valid: expected a whole number from 0 to 65535');
      expect(error.name).to.equal('ConfigError');
    });
  });

  describe('choice settings', () => {
    const choices: Array<{ variable: string; key: keyof Config; values: string[] }> = [
      { variable: 'EVENT_STORE', key: 'eventStore', values: ['embedded', 'esdb'] },
      { variable: 'EMBEDDED_DURABILITY', key: 'embeddedDurability', values: ['full', 'normal'] },
      { variable: 'READ_STORE', key: 'readStore', values: ['embedded', 'mongo'] },
      {
        variable: 'LOG_LEVEL',
        key: 'logLevel',
        values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      },
    ];
    // What the cross-setting checks need for the non-default choices to load.
    const companions: Env = {
      EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
      MONGODB_URI: 'mongodb://localhost:27017',
    };

    for (const { variable, key, values } of choices) {
      describe(variable, () => {
        it(`accepts ${values.join(', ')}`, () => {
          for (const value of values) expect(accepted({ ...companions, [variable]: value })[key]).to.equal(value);
        });

        it('refuses an unknown value, listing the allowed ones', () => {
          for (const raw of ['foo', values[0]!.toUpperCase(), ` ${values[0]!}`, `${values[0]!},${values[1]!}`]) {
            expectRefused({ ...companions, [variable]: raw }, variable, `expected one of ${values.join(', ')}`);
          }
        });
      });
    }
  });

  describe('text settings', () => {
    it('takes HOST and DATA_DIR as given', () => {
      const config = accepted({ HOST: '127.0.0.1', DATA_DIR: '/var/lib/market place' });
      expect(config.host).to.equal('127.0.0.1');
      expect(config.dataDir).to.equal('/var/lib/market place');
    });

    describe('MONGODB_DB', () => {
      const allowed = 'expected 1-63 letters, digits, _ or -';

      it('accepts 1 to 63 letters, digits, _ and -', () => {
        for (const name of ['a', 'marketplace', 'Market_place-2', '0', 'x'.repeat(63)]) {
          expect(accepted({ MONGODB_DB: name }).mongodbDb).to.equal(name);
        }
      });

      it('refuses names MongoDB would reject or that are too long', () => {
        for (const raw of ['x'.repeat(64), 'has space', 'a.b', 'a/b', 'a\\b', '$cmd', 'a"b', 'é']) {
          expectRefused({ MONGODB_DB: raw }, 'MONGODB_DB', allowed);
        }
      });
    });

    describe('EVENTSTORE_CONNECTION_STRING', () => {
      const allowed = 'expected an esdb:// or esdb+discover:// connection string';

      it('accepts esdb:// and esdb+discover:// strings', () => {
        for (const value of [
          'esdb://localhost:2113?tls=false',
          'esdb+discover://admin:changeit@cluster.example.com:2113',
          'esdb://a:2113,b:2113,c:2113',
        ]) {
          expect(
            accepted({ EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: value }).eventStoreConnectionString,
          ).to.equal(value);
        }
      });

      it('refuses other schemes, an empty host and spaces', () => {
        for (const raw of [
          'http://localhost:2113',
          'localhost:2113',
          'esdb://',
          'esdb+discover://',
          'ESDB://localhost:2113',
          'esdb://local host:2113',
          'tcp://localhost:1113',
        ]) {
          expectRefusedSecret(
            { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: raw },
            'EVENTSTORE_CONNECTION_STRING',
            allowed,
          );
        }
      });

      it('is optional for the embedded event store', () => {
        expect(accepted({ EVENT_STORE: 'embedded' }).eventStoreConnectionString).to.equal(undefined);
      });
    });

    describe('MONGODB_URI', () => {
      const allowed = 'expected a mongodb:// or mongodb+srv:// connection string';

      it('accepts mongodb:// and mongodb+srv:// strings', () => {
        for (const value of [
          'mongodb://localhost:27017',
          'mongodb+srv://user:pw@cluster0.example.net/?retryWrites=true',
          'mongodb://a:27017,b:27017/?replicaSet=rs0',
        ]) {
          expect(accepted({ READ_STORE: 'mongo', MONGODB_URI: value }).mongodbUri).to.equal(value);
        }
      });

      it('refuses other schemes, an empty host and spaces', () => {
        for (const raw of [
          'http://localhost:27017',
          'localhost:27017',
          'mongodb://',
          'mongodb+srv://',
          'mongo://localhost',
          'mongodb://local host',
        ]) {
          expectRefusedSecret({ READ_STORE: 'mongo', MONGODB_URI: raw }, 'MONGODB_URI', allowed);
        }
      });

      it('is optional for the embedded read store', () => {
        expect(accepted({ READ_STORE: 'embedded' }).mongodbUri).to.equal(undefined);
      });
    });
  });

  describe('secrets', () => {
    it('marks the settings that hold a password, a key or credentials as secret, and only those', () => {
      const secret = Object.values(settings)
        .filter((s: { secret?: true }) => s.secret)
        .map((s) => s.name);
      expect(secret).to.have.members([
        'EVENTSTORE_CONNECTION_STRING',
        'MONGODB_URI',
        'BROKER_PASSWORD',
        'JWT_PRIVATE_KEY',
        'EMAIL_CLAIM_SECRET',
      ]);
    });

    it('never quotes a refused secret: not the password, not the credentials in a connection string', () => {
      const cases: Array<[Env, string, string, string]> = [
        [
          { READ_STORE: 'mongo', MONGODB_URI: 'mongodb://app:s3cr3t-Pa55@db host:27017' },
          'MONGODB_URI',
          'expected a mongodb:// or mongodb+srv:// connection string',
          's3cr3t-Pa55',
        ],
        [
          { EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: 'esdb://admin:changeit-2@esdb host:2113' },
          'EVENTSTORE_CONNECTION_STRING',
          'expected an esdb:// or esdb+discover:// connection string',
          'changeit-2',
        ],
        [
          { BROKER_EMAIL: 'broker@example.com', BROKER_PASSWORD: 'hunt' },
          'BROKER_PASSWORD',
          'expected 5 to 128 characters',
          'hunt',
        ],
        [
          { BROKER_EMAIL: 'broker@example.com', BROKER_PASSWORD: `long-secret-${'x'.repeat(200)}` },
          'BROKER_PASSWORD',
          'expected 5 to 128 characters',
          'long-secret-',
        ],
      ];
      for (const [env, variable, allowed, secret] of cases) {
        const error = expectRefusedSecret(env, variable, allowed);
        expect(error.message, variable).not.to.include(secret);
      }
    });
  });

  describe('settings that depend on each other', () => {
    it('refuses EVENT_STORE=esdb without EVENTSTORE_CONNECTION_STRING, saying what is missing with an example', () => {
      expect(() => loadConfig({ EVENT_STORE: 'esdb' })).to.throw(
        ConfigError,
        'EVENTSTORE_CONNECTION_STRING is required when EVENT_STORE=esdb (e.g. esdb://localhost:2113?tls=false)',
      );
      expect(() => loadConfig({ EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: '' })).to.throw(
        ConfigError,
        /EVENTSTORE_CONNECTION_STRING is required/,
      );
    });

    it('refuses READ_STORE=mongo without MONGODB_URI, saying what is missing with an example', () => {
      expect(() => loadConfig({ READ_STORE: 'mongo' })).to.throw(
        ConfigError,
        'MONGODB_URI is required when READ_STORE=mongo (e.g. mongodb://localhost:27017)',
      );
      expect(() => loadConfig({ READ_STORE: 'mongo', MONGODB_URI: '' })).to.throw(
        ConfigError,
        /MONGODB_URI is required/,
      );
    });

    it('loads the full server setup (EventStoreDB + MongoDB)', () => {
      const config = loadConfig({
        EVENT_STORE: 'esdb',
        EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
        READ_STORE: 'mongo',
        MONGODB_URI: 'mongodb://localhost:27017',
        MONGODB_DB: 'market_test',
      });
      expect(config).to.include({
        eventStore: 'esdb',
        eventStoreConnectionString: 'esdb://localhost:2113?tls=false',
        readStore: 'mongo',
        mongodbUri: 'mongodb://localhost:27017',
        mongodbDb: 'market_test',
      });
    });
  });

  describe('configurationTable()', () => {
    const table = configurationTable();
    const lines = table.split('\n');

    it('is a markdown table with a header and one row per setting', () => {
      expect(lines[0]).to.equal('| Variable | Default | What it does |');
      expect(lines[1]).to.equal('|---|---|---|');
      expect(lines).to.have.length(Object.keys(settings).length + 2);
    });

    it('lists every setting by name, in declaration order, with its default and description', () => {
      const rows = lines.slice(2);
      Object.values(settings).forEach((setting, i) => {
        const row = rows[i]!;
        expect(row, setting.name).to.match(new RegExp(`^\\| \`${setting.name}\` \\| `));
        expect(row).to.include(setting.defaultText === undefined ? '| – |' : `| \`${setting.defaultText}\` |`);
        expect(row.endsWith(`| ${setting.description} |`), row).to.equal(true);
      });
    });

    it('names every variable the configuration reads exactly once', () => {
      const names = Object.values(settings).map((s) => s.name);
      expect(new Set(names).size).to.equal(names.length);
      const known = [
        'PORT',
        'HOST',
        'DATA_DIR',
        'EVENT_STORE',
        'EVENTSTORE_CONNECTION_STRING',
        'EMBEDDED_DURABILITY',
        'READ_STORE',
        'MONGODB_URI',
        'MONGODB_DB',
      ];
      for (const name of [
        ...known,
        'PROJECTION_BATCH_SIZE',
        'PROJECTION_MAX_ATTEMPTS',
        'LOG_LEVEL',
        'SHUTDOWN_TIMEOUT_MS',
      ]) {
        expect(table).to.include(`| \`${name}\` |`);
      }
    });

    it('shows the defaults that loadConfig applies', () => {
      expect(table).to.include('| `PORT` | `8080` |');
      expect(table).to.include('| `EVENT_STORE` | `embedded` |');
      expect(table).to.include('| `EVENTSTORE_CONNECTION_STRING` | – |');
      expect(table).to.include('| `MONGODB_URI` | – |');
    });

    it('keeps three cells per row (no description contains an unescaped |)', () => {
      for (const line of lines) {
        const cells = line.replace(/\\\|/g, '').split('|');
        expect(cells, line).to.have.length(5); // leading and trailing empty strings around 3 cells
      }
    });
  });

  describe('README.md', () => {
    it('contains exactly the generated configuration table', () => {
      const file = join(repoDir, 'README.md');
      expect(existsSync(file), `${file} does not exist yet`).to.equal(true);
      const readme = readFileSync(file, 'utf8');
      expect(
        readme.includes(configurationTable()),
        'README.md is missing the current configurationTable() output; regenerate it',
      ).to.equal(true);
    });
  });
});
