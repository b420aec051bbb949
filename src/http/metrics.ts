// Prometheus metrics (prom-client) of a JSON-function server: calls by function and outcome, latency, connections, security events, store errors; served on a separate admin port.
import { createServer, type Server } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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

/** The metrics one server process keeps, in its own registry. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #calls: Counter<'function' | 'outcome' | 'subject_code' | 'reason_code'>;
  readonly #duration: Histogram<'function'>;
  readonly #connections: Gauge;
  readonly #securityEvents: Counter<'event'>;
  readonly #rateLimitHits: Counter<'scope'>;
  readonly #storeErrors: Counter<'code'>;
  readonly #boundCalls = new Map<string, { inc(): void }>();
  readonly #boundDurations = new Map<string, { observe(value: number): void }>();

  constructor() {
    const registers = [this.registry];
    this.#calls = new Counter({
      name: 'mcim_es9_calls_total',
      help: 'ES9+ calls by function and outcome (success, failed with its subject and reason code, rejected, error)',
      labelNames: ['function', 'outcome', 'subject_code', 'reason_code'],
      registers,
    });
    this.#duration = new Histogram({ name: 'mcim_es9_call_duration_seconds', help: 'ES9+ call latency by function', labelNames: ['function'], buckets: DURATION_BUCKETS, registers });
    this.#connections = new Gauge({ name: 'mcim_http_connections_active', help: 'open TCP connections to the ES9+ server (including TLS handshakes in progress)', registers });
    this.#securityEvents = new Counter({ name: 'mcim_security_events_total', help: 'security events by name (docs/operations.md)', labelNames: ['event'], registers });
    this.#rateLimitHits = new Counter({ name: 'mcim_rate_limit_hits_total', help: 'requests refused by a rate limit or lockout, by scope', labelNames: ['scope'], registers });
    this.#storeErrors = new Counter({ name: 'mcim_store_errors_total', help: 'database errors seen by ES9+ calls, by class', labelNames: ['code'], registers });
    // prom-client's process metrics: CPU, memory, heap, event loop lag.
    collectDefaultMetrics({ register: this.registry, prefix: 'mcim_' });
  }

  /**
   * Counts one call (registerJsonFunction's observer). The label sets seen are bound once and kept (prom-client hashes
   * a label object on every call otherwise); they are few: functions x outcomes x status codes, all the server's own.
   */
  observeCall(call: CallRecord): void {
    const fn = functionOf(call.path);
    const subject = call.status?.subjectCode ?? '';
    const reason = call.status?.reasonCode ?? '';
    const key = `${fn}|${call.outcome}|${subject}|${reason}`;
    let calls = this.#boundCalls.get(key);
    if (calls === undefined) {
      calls = this.#calls.labels({ function: fn, outcome: call.outcome, subject_code: subject, reason_code: reason });
      this.#boundCalls.set(key, calls);
    }
    calls.inc();
    let duration = this.#boundDurations.get(fn);
    if (duration === undefined) {
      duration = this.#duration.labels({ function: fn });
      this.#boundDurations.set(fn, duration);
    }
    duration.observe(call.durationMs / 1000);
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
