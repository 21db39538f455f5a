/**
 * The API description: a valid OpenAPI 3.1 document that describes exactly the routes the
 * server mounts, served at `/openapi.json`, browsable offline at `/docs`; and the response
 * validator the HTTP tests check every answer with really catches drift.
 */
import { request as httpRequest } from 'node:http';
import { Validator } from '@seriousme/openapi-schema-validator';
import type Router from '@koa/router';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import type Koa from 'koa';
import { apiDescription, type Json, type OpenApiDocument } from '../infra/http/openapi/document.js';
import type { ApiServices } from '../infra/http/routes/context.js';
import { createHttpApp, listen, type RunningServer } from '../infra/http/server.js';
import { Metrics } from '../infra/metrics/metrics.js';
import type { TokenService } from '../infra/auth/tokens.js';
import type { ConsistencyGate } from '../infra/eventsourcing/subscriptions/consistency.js';
import { ResponseValidator, type ObservedAnswer } from './support/openapi-validator.js';

const document = apiDescription();
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Every operation of the document, with where it is. */
function allOperations(doc: OpenApiDocument = document) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation: operation! })),
  );
}

/** "METHOD /path/{param}" of every route the app's routers hold (HEAD comes with GET). */
function mountedRoutes(app: Koa): string[] {
  const routes = new Set<string>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    for (const layer of router?.stack ?? []) {
      for (const method of layer.methods) {
        if (method === 'HEAD') continue;
        routes.add(`${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`);
      }
    }
  }
  return [...routes].sort();
}

