// Serving the SM-DP+ from several processes (node:cluster): the workers share one listening socket and one database.
// Every ES9+ call reads and writes its RSP session in the database, so a device's successive calls may land on any worker.
import cluster, { type Worker } from 'node:cluster';

export interface ClusterPrimaryOptions {
  /** Worker processes to fork (at least 1). */
  readonly workers: number;
  /** How often the primary asks each listening worker for a heartbeat answer over IPC (default 2 s). */
  readonly heartbeatIntervalMs?: number;
  /**
   * A worker that has not answered a heartbeat for this long (its event loop pinned, or wedged) is killed and replaced
   * (default 10 s).
   */
  readonly heartbeatTimeoutMs?: number;
  /** How quickly workers that keep dying are replaced (defaults: DEFAULT_RESTART_BACKOFF). */
  readonly restartBackoff?: Partial<RestartBackoff>;
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

/** Replacing workers that die: the first death after a stable run is replaced at once, then with doubling delays. */
export interface RestartBackoff {
  /** The delay after the second short-lived worker in a row; it doubles with each further one. */
  readonly initialDelayMs: number;
  /** The longest delay. */
  readonly maxDelayMs: number;
  /** A worker that ran at least this long before it died ends the series: its replacement starts at once. */
  readonly stableAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 60_000 };

/**
 * The crash-loop policy: given the series of short-lived workers so far (`previous`) and how long the worker that just
 * died ran, the new series length and the delay before its replacement: 0 for the first of a series, then
 * initialDelayMs, 2x, 4x, ... capped at maxDelayMs. The cluster never gives up: it keeps retrying at the cap.
 */
export function restartPlan(previous: number, uptimeMs: number, backoff: RestartBackoff): { consecutive: number; delayMs: number } {
  const consecutive = uptimeMs >= backoff.stableAfterMs ? 1 : previous + 1;
  const delayMs = consecutive <= 1 ? 0 : Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(consecutive - 2, 52));
  return { consecutive, delayMs };
}

const SHUTDOWN_MESSAGE = 'mcim:shutdown';
const HEARTBEAT_MESSAGE = 'mcim:heartbeat';
const HEARTBEAT_ANSWER = 'mcim:heartbeat-answer';
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 2_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const ignoreSendError = (): void => undefined;

function isShutdownMessage(message: unknown): boolean {
  return message === SHUTDOWN_MESSAGE;
}

/**
 * In the primary: forks the workers (which re-run this program's command line and so call runClusterWorker), sends
 * each listening worker a heartbeat every heartbeatIntervalMs and kills one that has not answered for
 * heartbeatTimeoutMs, replaces every worker that dies (with the restartPlan backoff when they keep dying), and stops
 * them all on SIGINT or SIGTERM. A worker of the first start that dies before it ever listened (bad port, unreadable
 * data) stops the whole cluster with code 1. One log line per replacement.
 */
