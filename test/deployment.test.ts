/**
 * The deployment files agree with the code. Docker and a cluster are not available here,
 * so the facts they rely on are checked by reading the files: the Dockerfile's stages,
 * user, install and entry point; the compose file's wiring; and every Kubernetes manifest's
 * selectors, ports, probes and environment — every variable named anywhere must be a
 * setting `infra/config/config.ts` declares, and each pod's environment must load.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig, settings } from '../infra/config/config.js';
import { loadSigningKeys } from '../infra/auth/keys.js';
import { SERVER_COMMAND, SERVER_ENVIRONMENT, SERVER_NODE_FLAGS } from '../infra/composition-root/runtime-flags.js';
import { distDir, repoDir, runNode, tempDir } from './support/process.js';
import { INTEGRATION_DEFAULTS } from './support/integration-defaults.js';

const declared = new Set(Object.values(settings).map((s) => s.name));
const roles = ['all', 'api', 'projector'];
const defaultPort = Number(settings.port.defaultText);

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML documents; a loose shape is all a test reading them needs.
type Manifest = any;

function read(...path: string[]): string {
  return readFileSync(join(repoDir, ...path), 'utf8');
}

// ---- Dockerfile ------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function dockerInstructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** The instructions of each stage (from one FROM to the next). */
function stages(instructions: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') result.push([]);
    result.at(-1)?.push(instruction);
  }
  return result;
}