/** The app with every router mounted; nothing is called while routes are built, so the API's services can be stand-ins. */
function fullApp(): Koa {
  const unused = {} as never;
  return createHttpApp({
    dependencies: [],
    logError: () => undefined,
    metrics: new Metrics(),
    api: {
      services: unused as ApiServices,
      tokens: unused as TokenService,
      signedOut: { isSignedOut: async () => false },
      gate: unused as ConsistencyGate,
      readYourWritesTimeoutMs: 1000,
    },
  });
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request with the path sent exactly as written (fetch would resolve `..`). */
function rawGet(port: number, path: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('API description (OpenAPI)', function () {
  this.timeout(20_000);

  describe('the document', () => {
    it('is a valid OpenAPI 3.1 document', async () => {
      const validator = new Validator();
      const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
      expect(result.errors, JSON.stringify(result.errors)).to.equal(undefined);
      expect(result.valid).to.equal(true);
      expect(validator.version).to.equal('3.1');
    });

    it('the OpenAPI validator used above refuses a broken document (so the check above can fail)', async () => {
      const broken = structuredClone(document) as unknown as { paths: Record<string, unknown> };
      broken.paths['/broken'] = { get: { responses: { 200: { summary: 'no description' } } } };
      expect((await new Validator().validate(broken)).valid).to.equal(false);
    });

    it('every schema in it compiles as strict JSON Schema 2020-12, and every $ref resolves', () => {
      const ajv = new Ajv2020({ strict: true });
      addFormats.default(ajv);
      ajv.addVocabulary(['openapi', 'info', 'tags', 'paths', 'components']);
      ajv.addSchema(document as unknown as Json, 'openapi.json');
      const pointers: string[] = [];
      const visit = (value: unknown, at: string[]) => {
        if (!value || typeof value !== 'object') return;
        for (const [key, inner] of Object.entries(value)) {
          if (key === '$ref' && typeof inner === 'string') {
            expect(resolvePointer(inner), `${at.join('/')}: ${inner}`).to.not.equal(undefined);
          }
          // Schemas of parameters, headers and bodies (no property of ours is called `schema`).
          if (key === 'schema') pointers.push([...at, key].map(escapePointerToken).join('/'));
          visit(inner, [...at, key]);
        }
      };
      visit(document, []);
      for (const name of Object.keys(document.components.schemas))
        pointers.push(['components', 'schemas', name].join('/'));
      expect(pointers.length).to.be.greaterThan(100);
      for (const pointer of pointers)
        expect(() => ajv.compile({ $ref: `openapi.json#/${pointer}` }), pointer).to.not.throw();
    });

    it('every operation has an id of its own, a summary, a success answer, the error body for every error, and declares its path parameters', () => {
      const ids = new Set<string>();
      for (const { path, method, operation } of allOperations()) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(ids.has(operation.operationId), `${where}: operationId ${operation.operationId} is unique`).to.equal(
          false,
        );
        ids.add(operation.operationId);
        expect(operation.summary, where).to.be.a('string').and.not.equal('');
        const statuses = Object.keys(operation.responses).map(Number);
        expect(
          statuses.some((s) => s >= 200 && s < 300),
          `${where} has a success answer`,
        ).to.equal(true);
        expect(statuses, `${where} documents 500`).to.include(500);
        for (const status of statuses) {
          const response = operation.responses[String(status)]!;
          expect(response.headers?.['X-Correlation-Id'], `${where} ${status} sends X-Correlation-Id`).to.not.equal(
            undefined,
          );
          if (status < 400 || (path === '/ready' && status === 503)) continue;
          const schema = response.content?.['application/json']?.schema as { allOf?: Json[] } | undefined;
          expect(schema?.allOf?.[0], `${where} ${status} answers with the Problem body`).to.deep.equal({
            $ref: '#/components/schemas/Problem',
          });
        }
        const declared = operation.parameters.filter((p) => p.in === 'path').map((p) => p.name);
        const inTemplate = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect(declared, `${where} path parameters`).to.deep.equal(inTemplate);
      }
    });

    it('describes the headers of the contract: ETag, If-Match, Idempotency-Key (and X-Request-Id), X-Event-Position both ways, Link, limit and cursor, the bearer scheme', () => {
      const deposit = document.paths['/api/v1/billing/account/deposit']!.post!;
      const names = deposit.parameters.map((p) => resolvePointer(String(p.$ref)) as Json).map((p) => p.name);
      expect(names).to.include.members(['If-Match', 'Idempotency-Key', 'X-Request-Id', 'X-Correlation-Id']);
      expect(Object.keys(deposit.responses)).to.include.members(['204', '401', '412', '422', '428']);
      expect(deposit.responses['204']!.headers).to.have.keys(
        'ETag',
        'X-Event-Position',
        'X-Correlation-Id',
        'Idempotent-Replayed',
      );
      expect(deposit.security).to.deep.equal([{ bearer: [] }]);

      const operations = document.paths['/api/v1/billing/operations']!.get!;
      const queries = operations.parameters
        .map((p) => resolvePointer(String(p.$ref)) as Json)
        .map((p) => `${String(p.in)}:${String(p.name)}`);
      expect(queries).to.include.members([
        'query:limit',
        'query:cursor',
        'query:minPosition',
        'header:X-Event-Position',
      ]);
      expect(operations.responses['200']!.headers).to.include.keys('Link');
      expect(operations.responses['503']!.headers).to.include.keys('Retry-After');

      expect(document.paths['/api/v1/billing/account']!.get!.responses['200']!.headers).to.include.keys('ETag');
      expect(document.paths['/api/v1/identity/register']!.post!.security, 'registering is public').to.equal(undefined);
      expect(document.components.securitySchemes.bearer).to.include({
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      });
    });

    it('describes exactly the routes the server mounts (a route without a description, or a description without a route, fails here)', () => {
      const described = allOperations()
        .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
        .sort();
      const mounted = mountedRoutes(fullApp());
      expect(mounted.length).to.be.greaterThan(20);
      expect(mounted).to.deep.equal(described);
      for (const { method, path } of allOperations()) expect(METHODS, `${method} ${path}`).to.include(method);
    });

    it('request bodies are the schemas the server validates with, as the client writes them (money before it becomes cents)', () => {
      const body =
        document.paths['/api/v1/billing/account/deposit']!.post!.requestBody!.content['application/json']!.schema!;
      expect(body).to.deep.include({ type: 'object', required: ['amount'], additionalProperties: false });
      expect((body.properties as Record<string, Json>).amount).to.include({
        type: 'number',
        minimum: 1,
        maximum: 10000,
      });
    });
  });

  describe('served', () => {
    let running: RunningServer;
    let base: string;

    before(async () => {
      running = await listen(
        createHttpApp({
          dependencies: [{ name: 'eventStore', ping: async () => undefined }],
          logError: () => undefined,
        }),
        0,
        '127.0.0.1',
      );
      base = `http://127.0.0.1:${running.port}`;
    });
    after(async () => {
      await running.close(0);
    });

    const observe = async (path: string, method = 'GET'): Promise<ObservedAnswer & { response: Response }> => {
      const response = await fetch(base + path, { method });
      const text = await response.text();
      return { method, path, status: response.status, headers: response.headers, text, response };
    };

    it('GET /openapi.json is the document, as JSON, and is itself as the document describes', async () => {
      const answer = await observe('/openapi.json');
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.match(/^application\/json/);
      expect(JSON.parse(answer.text)).to.deep.equal(JSON.parse(JSON.stringify(document)));
      expect(new ResponseValidator(document).check(answer)).to.deep.equal([]);
    });

    it('GET /health and /ready answer as described', async () => {
      const validator = new ResponseValidator(document);
      for (const path of ['/health', '/ready']) {
        const answer = await observe(path);
        expect(answer.status).to.equal(200);
        expect(validator.check(answer), path).to.deep.equal([]);
      }
    });

    it('GET /docs is an HTML page that loads only files of this server, under a CSP that allows nothing else', async () => {
      const answer = await observe('/docs');
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.match(/^text\/html/);
      expect(new ResponseValidator(document).check(answer)).to.deep.equal([]);
      const csp = answer.headers.get('content-security-policy') ?? '';
      expect(csp).to.include("default-src 'none'").and.include("script-src 'self'");
      expect(csp).to.not.match(/https?:|\*/);
      expect(answer.text, 'no absolute or protocol-relative URL').to.not.match(/(https?:)?\/\/[a-z0-9]/i);
      const referenced = [...answer.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(referenced).to.include.members([
        '/docs/swagger-ui.css',
        '/docs/swagger-ui-bundle.js',
        '/docs/initializer.js',
      ]);
      for (const url of referenced) expect(url, url).to.match(/^\/docs\/[\w.-]+$/);
    });

    it('every file the page references is served with its content type, and the page starts Swagger UI on /openapi.json', async () => {
      const page = await observe('/docs');
      const expected: Record<string, RegExp> = { css: /^text\/css/, js: /^text\/javascript/, png: /^image\/png$/ };
      const validator = new ResponseValidator(document);
      for (const url of [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
        const answer = await observe(url);
        expect(answer.status, url).to.equal(200);
        expect(answer.headers.get('content-type'), url).to.match(expected[url.split('.').pop()!]!);
        expect(answer.text.length, url).to.be.greaterThan(50);
        expect(validator.check(answer), url).to.deep.equal([]);
      }
      const bundle = await observe('/docs/swagger-ui-bundle.js');
      expect(bundle.text).to.include('SwaggerUIBundle');
      const initializer = await observe('/docs/initializer.js');
      expect(initializer.text).to.include("url: '/openapi.json'").and.include('validatorUrl: null');
    });

    it("the asset route serves nothing but the page's files: traversal, other files of the package, anything else → 404", async () => {
      for (const path of [
        '/docs/../package.json',
        '/docs/..%2Fpackage.json',
        '/docs/%2e%2e%2f%2e%2e%2fpackage.json',
        '/docs/..%5c..%5cpackage.json',
        '/docs/%2e%2e/%2e%2e/%2e%2e/package.json',
        '/docs/package.json',
        '/docs/swagger-ui-bundle.js.map',
        '/docs/index.html',
        '/docs/constructor',
        '/docs/__proto__',
        '/docs/%00',
      ]) {
        const answer = await rawGet(running.port, path);
        expect(answer.status, path).to.equal(404);
        expect(JSON.parse(answer.text), path).to.include({ code: 404 });
        expect(answer.text, path).to.not.include('"dependencies"');
      }
    });
  });

  describe('the response validator of the HTTP tests', () => {
    const validator = new ResponseValidator(document);
    const headers = (values: Record<string, string>) => new Headers(values);
    const account = {
      id: 'a1',
      amount: 10.5,
      createdAt: '2024-05-01T10:00:00.000Z',
      updatedAt: '2024-05-01T10:00:00.000Z',
    };
    const accountAnswer = (body: unknown, extra: Record<string, string> = { etag: '"3"' }): ObservedAnswer => ({
      method: 'GET',
      path: '/api/v1/billing/account',
      status: 200,
      headers: headers({ 'content-type': 'application/json; charset=utf-8', 'x-correlation-id': 'c1', ...extra }),
      text: JSON.stringify(body),
    });

    it('passes an answer that is as described', () => {
      expect(validator.check(accountAnswer(account))).to.deep.equal([]);
      expect(
        validator.check({ ...accountAnswer(account), path: '/api/v1/billing/account?minPosition=5' }),
      ).to.deep.equal([]);
    });

    it('reports a body that does not match the schema: a wrong type, a field missing, a field not described', () => {
      expect(validator.check(accountAnswer({ ...account, amount: '10.50' })).join()).to.include(
        '/amount must be number',
      );
      const { updatedAt: _dropped, ...missing } = account;
      expect(validator.check(accountAnswer(missing)).join()).to.include("must have required property 'updatedAt'");
      expect(validator.check(accountAnswer({ ...account, revision: 3 })).join()).to.include(
        'must NOT have additional properties',
      );
    });

    it('reports a status the operation does not document', () => {
      const problems = validator.check({ ...accountAnswer({ code: 418, message: 'teapot' }), status: 418 });
      expect(problems.join()).to.include('status 418 is not documented for GET /api/v1/billing/account');
    });

    it('reports a header documented as always sent that is missing, and a malformed one', () => {
      expect(validator.check(accountAnswer(account, {})).join()).to.include(
        'header ETag is documented as always sent but is missing',
      );
      expect(validator.check(accountAnswer(account, { etag: 'W/"3"' })).join()).to.include('header ETag');
    });

    it('reports an error body that is not the documented one, or whose code is not the status', () => {
      const error = (body: unknown, status = 404): ObservedAnswer => ({ ...accountAnswer(body), status });
      const good = {
        code: 404,
        message: 'Not found',
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'Not found',
      };
      expect(validator.check(error(good))).to.deep.equal([]);
      expect(validator.check(error({ ...good, code: 400 })).join()).to.include('/code must be equal to constant');
      expect(validator.check(error({ message: 'Not found' })).join()).to.include("must have required property 'code'");
    });

    it('reports a body where none is described and a content type that is not described', () => {
      const deposit: ObservedAnswer = {
        method: 'POST',
        path: '/api/v1/billing/account/deposit',
        status: 204,
        headers: headers({ 'x-correlation-id': 'c', etag: '"1"' }),
        text: '',
      };
      expect(validator.check(deposit)).to.deep.equal([]);
      expect(validator.check({ ...deposit, text: '{}' }).join()).to.include(
        'a body is sent where the document describes none',
      );
      expect(validator.check(accountAnswer(account, { etag: '"1"', 'content-type': 'text/plain' })).join()).to.include(
        'content-type text/plain is not documented',
      );
    });

    it('reports a path the document does not describe unless it is the 404 error, and a method it does not unless it is 405 with the documented Allow', () => {
      const notFound = {
        code: 404,
        message: 'Not found',
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'Not found',
      };
      const unknownPath: ObservedAnswer = {
        method: 'GET',
        path: '/api/v1/nowhere',
        status: 404,
        headers: headers({ 'content-type': 'application/json' }),
        text: JSON.stringify(notFound),
      };
      expect(validator.check(unknownPath)).to.deep.equal([]);
      expect(validator.check({ ...unknownPath, status: 200, text: '[]' }).join()).to.include(
        'the path is not in the OpenAPI document',
      );

      const notAllowed = {
        ...notFound,
        code: 405,
        status: 405,
        message: 'Method Not Allowed',
        title: 'Method Not Allowed',
        detail: 'Method Not Allowed',
      };
      const wrongMethod: ObservedAnswer = {
        method: 'DELETE',
        path: '/api/v1/trading/items',
        status: 405,
        headers: headers({ allow: 'HEAD, GET, POST', 'content-type': 'application/json' }),
        text: JSON.stringify(notAllowed),
      };
      expect(validator.check(wrongMethod)).to.deep.equal([]);
      expect(validator.check({ ...wrongMethod, headers: headers({ allow: 'HEAD, GET' }) }).join()).to.include(
        'Allow says HEAD, GET',
      );
      expect(validator.check({ ...wrongMethod, status: 200 }).join()).to.include(
        'DELETE is not documented for this path',
      );
    });
  });
});

function escapePointerToken(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}

function resolvePointer(ref: string): unknown {
  let at: unknown = document;
  for (const part of ref.replace(/^#\//, '').split('/'))
    at = (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return at;
}
