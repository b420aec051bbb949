// Serving the SM-DP+ from several processes (node:cluster): the workers share one listening socket and one database.
// Every ES9+ call reads and writes its RSP session in the database, so a device's successive calls may land on any worker.
import cluster, { type Worker } from 'node:cluster';

export interface ClusterPrimaryOptions {
  /** Worker processes to fork (at least 1). */
  readonly workers: number;
  /** Restarts of crashed workers allowed within `restartWindowMs` before the primary gives up (default 5). */
  readonly maxRestarts?: number;
  readonly restartWindowMs?: number;
  /** How long workers may take to finish their requests on shutdown before they are killed (default 10 s). */
  readonly shutdownTimeoutMs?: number;
  /** Called once, when every worker of the first generation listens, with the port they share. */
  readonly onListening?: (port: number) => void;
  /** Operational messages (worker deaths, restarts, shutdown). */
  readonly log?: (line: string) => void;
  /**
   * Who hands connections to workers (default 'os'): 'os' lets every worker accept on the shared socket itself, the
   * kernel picking one per connection (a busy worker is not waiting in accept, so an idle one takes it); 'round-robin'
   * has the primary accept each connection and pass it over IPC (node's default outside Windows), which costs the
   * primary and the worker CPU per connection, and every ES9+ session opens one. NODE_CLUSTER_SCHED_POLICY, when set,
   * takes precedence over both.
   */
  readonly scheduling?: 'os' | 'round-robin';
}

export interface ClusterPrimary {
  /** Resolves with the exit code once every worker has exited: 0 after stop(), 1 when the workers could not be kept running. */
  readonly done: Promise<number>;
  /** Asks every worker to finish and exit (also on SIGINT and SIGTERM). */
  stop(): void;
}

/** What a worker runs: something that serves until closed. */
export interface ClusterService {
  close(): Promise<void>;
}

const SHUTDOWN_MESSAGE = 'mcim:shutdown';
const DEFAULT_MAX_RESTARTS = 5;
const DEFAULT_RESTART_WINDOW_MS = 60_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

function isShutdownMessage(message: unknown): boolean {
  return message === SHUTDOWN_MESSAGE;
}

/**
 * In the primary: forks the workers (which re-run this program's command line and so call runClusterWorker), restarts
 * a worker that dies after it listened (bounded by maxRestarts per restartWindowMs), and stops them all on SIGINT or
 * SIGTERM. A worker that dies before it ever listened (bad port, unreadable data) stops the whole cluster with code 1.
 */
export function runClusterPrimary(options: ClusterPrimaryOptions): ClusterPrimary {
  if (!cluster.isPrimary) throw new Error('runClusterPrimary called in a cluster worker');
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error(`invalid worker count ${options.workers}`);
  const log = options.log ?? (() => undefined);
  const maxRestarts = options.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  const windowMs = options.restartWindowMs ?? DEFAULT_RESTART_WINDOW_MS;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

  const listened = new Set<number>();
  const restarts: number[] = [];
  let firstGenerationListening = 0;
  let announced = false;
  let stopping = false;
  let exitCode = 0;
  let killTimer: NodeJS.Timeout | undefined;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  const finishIfIdle = (): void => {
    if (!stopping || live().length > 0) return;
    if (killTimer !== undefined) clearTimeout(killTimer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    cluster.removeListener('listening', onListening);
    cluster.removeListener('exit', onExit);
    resolveDone(exitCode);
  };

  const stop = (code = 0): void => {
    if (stopping) {
      finishIfIdle();
      return;
    }
    stopping = true;
    exitCode = code;
    for (const w of live()) {
      try {
        w.send(SHUTDOWN_MESSAGE);
      } catch {
        w.process.kill('SIGTERM');
      }
    }
    killTimer = setTimeout(() => {
      for (const w of live()) {
        log(`worker ${w.process.pid ?? '?'} did not stop within ${shutdownTimeoutMs} ms: killing it`);
        w.process.kill('SIGKILL');
      }
    }, shutdownTimeoutMs);
    killTimer.unref();
    finishIfIdle();
  };

  function onSignal(signal: NodeJS.Signals): void {
    log(`${signal}: stopping ${live().length} worker(s)`);
    stop(0);
  }

  function onListening(worker: Worker, address: { port: number }): void {
    const first = !listened.has(worker.id);
    listened.add(worker.id);
    if (first && !announced && ++firstGenerationListening === options.workers) {
      announced = true;
      options.onListening?.(address.port);
    }
  }

  function onExit(worker: Worker, code: number | null, signal: string | null): void {
    const how = signal !== null ? `signal ${signal}` : `code ${code ?? '?'}`;
    if (stopping) {
      finishIfIdle();
      return;
    }
    if (!listened.has(worker.id)) {
      log(`worker ${worker.process.pid ?? '?'} exited (${how}) before it listened: stopping`);
      stop(1);
      return;
    }
    const now = Date.now();
    while (restarts.length > 0 && restarts[0]! <= now - windowMs) restarts.shift();
    if (restarts.length >= maxRestarts) {
      log(`worker ${worker.process.pid ?? '?'} exited (${how}); ${restarts.length} restarts within ${windowMs} ms already: stopping`);
      stop(1);
      return;
    }
    restarts.push(now);
    const next = cluster.fork();
    log(`worker ${worker.process.pid ?? '?'} exited (${how}): restarted as ${next.process.pid ?? '?'}`);
  }

  // Read by the first fork only: set before it, unless the environment chose.
  if (process.env['NODE_CLUSTER_SCHED_POLICY'] === undefined) {
    cluster.schedulingPolicy = (options.scheduling ?? 'os') === 'os' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  }
  cluster.on('listening', onListening);
  cluster.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (let i = 0; i < options.workers; i++) cluster.fork();
  return { done, stop: () => stop(0) };
}

/**
 * In a worker: starts the service, then closes it and exits on the primary's shutdown message, on SIGINT or SIGTERM,
 * or when the primary goes away. A failure to start exits with code 1 (the primary then stops the cluster).
 */
export async function runClusterWorker(start: () => Promise<ClusterService>, onError: (e: unknown) => void = () => undefined): Promise<void> {
  let service: ClusterService | undefined;
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    // Asked to stop while starting: the start below finishes, then closes.
    if (service === undefined) return;
    const timer = setTimeout(() => process.exit(0), DEFAULT_SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    service.close().then(
      () => process.exit(0),
      (e: unknown) => {
        onError(e);
        process.exit(1);
      },
    );
  };
  process.on('message', (message: unknown) => {
    if (isShutdownMessage(message)) close();
  });
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  process.once('disconnect', close);
  try {
    service = await start();
  } catch (e) {
    onError(e);
    process.exit(1);
  }
  if (closing) {
    closing = false;
    close();
  }
}
