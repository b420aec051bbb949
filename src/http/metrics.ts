// Prometheus metrics (prom-client) of a JSON-function server: calls by function and outcome, latency, connections, security events, store errors; served on a separate admin port.
import { createServer, type Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { CallRecord } from './server.js';

/** Latency buckets in seconds: an ES9+ call takes milliseconds; a slow store or a flood pushes it to seconds. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The function a route serves: the last segment of its path. */
function functionOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * A store error's class, for the label of mcim_store_errors_total: the SQLite result code (SQLITE_BUSY...), the
 * PostgreSQL SQLSTATE class (pg_40: transaction rollback...), a connection failure; undefined when not the store's.
 */
export function storeErrorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('SQLITE_')) return code;
  if (e.constructor.name === 'DatabaseError' && /^[0-9A-Z]{5}$/.test(code)) return `pg_${code.slice(0, 2)}`;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') return 'connection';
  return undefined;
}

/** One function's call durations: counts per bucket (not cumulative; the last one is +Inf), their sum and count. */
interface DurationBuckets {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * mcim_es9_call_duration_seconds, a Prometheus histogram by function kept as plain numbers: an observation is an
 * array increment (prom-client's Histogram validates and hashes the label set on every observation, which costs more
 * than the rest of the call's metrics). prom-client's registry reads it through `get()` in its own format, and its
 * cluster aggregator sums it like any histogram.
 */
class CallDurationHistogram {
  readonly name = 'mcim_es9_call_duration_seconds';
  readonly help = 'ES9+ call latency by function';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  #byFunction = new Map<string, DurationBuckets>();

  observe(fn: string, seconds: number): void {
    let b = this.#byFunction.get(fn);
    if (b === undefined) {
      b = { counts: new Float64Array(DURATION_BUCKETS.length + 1), sum: 0, count: 0 };
      this.#byFunction.set(fn, b);
    }
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
    b.counts[i]! += 1;
    b.sum += seconds;
    b.count += 1;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [fn, b] of this.#byFunction) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += b.counts[i]!;
        values.push({ labels: { le, function: fn }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', function: fn }, value: b.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { function: fn }, value: b.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { function: fn }, value: b.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.#byFunction = new Map();
  }
}

/** The metrics one server process keeps, in its own registry. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #duration = new CallDurationHistogram();
  readonly #connections: Gauge;
  readonly #securityEvents: Counter<'event'>;
  readonly #rateLimitHits: Counter<'scope'>;
  readonly #storeErrors: Counter<'code'>;
  /** Calls counted since the last scrape, by label set: added to the counter when the registry is read. */
  readonly #pendingCalls = new Map<string, { readonly labels: Record<'function' | 'outcome' | 'subject_code' | 'reason_code', string>; n: number }>();

  constructor() {
    const registers = [this.registry];
    const pending = this.#pendingCalls;
    // mcim_es9_calls_total: read only through the registry.
    new Counter({
      name: 'mcim_es9_calls_total',
      help: 'ES9+ calls by function and outcome (success, failed with its subject and reason code, rejected, error)',
      labelNames: ['function', 'outcome', 'subject_code', 'reason_code'],
      registers,
      collect() {
        for (const p of pending.values()) {
          if (p.n === 0) continue;
          this.inc(p.labels, p.n);
          p.n = 0;
        }
      },
    });
    this.registry.registerMetric(this.#duration as unknown as Metric);
    this.#connections = new Gauge({ name: 'mcim_http_connections_active', help: 'open TCP connections to the ES9+ server (including TLS handshakes in progress)', registers });
    this.#securityEvents = new Counter({ name: 'mcim_security_events_total', help: 'security events by name (docs/operations.md)', labelNames: ['event'], registers });
    this.#rateLimitHits = new Counter({ name: 'mcim_rate_limit_hits_total', help: 'requests refused by a rate limit or lockout, by scope', labelNames: ['scope'], registers });
    this.#storeErrors = new Counter({ name: 'mcim_store_errors_total', help: 'database errors seen by ES9+ calls, by class', labelNames: ['code'], registers });
    // prom-client's process metrics: CPU, memory, heap, event loop lag.
    collectDefaultMetrics({ register: this.registry, prefix: 'mcim_' });
  }

  /**
   * Counts one call (registerJsonFunction's observer) in plain numbers, added to prom-client's counter when the registry
   * is read (prom-client hashes a label object on every call otherwise). The label sets are few: functions x outcomes x
   * status codes, all the server's own.
   */
  observeCall(call: CallRecord): void {
    const fn = functionOf(call.path);
    const subject = call.status?.subjectCode ?? '';
    const reason = call.status?.reasonCode ?? '';
    const key = `${fn}|${call.outcome}|${subject}|${reason}`;
    const calls = this.#pendingCalls.get(key);
    if (calls === undefined) this.#pendingCalls.set(key, { labels: { function: fn, outcome: call.outcome, subject_code: subject, reason_code: reason }, n: 1 });
    else calls.n++;
    if (call.durationMs !== undefined) this.#duration.observe(fn, call.durationMs / 1000);
    if (call.outcome === 'error') {
      const code = storeErrorCode(call.error);
      if (code !== undefined) this.#storeErrors.inc({ code });
    }
  }

  securityEvent(name: string): void {
    this.#securityEvents.inc({ event: name });
  }

  rateLimitHit(scope: string): void {
    this.#rateLimitHits.inc({ scope });
  }

  /** Follows the server's open connections (counted from accept, before any TLS handshake, until closed). */
  trackConnections(server: NetServer): void {
    server.on('connection', (socket: Socket) => {
      this.#connections.inc();
      socket.once('close', () => this.#connections.dec());
    });
  }
}

export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** What the endpoint serves: one registry's metrics, or in a cluster primary all workers' aggregated. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export function registrySource(registry: Registry): MetricsSource {
  return { contentType: registry.contentType, metrics: () => registry.metrics() };
}

/**
 * In the cluster primary: the workers' metrics summed (prom-client's AggregatorRegistry over the cluster IPC channel;
 * each worker calls `answerClusterMetrics`).
 */
export function clusterSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() };
}

/** In a cluster worker: answers the primary's requests for this registry's metrics. */
export function answerClusterMetrics(registry: Registry): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** Serves GET /metrics over plain HTTP on host:port (an admin interface: loopback unless the operator says otherwise). */
export async function startMetricsEndpoint(source: MetricsSource, host: string, port: number): Promise<MetricsEndpoint> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    source.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': source.contentType }).end(text),
      (e: unknown) => res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`metrics unavailable: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