export function runClusterPrimary(options: ClusterPrimaryOptions): ClusterPrimary {
  if (!cluster.isPrimary) throw new Error('runClusterPrimary called in a cluster worker');
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error(`invalid worker count ${options.workers}`);
  const log = options.log ?? (() => undefined);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
  const backoff: RestartBackoff = { ...DEFAULT_RESTART_BACKOFF, ...options.restartBackoff };
  for (const [name, value] of Object.entries({ heartbeatIntervalMs, heartbeatTimeoutMs, ...backoff })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`invalid ${name} ${value}`);
  }

  const listened = new Set<number>();
  // Per live worker: when it was forked, and when it last answered a heartbeat (from when it listened).
  const forkedAt = new Map<number, number>();
  const lastAnswer = new Map<number, number>();
  const unresponsive = new Set<number>();
  const pendingForks = new Set<NodeJS.Timeout>();
  let consecutive = 0;
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
    clearInterval(heartbeatTimer);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    cluster.removeListener('listening', onListening);
    cluster.removeListener('exit', onExit);
    cluster.removeListener('message', onMessage);
    resolveDone(exitCode);
  };

  const stop = (code = 0): void => {
    if (stopping) {
      finishIfIdle();
      return;
    }
    stopping = true;
    exitCode = code;
    clearInterval(heartbeatTimer);
    for (const t of pendingForks) clearTimeout(t);
    pendingForks.clear();
    for (const w of live()) {
      // A worker still starting may not listen for messages yet (one sent now would be lost): it gets SIGTERM, which
      // ends it by default until runClusterWorker handles it.
      if (!listened.has(w.id)) {
        w.process.kill('SIGTERM');
        continue;
      }
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
    if (first) lastAnswer.set(worker.id, Date.now());
    if (first && !announced && ++firstGenerationListening === options.workers) {
      announced = true;
      options.onListening?.(address.port);
    }
  }

  function onMessage(worker: Worker, message: unknown): void {
    if (message === HEARTBEAT_ANSWER && lastAnswer.has(worker.id)) lastAnswer.set(worker.id, Date.now());
  }

  /** Kills the workers that have not answered for heartbeatTimeoutMs, and asks the others for an answer. */
  function heartbeat(): void {
    const now = Date.now();
    for (const w of live()) {
      const last = lastAnswer.get(w.id);
      if (last === undefined || unresponsive.has(w.id)) continue;
      if (now - last > heartbeatTimeoutMs) {
        // A pinned event loop runs no signal handler: SIGKILL is the only way out; onExit replaces it.
        unresponsive.add(w.id);
        w.process.kill('SIGKILL');
      } else {
        w.send(HEARTBEAT_MESSAGE, undefined, ignoreSendError);
      }
    }
  }

  function fork(): void {
    const w = cluster.fork();
    forkedAt.set(w.id, Date.now());
  }

  function onExit(worker: Worker, code: number | null, signal: string | null): void {
    const now = Date.now();
    const uptimeMs = now - (forkedAt.get(worker.id) ?? now);
    const killed = unresponsive.delete(worker.id);
    const hadListened = listened.delete(worker.id);
    forkedAt.delete(worker.id);
    lastAnswer.delete(worker.id);
    if (stopping) {
      finishIfIdle();
      return;
    }
    const how = killed
      ? `stopped answering heartbeats for ${heartbeatTimeoutMs} ms: killed`
      : `exited (${signal !== null ? `signal ${signal}` : `code ${code ?? '?'}`})`;
    if (!announced && !hadListened) {
      log(`worker ${worker.process.pid ?? '?'} ${how} before it listened: stopping`);
      stop(1);
      return;
    }
    const plan = restartPlan(consecutive, uptimeMs, backoff);
    consecutive = plan.consecutive;
    const when = plan.delayMs === 0 ? 'now' : `in ${plan.delayMs} ms (${plan.consecutive} workers in a row ran less than ${backoff.stableAfterMs} ms)`;
    log(`worker ${worker.process.pid ?? '?'} ${how} after ${uptimeMs} ms: replacing it ${when}`);
    const timer = setTimeout(() => {
      pendingForks.delete(timer);
      fork();
    }, plan.delayMs);
    pendingForks.add(timer);
  }

  const heartbeatTimer = setInterval(heartbeat, heartbeatIntervalMs);
  heartbeatTimer.unref();

  // Read by the first fork only: set before it, unless the environment chose.
  if (process.env['NODE_CLUSTER_SCHED_POLICY'] === undefined) {
    cluster.schedulingPolicy = (options.scheduling ?? 'os') === 'os' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  }
  cluster.on('listening', onListening);
  cluster.on('exit', onExit);
  cluster.on('message', onMessage);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (let i = 0; i < options.workers; i++) fork();
  return { done, stop: () => stop(0) };
}

/**
 * In a worker: answers the primary's heartbeats, starts the service, then closes it and exits on the primary's shutdown
 * message, on SIGINT or SIGTERM, or when the primary goes away. A failure to start exits with code 1 (the primary then stops the cluster).
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
    // Answered from the event loop: a worker whose loop is pinned does not answer, and the primary replaces it.
    else if (message === HEARTBEAT_MESSAGE) process.send?.(HEARTBEAT_ANSWER, undefined, undefined, ignoreSendError);
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
