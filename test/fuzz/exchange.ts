/**
 * One fuzzed request, sent and judged. The oracles:
 * - no 5xx, but the documented 503 of a read-your-writes wait for a position the log has
 *   not reached;
 * - the answer is what the document says: a documented status, its body's schema, its
 *   headers and content type (`ResponseValidator`), errors as `{ code, message }`;
 * - a request the document rules out is refused (4xx), and one it allows is not refused
 *   for its form (415, or a 422 naming a field);
 * - a refused request, and any GET, changes nothing: the event log's head and the users'
 *   read models are the same after it as before.
 * What the server hands out in its accepted answers is remembered for later requests.
 */
import { apiDescription } from '../../infra/http/openapi/document.js';
import { comparePositions, parsePosition } from '../../infra/eventsourcing/event-store/position.js';
import { httpMessages } from '../../infra/http/messages.js';
import { ResponseValidator } from '../support/openapi-validator.js';
import type { FuzzOperation } from './operations.js';
import { keyOf, type Plan } from './plans.js';
import { render, type Conformance, type HttpRequest, type Verdict } from './requests.js';
import type { State, World } from './world.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export interface Outcome {
  status: number;
  verdict: Verdict;
}

export class Exchange {
  private readonly contract = new ResponseValidator(apiDescription());

  constructor(
    private readonly world: World,
    private readonly conformance: Conformance,
  ) {}

  async run(op: FuzzOperation, plan: Plan): Promise<Outcome> {
    const request = await render(op, plan, this.world);
    const verdict = this.conformance.verdict(op, plan, request);
    const before = await this.world.state(plan.caller);
    const answer = await send(this.world.server.baseUrl, request);
    const problems = [
      ...this.serverErrors(op, request, answer, before),
      ...this.contract.check({ ...request, status: answer.status, headers: answer.headers, text: answer.text }),
      ...errorBody(answer),
      ...formProblems(verdict, answer),
    ];
    if (answer.status >= 400 || op.method === 'get') problems.push(...(await this.changes(plan, answer, before)));
    if (problems.length > 0) throw new Error(describe(op, plan, verdict, request, answer, problems));
    if (answer.status < 300) await this.harvest(op, plan, request, answer);
    return { status: answer.status, verdict };
  }

  private serverErrors(op: FuzzOperation, request: HttpRequest, answer: Answer, before: State): string[] {
    if (answer.status < 500) return [];
    if (answer.status === 503 && awaitsTheFuture(op, request, before)) {
      const retryAfter = answer.headers.get('retry-after');
      return retryAfter ? [] : ['a read-your-writes 503 without Retry-After'];
    }
    return [`server error ${answer.status}`];
  }

  /** What a refused request or a read changed: nothing, but the records of a refusal the market decided. */
  private async changes(plan: Plan, answer: Answer, before: State): Promise<string[]> {
    const after = await this.world.state(plan.caller);
    const found: string[] = [];
    if (before.readModels !== after.readModels) found.push("the users' read models changed");
    const appended = await this.world.appendedSince(before.head);
    const recorded = answer.status === 422 && appended.every((type) => REFUSAL_RECORDS.has(type));
    if (appended.length > 0 && !recorded) found.push(`events were appended: ${appended.join(', ')}`);
    return found.length > 0 ? [`a refused request or a read changed state: ${found.join('; ')}`] : [];
  }

  private async harvest(op: FuzzOperation, plan: Plan, request: HttpRequest, answer: Answer): Promise<void> {
    const { world } = this;
    world.remember('position', answer.headers.get('x-event-position') ?? undefined);
    const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(answer.headers.get('link') ?? '')?.[1];
    if (next)
      for (const [name, value] of new URL(next, 'http://x').searchParams) world.remember(`query:${name}`, value);
    if (request.json && plan.body.kind === 'json') {
      const sent = JSON.parse(request.json.text) as unknown;
      if (sent && typeof sent === 'object' && !Array.isArray(sent)) {
        world.records.push(sent as Record<string, unknown>);
        for (const [name, value] of Object.entries(sent)) world.remember(name, value);
      }
    }
    if ((answer.headers.get('content-type') ?? '').includes('application/json')) {
      const body = JSON.parse(answer.text) as unknown;
      for (const item of Array.isArray(body) ? body : [body]) this.harvestItem(op, plan, item);
    }
    if (plan.caller === 'trader' || plan.caller === 'broker')
      await world.renewIfSignedOut(world.principals[plan.caller]);
  }