describe('deployment files agree with the code', () => {
  describe('Dockerfile', () => {
    const instructions = dockerInstructions(read('Dockerfile'));
    const all = stages(instructions);
    const runtime = all.at(-1)!;

    it('is multi-stage: the image that runs is not the one that compiled', () => {
      expect(all.length).to.be.at.least(2);
      expect(
        instructions
          .filter((i) => i.keyword === 'RUN')
          .map((i) => i.args)
          .join('\n'),
      ).to.include('npm run build');
      const runtimeRuns = runtime
        .filter((i) => i.keyword === 'RUN')
        .map((i) => i.args)
        .join('\n');
      expect(runtimeRuns, 'no compiler in the runtime stage').not.to.match(/g\+\+|build-essential|npm run build/);
      expect(runtime.some((i) => i.keyword === 'COPY' && i.args.includes('--from='))).to.equal(true);
    });

    it('installs the production dependencies with npm ci --omit=dev, and ships them', () => {
      const install = all.find((stage) => stage.some((i) => i.keyword === 'RUN' && /npm ci --omit=dev/.test(i.args)));
      expect(install, 'a stage runs npm ci --omit=dev').not.to.equal(undefined);
      const name = /\bAS\s+(\S+)/i.exec(install![0]!.args)?.[1];
      expect(
        runtime.some(
          (i) => i.keyword === 'COPY' && i.args.includes(`--from=${name}`) && i.args.includes('node_modules'),
        ),
      ).to.equal(true);
    });

    it('is built and run on Node.js 22 (20 is past its end of life): one base image for every stage, a tag of that line or a digest', () => {
      const arg = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
      expect(arg, 'ARG NODE_IMAGE=… names the base image once').not.to.equal(undefined);
      const image = arg!.args.slice('NODE_IMAGE='.length);
      expect(image).to.match(/^node:22(\.\d+){0,2}-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
      const names: string[] = [];
      const base = ['$', '{NODE_IMAGE}'].join('');
      for (const stage of all) {
        const [from = '', as, name] = stage[0]!.args.split(/\s+/);
        expect([...names, base], `FROM ${from}: the base image or an earlier stage`).to.include(from);
        if (as?.toUpperCase() === 'AS' && name) names.push(name);
      }
      expect(read('Dockerfile')).not.to.match(/\bnode:(1\d|20|21)\b/);
    });

    it('installs with install-time telemetry off (the build stage says SCARF_ANALYTICS=false, package.json turns scarf off)', () => {
      const build = all.find((stage) => stage.some((i) => i.keyword === 'RUN' && /npm ci(?! --omit)/.test(i.args)));
      const env = build!
        .filter((i) => i.keyword === 'ENV')
        .map((i) => i.args)
        .join(' ');
      expect(env).to.match(/\bSCARF_ANALYTICS=false\b/);
      expect((JSON.parse(read('package.json')) as { scarfSettings?: unknown }).scarfSettings).to.deep.equal({
        enabled: false,
      });
    });

    it('runs as a user that is not root', () => {
      const users = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
      expect(users).to.have.length.at.least(1);
      expect(users.at(-1)).not.to.match(/^(root|0)(:|$)/);
    });

    it('runs the built entry point directly with node (prestart would need tsc), and that file is built', () => {
      const cmd = runtime.filter((i) => i.keyword === 'CMD').at(-1);
      const command = JSON.parse(cmd!.args) as string[];
      expect(command).to.deep.equal(['node', ...SERVER_NODE_FLAGS, 'dist/infra/composition-root/main.js']);
      expect(existsSync(join(distDir, 'infra', 'composition-root', 'main.js'))).to.equal(true);
    });

    it('runs the server with the same node flags and environment as `npm start`', () => {
      const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
      expect(scripts.start).to.equal(SERVER_COMMAND);
      const env = runtime
        .filter((i) => i.keyword === 'ENV')
        .map((i) => i.args)
        .join(' ');
      for (const [name, value] of Object.entries(SERVER_ENVIRONMENT))
        expect(env).to.match(new RegExp(`\\b${name}=${value}\\b`));
    });

    it('checks /health with node (no curl in the slim image) on PORT', () => {
      const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK');
      expect(healthcheck?.args).to.match(/CMD\s+\["node"/);
      expect(healthcheck?.args).to.include('/health');
      expect(healthcheck?.args).to.include('process.env.PORT');
    });

    it("exposes PORT's default and sets only declared settings", () => {
      expect(runtime.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args)).to.deep.equal([String(defaultPort)]);
      const env = runtime
        .filter((i) => i.keyword === 'ENV')
        .flatMap((i) => [...i.args.matchAll(/(\w+)=/g)].map((m) => m[1]!));
      const runtimeEnvironment = ['NODE_ENV', ...Object.keys(SERVER_ENVIRONMENT)];
      for (const name of env.filter((n) => !runtimeEnvironment.includes(n))) expect(declared, name).to.include(name);
      expect(env).to.include('DATA_DIR');
      expect(runtime.some((i) => i.keyword === 'VOLUME' && i.args.includes('/data'))).to.equal(true);
    });

    it('.dockerignore keeps node_modules, dist and local data out of the build', () => {
      const ignored = read('.dockerignore')
        .split('\n')
        .map((l) => l.trim());
      for (const entry of ['node_modules', 'dist', 'data']) expect(ignored).to.include(entry);
    });
  });

  describe('docker-compose.yml and docker-compose.app.yml', () => {
    const storesFile = read('docker-compose.yml');
    const appFile = read('docker-compose.app.yml');
    const stores = parseYaml(storesFile, { merge: true }) as Manifest;
    const app = parseYaml(appFile, { merge: true }) as Manifest;
    // What `docker compose -f docker-compose.yml -f docker-compose.app.yml` sees.
    const compose: Manifest = {
      services: { ...stores.services, ...app.services },
      volumes: { ...stores.volumes, ...app.volumes },
    };
    const services = compose.services as Record<string, Manifest>;

    /** `${NAME:-default}` as compose would read it with NAME unset; `${NAME:?…}` as if NAME were set to a test value. */
    const withDefaults = (value: unknown) =>
      String(value)
        .replace(/\$\{\w+:-([^}]*)\}/g, '$1')
        .replace(/\$\{\w+:\?[^}]*\}/g, 'a-test-secret');
    const envOf = (service: string) =>
      Object.fromEntries(
        Object.entries(services[service].environment as Record<string, unknown>).map(([k, v]) => [k, withDefaults(v)]),
      );

    it('`docker compose up -d` starts only the stores and needs no secret', () => {
      expect(Object.keys(stores.services).sort()).to.deep.equal(['eventstoredb', 'mongodb']);
      expect(storesFile).not.to.match(/\$\{\w+:?\?/);
      expect(services.eventstoredb.image).to.match(/^eventstore\/eventstore:24\.10/);
      expect(services.mongodb.image).to.match(/^mongo:8/);
    });

    it('publishes every port on 127.0.0.1 only', () => {
      for (const [name, service] of Object.entries(services)) {
        for (const port of (service.ports ?? []) as string[]) expect(port, name).to.match(/^127\.0\.0\.1:/);
      }
    });

    it('takes the broker password from the environment, with no default', () => {
      for (const service of ['api', 'projector']) {
        expect(String(services[service].environment.BROKER_PASSWORD), service).to.match(
          /^\$\{BROKER_PASSWORD:\?[^}]+\}$/,
        );
      }
      expect(appFile).not.to.match(/BROKER_PASSWORD:-/);
    });

    it('the stores listen where `npm run test:integration` looks by default', () => {
      expect(services.eventstoredb.ports).to.deep.equal(['127.0.0.1:2113:2113']);
      expect(services.mongodb.ports).to.deep.equal(['127.0.0.1:27017:27017']);
      expect(INTEGRATION_DEFAULTS.EVENTSTORE_CONNECTION_STRING).to.equal('esdb://localhost:2113?tls=false');
      expect(INTEGRATION_DEFAULTS.MONGODB_URI).to.match(/^mongodb:\/\/localhost:27017\//);
    });

    it('keeps the stores usable alone, with health checks', () => {
      for (const store of ['eventstoredb', 'mongodb']) {
        expect(services[store].healthcheck?.test, store).to.not.equal(undefined);
        expect(services[store].depends_on, `${store} depends on nothing`).to.equal(undefined);
      }
    });

    for (const [service, role] of [
      ['api', 'api'],
      ['projector', 'projector'],
    ] as const) {
      it(`${service}: built from the Dockerfile with ROLE=${role}, only declared settings, an environment that loads`, () => {
        expect(services[service].build).to.equal('.');
        const env = envOf(service);
        for (const name of Object.keys(env)) expect(declared, `${service} sets ${name}`).to.include(name);
        const config = loadConfig(env);
        expect(config.role).to.equal(role);
        expect(config).to.include({ eventStore: 'esdb', readStore: 'mongo' });
        // The connection strings name the compose services.
        expect(config.eventStoreConnectionString).to.match(/^esdb:\/\/eventstoredb:2113/);
        expect(config.mongodbUri).to.match(/^mongodb:\/\/mongodb:27017/);
        for (const store of ['eventstoredb', 'mongodb'])
          expect(services[service].depends_on[store], store).to.deep.equal({ condition: 'service_healthy' });
        // Published ports reach the port the process listens on.
        for (const published of services[service].ports as string[])
          expect(published.split(':').at(-1)).to.equal(String(config.port));
        expect(config.brokerPassword).to.equal('a-test-secret');
      });
    }

    it('api processes share one signing key: the same DATA_DIR volume (or a key pair in the environment)', () => {
      const api = envOf('api');
      const projector = envOf('projector');
      if (api.JWT_PRIVATE_KEY) {
        expect(projector.JWT_PRIVATE_KEY).to.equal(api.JWT_PRIVATE_KEY);
        return;
      }
      expect(services.api.deploy?.replicas ?? 1).to.be.at.least(2);
      const dataVolume = (service: string) =>
        (services[service].volumes as string[]).find((v) => v.endsWith(`:${envOf(service).DATA_DIR}`));
      expect(dataVolume('api'), 'DATA_DIR is a volume').to.match(/^[\w-]+:/);
      expect(dataVolume('projector')).to.equal(dataVolume('api'));
      expect(Object.keys(compose.volumes)).to.include(dataVolume('api')!.split(':')[0]);
    });
  });

  describe('Kubernetes (deploy/k8s, kustomize)', () => {
    const k8sDir = join(repoDir, 'deploy', 'k8s');
    const kustomization = parseYaml(read('deploy', 'k8s', 'kustomization.yaml')) as Manifest;
    const files = kustomization.resources as string[];
    const manifests: Manifest[] = files.flatMap((file) =>
      parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8')).map((doc) => {
        expect(doc.errors, file).to.deep.equal([]);
        return doc.toJS() as Manifest;
      }),
    );
    const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
    const named = (kind: string, name: string) => byKind(kind).find((m) => m.metadata.name === name);
    const configMap = named('ConfigMap', 'marketplace-config');
    // The Secret comes from secrets.env (never committed); its example has the same names.
    const secretGenerator = (kustomization.secretGenerator as Manifest[]).find((g) => g.name === 'marketplace-secrets');
    const secretExample = read('deploy', 'k8s', 'secrets.env.example');
    const secretExampleValues = Object.fromEntries(
      secretExample
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const secretNames = Object.keys(secretExampleValues);

    /** A container's environment as the pod sees it (ConfigMap and Secret keys, then `env`). */
    function podEnv(container: Manifest): Record<string, string> {
      const env: Record<string, string> = {};
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) Object.assign(env, named('ConfigMap', source.configMapRef.name).data);
        if (source.secretRef) {
          expect(source.secretRef.name).to.equal(secretGenerator.name);
          Object.assign(env, secretExampleValues);
        }
      }
      for (const entry of container.env ?? []) env[entry.name] = entry.value;
      return env;
    }

    it('lists every manifest of the folder, and they parse', () => {
      const yamlFiles = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
      expect([...files].sort()).to.deep.equal(yamlFiles.sort());
      expect(
        byKind('Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).to.deep.equal(['marketplace-api', 'marketplace-projector']);
      expect(secretGenerator.envs).to.deep.equal(['secrets.env']);
    });

    it('names only declared settings, in the ConfigMap, the Secret and every container', () => {
      for (const name of Object.keys(configMap.data)) expect(declared, `ConfigMap ${name}`).to.include(name);
      for (const name of secretNames) expect(declared, `Secret ${name}`).to.include(name);
      for (const deployment of byKind('Deployment')) {
        for (const container of deployment.spec.template.spec.containers) {
          for (const entry of container.env ?? [])
            expect(declared, `${deployment.metadata.name} ${entry.name}`).to.include(entry.name);
        }
      }
    });

    for (const [deployment, role] of [
      ['marketplace-api', 'api'],
      ['marketplace-projector', 'projector'],
    ] as const) {
      describe(deployment, () => {
        const manifest = named('Deployment', deployment);
        const pod = manifest.spec.template;
        const container = pod.spec.containers[0];
        const env = podEnv(container);

        it('selects its own pods', () => {
          const selector = manifest.spec.selector.matchLabels as Record<string, string>;
          expect(Object.keys(selector)).to.have.length.at.least(1);
          expect(pod.metadata.labels).to.deep.include(selector);
        });

        it(`runs ROLE=${role} with an environment that loads`, () => {
          expect(roles).to.include(env.ROLE);
          const config = loadConfig(env);
          expect(config.role).to.equal(role);
          expect(config).to.include({ eventStore: 'esdb', readStore: 'mongo' });
        });

        it('listens on the container port, and probes /health and /ready on it', () => {
          const port = loadConfig(env).port;
          expect(container.ports.map((p: Manifest) => p.containerPort)).to.deep.equal([port]);
          const containerPort = (ref: string | number) =>
            typeof ref === 'number' ? ref : container.ports.find((p: Manifest) => p.name === ref)?.containerPort;
          expect(container.livenessProbe.httpGet.path).to.equal('/health');
          expect(container.readinessProbe.httpGet.path).to.equal('/ready');
          for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
            if (container[probe]) expect(containerPort(container[probe].httpGet.port), probe).to.equal(port);
          }
        });

        it('runs as a user that is not root', () => {
          expect(pod.spec.securityContext.runAsNonRoot).to.equal(true);
          expect(pod.spec.securityContext.runAsUser).to.be.greaterThan(0);
        });

        it('gives a stopping pod more time than its own shutdown takes', () => {
          expect(pod.spec.terminationGracePeriodSeconds * 1000).to.be.greaterThan(loadConfig(env).shutdownTimeoutMs);
        });
      });
    }

    it('the projector runs at least one replica (leases keep one active instance per projection)', () => {
      expect(named('Deployment', 'marketplace-projector').spec.replicas).to.be.at.least(1);
    });

    it('the Service selects exactly the api pods and forwards to their container port', () => {
      const service = named('Service', 'marketplace-api');
      const api = named('Deployment', 'marketplace-api').spec.template;
      const projector = named('Deployment', 'marketplace-projector').spec.template;
      const selects = (labels: Record<string, string>) =>
        Object.entries(service.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v);
      expect(selects(api.metadata.labels)).to.equal(true);
      expect(selects(projector.metadata.labels), 'projector pods serve no API').to.equal(false);
      const container = api.spec.containers[0];
      for (const port of service.spec.ports) {
        const target =
          typeof port.targetPort === 'number'
            ? port.targetPort
            : container.ports.find((p: Manifest) => p.name === port.targetPort)?.containerPort;
        expect(target).to.equal(loadConfig(podEnv(container)).port);
      }
    });

    it('the autoscaler scales the api Deployment (and nothing sets its replicas against it)', () => {
      const [hpa] = byKind('HorizontalPodAutoscaler');
      expect(hpa.spec.scaleTargetRef).to.deep.equal({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'marketplace-api',
      });
      expect(hpa.spec.minReplicas).to.be.at.least(2);
      expect(hpa.spec.maxReplicas).to.be.at.least(hpa.spec.minReplicas);
      expect(named('Deployment', 'marketplace-api').spec.replicas).to.equal(undefined);
      // CPU utilisation needs a CPU request to be measured against.
      expect(named('Deployment', 'marketplace-api').spec.template.spec.containers[0].resources.requests.cpu).to.be.a(
        'string',
      );
    });

    it('EventStoreDB and MongoDB are external Services named by the connection strings', () => {
      const config = loadConfig(configMap.data);
      for (const [service, text] of [
        ['eventstoredb', config.eventStoreConnectionString],
        ['mongodb', config.mongodbUri],
      ] as const) {
        expect(named('Service', service)?.spec.type, service).to.equal('ExternalName');
        expect(text).to.match(new RegExp(`^\\w[\\w+]*://${service}:`));
      }
    });

    it('make-secrets.mjs writes a secrets.env the server accepts: broker credentials and a signing key pair', async function () {
      this.timeout(20_000);
      const dir = tempDir('market-secrets-');
      try {
        const out = join(dir.path, 'secrets.env');
        const args = ['--broker-email', 'broker@example.com', '--broker-password', 'a good secret', '--out', out];
        const made = await runNode(join(k8sDir, 'make-secrets.mjs'), args, process.env);
        expect(made.code, made.stderr).to.equal(0);
        const written = readFileSync(out, 'utf8').trim().split('\n');
        // What kustomize makes of an env file: one variable per line, the value as written.
        const env = Object.fromEntries(
          written.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        );
        expect(Object.keys(env).sort()).to.deep.equal([...secretNames].sort());
        const config = loadConfig({ ...configMap.data, ...env });
        expect(config).to.include({ brokerEmail: 'broker@example.com', brokerPassword: 'a good secret' });
        const keys = await loadSigningKeys({
          privateKeyPem: config.jwtPrivateKey,
          publicKeyPem: config.jwtPublicKey,
          dataDir: dir.path,
        });
        expect(keys.alg).to.equal('RS256');
        // A second run keeps the key (replacing it would sign everyone out) unless forced.
        const again = await runNode(join(k8sDir, 'make-secrets.mjs'), args, process.env);
        expect(again.code).to.equal(1);
        expect(again.stderr).to.include('--force');
      } finally {
        dir.remove();
      }
    });
  });
});
