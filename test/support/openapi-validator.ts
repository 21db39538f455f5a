/**
 * Checks an HTTP answer against the OpenAPI document: the path and method are described,
 * the status is one the operation documents, the body matches the documented schema and
 * the documented headers are there (and well formed). What it finds are problems, worded
 * for a test failure; none means the answer is what the document says.
 *
 * Undescribed paths must be the router's 404, undescribed methods its 405 (with `Allow`
 * naming exactly the documented methods), both with the error body.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type {
  Json,
  Method,
  OpenApiDocument,
  OperationObject,
  ResponseObject,
} from '../../infra/http/openapi/document.js';

export interface ObservedAnswer {
  method: string;
  /** The request path, with its query if any. */
  path: string;
  status: number;
  headers: { get(name: string): string | null };
  /** The body as received (empty for none). */
  text: string;
}

const DOCUMENT_ID = 'openapi.json';
const METHODS: readonly Method[] = ['get', 'post', 'put', 'delete'];

interface PathTemplate {
  template: string;
  pattern: RegExp;
  /** Fewer parameters first: `/orders/mine` wins over `/orders/{id}`. */
  parameters: number;
}

export class ResponseValidator {
  private readonly ajv: Ajv2020;
  private readonly templates: PathTemplate[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(this.ajv);
    // The document itself is added so `$ref`s into it resolve; its top-level members are not schema keywords.
    this.ajv.addVocabulary(['openapi', 'info', 'tags', 'paths', 'components']);
    this.ajv.addSchema(document as unknown as Json, DOCUMENT_ID);
    this.templates = Object.keys(document.paths)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
        parameters: (template.match(/\{/g) ?? []).length,
      }))
      .sort((a, b) => a.parameters - b.parameters);
  }

  /** The problems of this answer (empty: it is as described). */
  check(answer: ObservedAnswer): string[] {
    const problems: string[] = [];
    const describe = `${answer.method} ${answer.path} → ${answer.status}`;
    const report = (what: string) => problems.push(`${describe}: ${what} (OpenAPI)`);
    const path = answer.path.split('?')[0]!;
    const template = this.templates.find((t) => t.pattern.test(path))?.template;
    if (!template) {
      if (answer.status !== 404) report('the path is not in the OpenAPI document');
      else this.checkProblemBody(answer, report);
      return problems;
    }
    const item = this.document.paths[template]!;
    const method = (answer.method.toLowerCase() === 'head' ? 'get' : answer.method.toLowerCase()) as Method;
    const operation = item[method];
    if (!operation) {
      this.checkUndescribedMethod(answer, item, report);
      return problems;
    }
    const response = operation.responses[String(answer.status)];
    if (!response) {
      report(
        `status ${answer.status} is not documented for ${method.toUpperCase()} ${template} (documented: ${Object.keys(operation.responses).join(', ')}); body ${answer.text.slice(0, 300)}`,
      );
      return problems;
    }
    this.checkHeaders(answer, response, report);
    this.checkBody(answer, [template, method, answer.status], response, report);
    return problems;
  }

  private checkHeaders(answer: ObservedAnswer, response: ResponseObject, report: (what: string) => void): void {
    for (const [name, declared] of Object.entries(response.headers ?? {})) {
      const header = this.resolve(declared);
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required === true) report(`header ${name} is documented as always sent but is missing`);
        continue;
      }
      if (!header.schema) continue;
      const validate = this.validator(`header:${JSON.stringify(declared)}`, header.schema as Json);
      if (!validate(value)) report(`header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors)}`);
    }
  }

  private checkBody(
    answer: ObservedAnswer,
    where: [string, Method, number],
    response: ResponseObject,
    report: (what: string) => void,
  ): void {
    const content = response.content;
    if (!content) {
      if (answer.text !== '') report(`a body is sent where the document describes none: ${answer.text.slice(0, 300)}`);
      return;
    }
    // HEAD answers carry the GET's headers without its body.
    if (answer.method.toUpperCase() === 'HEAD') return;
    const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const media = content[type];
    if (!media) {
      report(`content-type ${type || '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`);
      return;
    }
    if (type !== 'application/json' || !media.schema) return;
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      report(`the body is not JSON: ${answer.text.slice(0, 300)}`);
      return;
    }
    const [template, method, status] = where;
    const pointer = ['paths', template, method, 'responses', String(status), 'content', type, 'schema']
      .map(escapePointer)
      .join('/');
    const validate = this.validator(pointer, { $ref: `${DOCUMENT_ID}#/${pointer}` });
    if (!validate(body))
      report(
        `the body does not match the documented schema: ${this.ajv.errorsText(validate.errors)}; body ${answer.text.slice(0, 300)}`,
      );
  }

  /** A method the path does not take: the router's 405 (or 501 for a method it does not know) naming the documented ones. */
  private checkUndescribedMethod(
    answer: ObservedAnswer,
    item: Partial<Record<Method, OperationObject>>,
    report: (what: string) => void,
  ): void {
    const documented = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
    if (documented.includes('GET')) documented.push('HEAD');
    if (answer.method.toUpperCase() === 'OPTIONS' && answer.status < 300) {
      checkAllow(answer, documented, report);
      return;
    }
    if (answer.status !== 405 && answer.status !== 501) {
      report(`${answer.method} is not documented for this path (documented: ${documented.join(', ')})`);
      return;
    }
    if (answer.status === 405) checkAllow(answer, documented, report);
    this.checkProblemBody(answer, report);
  }

  private checkProblemBody(answer: ObservedAnswer, report: (what: string) => void): void {
    const validate = this.validator('problem', { $ref: `${DOCUMENT_ID}#/components/schemas/Problem` });
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = undefined;
    }
    if (!validate(body) || (body as { code: number }).code !== answer.status)
      report(`the error body is not the documented Problem: ${answer.text.slice(0, 300)}`);
  }

  /** Compiled once per schema. */
  private validator(key: string, schema: Json): ValidateFunction {
    let found = this.validators.get(key);
    if (!found) {
      found = this.ajv.compile(schema);
      this.validators.set(key, found);
    }
    return found;
  }

  /** Follows a local `$ref` (`#/components/headers/ETag`). */
  private resolve(value: Json): Json {
    const ref = value.$ref;
    if (typeof ref !== 'string') return value;
    let at: unknown = this.document;
    for (const part of ref.replace(/^#\//, '').split('/'))
      at = (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!at || typeof at !== 'object') throw new Error(`unresolved $ref ${ref}`);
    return at as Json;
  }
}

function checkAllow(answer: ObservedAnswer, documented: string[], report: (what: string) => void): void {
  const allowed = (answer.headers.get('allow') ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if ([...allowed].sort().join(',') !== [...documented].sort().join(','))
    report(`Allow says ${allowed.join(', ') || '(nothing)'}, the document describes ${documented.join(', ')}`);
}

function escapePointer(part: string): string {
  return part.replace(/~/g, '~0').replace(/\//g, '~1');
}