  private harvestItem(op: FuzzOperation, plan: Plan, item: unknown): void {
    if (!item || typeof item !== 'object') return;
    const fields = Object.entries(item as Record<string, unknown>);
    for (const [name, value] of fields) this.world.remember(name, value);
    const id = (item as { id?: unknown }).id;
    if (id === undefined) return;
    this.world.remember(`${plan.caller}:id:${op.collection}`, id);
    // The ids listed at `…/items` are what an `itemId` names.
    const last = op.collection.slice(op.collection.lastIndexOf('/') + 1);
    if (last.endsWith('s')) this.world.remember(`${last.slice(0, -1)}Id`, id);
  }
}

/** No answer takes this long: a request that does is a failure, not a hung suite. */
const ANSWER_TIMEOUT_MS = 20_000;

export async function send(baseUrl: string, request: HttpRequest): Promise<Answer> {
  const response = await fetch(baseUrl + request.path, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  });
  // A stream of events never ends: its status and headers are the answer.
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, headers: response.headers, text: '' };
  }
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A GET that waits for a position past the log's head: the documented 503 once the wait is over. */
function awaitsTheFuture(op: FuzzOperation, request: HttpRequest, before: State): boolean {
  const header = op.parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === 'x-event-position');
  const query = op.parameters.find((p) => p.in === 'query' && p.name === 'minPosition');
  const texts = [header && request.arrived.get(keyOf(header)), query && request.arrived.get(keyOf(query))];
  return texts.some((text) => {
    const wanted = text ? parsePosition(text) : null;
    return wanted !== null && (before.head === null || comparePositions(wanted, before.head) > 0);
  });
}

function errorBody(answer: Answer): string[] {
  if (answer.status < 400) return [];
  let body: { code?: unknown; message?: unknown } | undefined;
  try {
    body = JSON.parse(answer.text) as typeof body;
  } catch {
    body = undefined;
  }
  const problems: string[] = [];
  if (body?.code !== answer.status || typeof body.message !== 'string')
    problems.push(`the error body is not { code: ${answer.status}, message: string }`);
  if (!(answer.headers.get('content-type') ?? '').includes('application/json'))
    problems.push(`the error's content-type is ${answer.headers.get('content-type')}`);
  return problems;
}

/** The document's verdict on the request against the server's. */
function formProblems(verdict: Verdict, answer: Answer): string[] {
  if (verdict === 'violates' && answer.status < 300)
    return [`accepted (${answer.status}) a request the document rules out`];
  if (verdict !== 'conforms') return [];
  let message = '';
  try {
    message = String((JSON.parse(answer.text) as { message?: unknown }).message ?? '');
  } catch {}
  const formRefusal =
    answer.status === 415 ||
    (answer.status === 422 && /^violation at /.test(message)) ||
    message === httpMessages.malformedJson;
  return formRefusal ? [`refused (${answer.status}) a request the document allows: ${message}`] : [];
}

/**
 * The events that record a refusal of the market: an order is submitted (the trader's
 * stream remembers it, so a retry of it gets the same answer) and refused (no unit to
 * sell). The 422 is that outcome; nobody's money, units or orders change.
 */
const REFUSAL_RECORDS = new Set(['OrderSubmitted', 'OrderRefused', 'OrderRejected']);

function describe(
  op: FuzzOperation,
  plan: Plan,
  verdict: Verdict,
  request: HttpRequest,
  answer: Answer,
  problems: string[],
): string {
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `${name}: ${value.length > 120 ? `${value.slice(0, 120)}…(${value.length})` : value}`)
    .join('; ');
  const body = request.json ? request.json.text.slice(0, 300) : '(none)';
  return [
    `${op.title}, a ${plan.mode} request (${verdict} to the document)${plan.broken.length ? `, broken: ${plan.broken.join(' | ')}` : ''}`,
    `  sent: ${request.method} ${request.path.slice(0, 400)}`,
    `  headers: ${headers}`,
    `  body: ${body}`,
    `  answer: ${answer.status} ${answer.text.slice(0, 400)}`,
    ...problems.map((p) => `  - ${p}`),
  ].join('\n');
}
