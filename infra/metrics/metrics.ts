/**
 * The process's Prometheus metrics: one `prom-client` registry per `Metrics` (never the
 * global default one, so every test and every system starts from zero), the instruments
 * the diagnostics decorators feed, and the scrape that `GET /metrics` serves.
 *
 * Every label takes values from a set fixed by the code (route templates, command and
 * stream category names, handler names, a few outcomes): never a raw URL or an id.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SubscriptionReport } from './subscription-health.js';

export type CommandOutcome = 'ok' | 'rejected' | 'conflict' | 'error';
/** `append`: another writer got to the stream first; `if-match`: the client's revision was stale. */
export type ConflictCheck = 'append' | 'if-match';

/** Where the subscription gauges read their values at scrape time. */
export interface SubscriptionReports {
  report(): Promise<SubscriptionReport[]>;
}

/** Seconds; from a cached read (a millisecond) to a read-your-writes wait that gives up. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'marketplace_http_request_duration_seconds',
    help: 'Time from receiving a request to its answer, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  readonly commands = new Counter({
    name: 'marketplace_commands_total',
    help: 'Commands handled, by command type and outcome (ok, rejected by a business rule or stream state, conflict, error).',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'marketplace_expected_version_conflicts_total',
    help: 'Expected-version conflicts, by stream category and check (append: refused by the store; if-match: the client based its command on a stale revision).',
    labelNames: ['category', 'check'] as const,
    registers: [this.registry],
  });
  readonly snapshots = new Counter({
    name: 'marketplace_snapshots_total',
    help: "Snapshots by stream category and outcome: loaded, written, ignored (another shape version, unreadable or not the stream's: folded from the start instead), unavailable (the store could not be read: folded from the start), write_failed.",
    labelNames: ['category', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'marketplace_events_appended_total',
    help: 'Events appended to the event store, by stream category.',
    labelNames: ['category'] as const,
    registers: [this.registry],
  });

  /**
   * Lag, parked events and rebuilds of every projection and process manager, read from
   * `source` when scraped (so they are as fresh as the scrape, and cost nothing between).
   */
  followSubscriptions(source: SubscriptionReports): void {
    const gauge = (name: string, help: string, measure: (report: SubscriptionReport) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['subscription', 'kind'] as const,
        registers: [this.registry],
        async collect() {
          // The four gauges are collected together: `source` shares one report between them.
          let reports: SubscriptionReport[];
          try {
            reports = await source.report();
          } catch {
            // A store that does not answer (an outage) must not take the whole scrape down
            // with it: these series are left out until it answers (`marketplace_ready` says why).
            this.reset();
            return;
          }
          for (const report of reports) this.set({ subscription: report.name, kind: report.kind }, measure(report));
        },
      });
    gauge(
      'marketplace_subscription_lag_events',
      'Events in $all (of those it reads) that the projection or process manager has yet to handle.',
      (r) => r.lagEvents,
    );
    gauge(
      'marketplace_subscription_lag_seconds',
      'How long the oldest event it has yet to handle has been waiting (0 when caught up).',
      (r) => r.lagSeconds,
    );
    gauge(
      'marketplace_subscription_parked_events',
      'Events parked (skipped after repeated failures) and not yet cleared by a rebuild.',
      (r) => r.parked,
    );
    gauge('marketplace_subscription_rebuilding', '1 while the view is being rebuilt from the start, else 0.', (r) =>
      r.rebuilding ? 1 : 0,
    );
    gauge(
      'marketplace_subscription_retrying',
      '1 while its runner waits out a failure (a storage or connection fault is retried as long as it lasts), else 0.',
      (r) => (r.retrying ? 1 : 0),
    );
  }

  /** What `marketplace_ready` asks at each scrape (see `followReadiness`). */
  #readinessCheck: (() => Promise<{ checks: Record<string, string> }>) | undefined;

  /**
   * Whether each dependency `/ready` checks (the stores, the read models) answers, checked
   * when scraped: `/ready` itself tells the public only ready or not. Why one does not is in
   * the log, and for the read models in the subscription gauges above.
   */
  followReadiness(check: () => Promise<{ checks: Record<string, string> }>): void {
    // One gauge per registry, whoever asks (an app built twice on one system): the latest check answers.
    const first = this.#readinessCheck === undefined;
    this.#readinessCheck = check;
    if (!first) return;
    const current = () => this.#readinessCheck!();
    new Gauge({
      name: 'marketplace_ready',
      help: 'Whether each dependency of /ready answered in time at the scrape (1) or not (0): the stores, and the read models (not rebuilding, within the lag bounds).',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [dependency, result] of Object.entries((await current()).checks))
          this.set({ dependency }, result === 'ok' ? 1 : 0);
      },
    });
  }

  /** Each JavaScript thread's V8 heap (the process metrics see the main thread's only), read when scraped. */
  followHeaps(heaps: () => Record<string, { used: number; total: number }>): void {
    new Gauge({
      name: 'marketplace_thread_heap_bytes',
      help: 'V8 heap of each thread running JavaScript of its own (main, projector), in use and held.',
      labelNames: ['thread', 'kind'] as const,
      registers: [this.registry],
      collect() {
        for (const [thread, heap] of Object.entries(heaps())) {
          this.set({ thread, kind: 'used' }, heap.used);
          this.set({ thread, kind: 'total' }, heap.total);
        }
      },
    });
  }

  /** The text exposition of this registry and of the process's own metrics (CPU, memory, event loop, GC). */
  async scrape(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processRegistry(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }
}

let processMetrics: Registry | null = null;

/**
 * The default Node.js process metrics, registered once per process: they observe the whole
 * process (a GC observer, an event-loop monitor), so one set serves every `Metrics`.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}
