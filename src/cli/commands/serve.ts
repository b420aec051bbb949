// `mcim serve`: the SM-DP+'s ES9+ over HTTPS (SGP.22 5.6), with a test PKI (or the operator's credentials) and SQLite database in its data directory.
// With --workers N > 1 the primary prepares the data directory once and forks N workers sharing the port (src/smdpp/cluster.ts).
import cluster from 'node:cluster';
import { accessSync, constants } from 'node:fs';
import { createServer, isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { parseWholeNumber } from '../wholeNumber.js';
import { createLogger, LOG_LEVELS, type LogLevel, type Logger } from '../../http/logging.js';
import { answerClusterMetrics, clusterSource, registrySource, ServerMetrics, startMetricsEndpoint, type MetricsEndpoint, type MetricsSource } from '../../http/metrics.js';
import { connectionLimits, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../../http/connectionLimits.js';
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, runClusterPrimary, runClusterWorker, type ClusterService } from '../../smdpp/cluster.js';
import { DEFAULT_SMDP_ADDRESS, configuredAddress, importSmdpCredentials, initSmdpDataDir, openSmdpStore, type SmdpDataDir } from '../../smdpp/dataDir.js';
import { parseAddress } from '../../smdpp/context.js';
import { createSmdpServer } from '../../smdpp/server.js';
import { DATABASE_ENV, postgresConfig, type DatabaseConfig } from '../../store/database.js';
import type { LockoutPolicy } from '../../store/lockouts.js';
import { DEFAULT_ABUSE_LIMITS, type AbuseLimits } from '../../smdpp/rateLimit.js';
import { RevocationStore, type RevocationOptions, type StaleCrlPolicy } from '../../smdpp/revocation.js';
import { activationCode } from '../../smdpp/importProfile.js';
import { addCredentialOptions, credentialSourcesFromOptions, type CredentialCliOptions } from './smdppCredentials.js';
import { AtRestKey } from '../../store/secretBox.js';
import { OperatorProfiles } from '../../store/operatorProfiles.js';
import { OperatorTenants } from '../../store/operatorTenants.js';
import { ProfileStock } from '../../store/profileStock.js';
import type { SmdpStore } from '../../store/smdpStore.js';
import { DEFAULT_ORDER_LIMITS, type OrderLimits } from '../../smdpp/es2plus/context.js';
import { startProgressDelivery } from '../../smdpp/es2plus/handleDownloadProgressInfo.js';
import { createEs2plusServer } from '../../smdpp/es2plusServer.js';

export interface ServeCliOptions extends CredentialCliOptions {
  readonly data: string;
  readonly address?: string;
  readonly port?: string;
  readonly listen: string;
  readonly workers?: string;
  readonly logLevel: LogLevel;
  readonly metricsPort?: string;
  readonly metricsListen: string;
  readonly maxConnections?: string;
  readonly maxConnectionsPerAddress?: string;
  readonly handshakeTimeout?: string;
  readonly headersTimeout?: string;
  readonly requestTimeout?: string;
  readonly idleTimeout?: string;
  readonly keepAliveTimeout?: string;
  readonly maxRequestsPerSocket?: string;
  readonly heartbeatInterval?: string;
  readonly heartbeatTimeout?: string;
  readonly atRestKeyFile?: string;
  readonly db?: string;
  readonly maxOpenSessionsPerSource?: string;
  readonly matchingIdFailuresPerEid?: string;
  readonly matchingIdFailuresPerSource?: string;
  readonly authFailuresPerSource?: string;
  readonly crl?: readonly string[];
  readonly crlRefresh?: string;
  readonly crlFetch?: boolean;
  readonly crlStale?: string;
  readonly es2plusPort?: string;
  readonly kekFile?: string;
  readonly orderValidityDays?: string;
  readonly maxDownloadAttempts?: string;
}

/** ES2+ for operators (SGP.22 5.3): its own port, the KEK that opens the stock, the limits of the orders it confirms. */
interface Es2Settings {
  readonly port: number;
  readonly kekFile: string | undefined;
  readonly limits: OrderLimits;
}

function es2Settings(o: ServeCliOptions): Es2Settings | undefined {
  if (o.es2plusPort === undefined) return undefined;
  const days = o.orderValidityDays === undefined ? undefined : parseWholeNumber(o.orderValidityDays, '--order-validity-days', 1, 3650);
  const attempts = o.maxDownloadAttempts === undefined ? undefined : parseWholeNumber(o.maxDownloadAttempts, '--max-download-attempts', 1, 1000);
  return {
    port: parsePort(o.es2plusPort, '--es2plus-port'),
    kekFile: o.kekFile,
    limits: {
      validityMs: days === undefined ? DEFAULT_ORDER_LIMITS.validityMs : days * 86_400_000,
      maxDownloadAttempts: attempts ?? DEFAULT_ORDER_LIMITS.maxDownloadAttempts,
    },
  };
}

/** The connection-limit flags: flag, option, the ConnectionLimits field, what it sets (docs/operations.md). */
const LIMIT_FLAGS = [
  ['--max-connections <n>', 'maxConnections', 'maxConnections', 'open connections per process; more are closed on accept (0: no cap)'],
  ['--max-connections-per-address <n>', 'maxConnectionsPerAddress', 'maxConnectionsPerAddress', 'open connections per source address, IPv6 per /64 (0: no cap)'],
  ['--handshake-timeout <ms>', 'handshakeTimeout', 'handshakeTimeoutMs', 'TLS handshake deadline'],
  ['--headers-timeout <ms>', 'headersTimeout', 'headersTimeoutMs', "deadline for a request's headers"],
  ['--request-timeout <ms>', 'requestTimeout', 'requestTimeoutMs', 'deadline for a whole request, headers and body'],
  ['--idle-timeout <ms>', 'idleTimeout', 'idleTimeoutMs', 'a connection without traffic this long is closed'],
  ['--keep-alive-timeout <ms>', 'keepAliveTimeout', 'keepAliveTimeoutMs', 'an idle keep-alive connection is closed after this (node adds 1 s)'],
  ['--max-requests-per-socket <n>', 'maxRequestsPerSocket', 'maxRequestsPerSocket', 'requests served on one connection (0: no limit)'],
] as const satisfies readonly (readonly [string, keyof ServeCliOptions, keyof ConnectionLimits, string])[];

/** The connection limits the flags set, checked (each flag not given: its default). */
function limitsFromOptions(o: ServeCliOptions): ConnectionLimits {
  const given: Partial<Record<keyof ConnectionLimits, number>> = {};
  for (const [flag, option, field] of LIMIT_FLAGS) {
    const text = o[option];
    if (text !== undefined) given[field] = parseWholeNumber(text, flag.split(' ')[0]!);
  }
  return connectionLimits(given);
}

function heartbeatFromOptions(o: ServeCliOptions): { heartbeatIntervalMs: number; heartbeatTimeoutMs: number } {
  const get = (text: string | undefined, flag: string, fallback: number): number => {
    const ms = text === undefined ? fallback : parseWholeNumber(text, flag);
    if (ms < 1) throw new McimError('INVALID_ARGUMENT', `${flag} is at least 1 ms, got ${ms}`);
    return ms;
  };
  const heartbeatIntervalMs = get(o.heartbeatInterval, '--heartbeat-interval', DEFAULT_HEARTBEAT_INTERVAL_MS);
  const heartbeatTimeoutMs = get(o.heartbeatTimeout, '--heartbeat-timeout', DEFAULT_HEARTBEAT_TIMEOUT_MS);
  if (heartbeatTimeoutMs <= heartbeatIntervalMs) {
    throw new McimError('INVALID_ARGUMENT', `--heartbeat-timeout (${heartbeatTimeoutMs} ms) must exceed --heartbeat-interval (${heartbeatIntervalMs} ms)`);
  }
  return { heartbeatIntervalMs, heartbeatTimeoutMs };
}

/** What a serving process reports through: its JSON logs and, with --metrics-port, its metrics. */
interface Observability {
  readonly logger: Logger;
  readonly metrics?: ServerMetrics;
}

const DEFAULT_PORT = 8443;

/** The abuse-limit flags: flag, option, what it sets (the windows and lockout times keep their defaults; docs/operations.md). */
const ABUSE_FLAGS = [
  ['--max-open-sessions-per-source <n>', 'maxOpenSessionsPerSource', `open sessions one source address (IPv6: /64) may hold (default ${DEFAULT_ABUSE_LIMITS.maxOpenSessionsPerSource})`],
  ['--matching-id-failures-per-eid <n>', 'matchingIdFailuresPerEid', `wrong matching IDs of one eUICC per hour before its lockout (default ${DEFAULT_ABUSE_LIMITS.eid.maxFailures})`],
  ['--matching-id-failures-per-source <n>', 'matchingIdFailuresPerSource', `wrong matching IDs from one source per hour before its lockout; raise it behind a shared NAT (default ${DEFAULT_ABUSE_LIMITS.source.maxFailures})`],
  ['--auth-failures-per-source <n>', 'authFailuresPerSource', `failed eUICC authentications from one source per 10 minutes before its lockout (default ${DEFAULT_ABUSE_LIMITS.authentication.maxFailures})`],
] as const satisfies readonly (readonly [string, keyof ServeCliOptions, string])[];

/** The abuse limits the flags set, each a whole number from 1 (a flag not given: its default). */
function abuseLimitsFromOptions(o: ServeCliOptions): Partial<AbuseLimits> {
  const count = (option: (typeof ABUSE_FLAGS)[number][1]): number | undefined => {
    const text = o[option];
    if (text === undefined) return undefined;
    const flag = ABUSE_FLAGS.find((f) => f[1] === option)![0].split(' ')[0]!;
    return parseWholeNumber(text, flag, 1);
  };
  const withMax = (policy: LockoutPolicy, max: number | undefined): LockoutPolicy | undefined => (max === undefined ? undefined : { ...policy, maxFailures: max });
  const limits: { -readonly [K in keyof AbuseLimits]?: AbuseLimits[K] } = {};
  const sessions = count('maxOpenSessionsPerSource');
  if (sessions !== undefined) limits.maxOpenSessionsPerSource = sessions;
  const eid = withMax(DEFAULT_ABUSE_LIMITS.eid, count('matchingIdFailuresPerEid'));
  if (eid !== undefined) limits.eid = eid;
  const source = withMax(DEFAULT_ABUSE_LIMITS.source, count('matchingIdFailuresPerSource'));
  if (source !== undefined) limits.source = source;
  const authentication = withMax(DEFAULT_ABUSE_LIMITS.authentication, count('authFailuresPerSource'));
  if (authentication !== undefined) limits.authentication = authentication;
  return limits;
}

/** The store's database from --db (a PostgreSQL URL); none: $MCIM_DB or the data directory's SQLite (openSmdpStore). */
function databaseOption(o: ServeCliOptions): DatabaseConfig | undefined {
  return o.db === undefined ? undefined : postgresConfig(o.db);
}
const MAX_WORKERS = 256;

/** A TCP port; 0 asks the system for a free one (the usage text names it). */
function parsePort(text: string, flag: string): number {
  return parseWholeNumber(text, flag, 0, 65535);
}

function parseWorkers(text: string | undefined): number {
  return text === undefined ? availableParallelism() : parseWholeNumber(text, '--workers', 1, MAX_WORKERS);
}

const MAX_CRL_REFRESH_SECONDS = 7 * 24 * 3600;

/** The revocation flags (SGP.22 4.6): no --crl and no --crl-fetch means no revocation checking. */
export function revocationOptions(o: ServeCliOptions): Omit<RevocationOptions, 'trustedCis' | 'onEvent'> | undefined {
  const refresh = o.crlRefresh === undefined ? undefined : parseWholeNumber(o.crlRefresh, '--crl-refresh', 10, MAX_CRL_REFRESH_SECONDS);
  const stale = o.crlStale ?? 'fail-open';
  if (stale !== 'fail-open' && stale !== 'fail-closed') throw new McimError('INVALID_ARGUMENT', `--crl-stale is fail-open or fail-closed, got '${stale}'`);
  const files = o.crl ?? [];
  // A mistyped path would silently disable the check: refused at start (later unreadable files are logged and skipped).
  for (const file of files) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new McimError('INVALID_ARGUMENT', `--crl ${file}: no such readable file`);
    }
  }
  if (files.length === 0 && o.crlFetch !== true) return undefined;
  return {
    files,
    fetch: o.crlFetch === true,
    stalePolicy: stale as StaleCrlPolicy,
    ...(refresh !== undefined ? { refreshSeconds: refresh } : {}),
  };
}

/** A listen failure as a one-line error: port taken, not allowed, or an interface this host does not have. */
function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new McimError('PORT_IN_USE', `port ${port} on ${host} is already in use`);
  if (code === 'EACCES') return new McimError('PORT_NOT_ALLOWED', `not allowed to listen on port ${port} on ${host}`);
  if (code === 'EADDRNOTAVAIL') return new McimError('INVALID_ARGUMENT', `--listen ${host}: no such interface on this host`);
  return e;
}

/** Fails early, before the data directory is created, when the port cannot be listened on. */
function checkListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e) => reject(listenError(e, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function logError(e: unknown): void {
  process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
}

/** Opens the store and serves ES9+ on host:port until closed; returns the port listened on. */
async function startServer(
  data: SmdpDataDir,
  host: string,
  port: number,
  connections: ConnectionLimits,
  observe: Observability,
  crl: ReturnType<typeof revocationOptions>,
  database: DatabaseConfig | undefined,
  abuse: Partial<AbuseLimits>,
  es2: Es2Settings | undefined,
): Promise<ClusterService & { port: number; es2plusPort?: number }> {
  const store = await openSmdpStore(data, database);
  const revocation =
    crl === undefined
      ? undefined
      : new RevocationStore({
          ...crl,
          trustedCis: [...data.trustedCis, ...data.credentials.map((c) => c.ci)],
          onEvent: (event) => observe.logger.warn({ component: 'revocation', ...event }),
        });
  revocation?.start();
  try {
    const { app } = createSmdpServer({
      address: data.address,
      oid: data.oid,
      credentials: data.credentials,
      trustedCis: data.trustedCis,
      store,
      tls: { ...data.tls, connections },
      logger: observe.logger,
      ...(observe.metrics === undefined ? {} : { metrics: observe.metrics }),
      ...(revocation !== undefined ? { revocation } : {}),
      limits: abuse,
    });
    await app.listen({ host, port }).catch((e: unknown) => {
      throw listenError(e, host, port);
    });
    const address = app.server.address();
    const operators = es2 === undefined ? undefined : await startEs2plus(data, store, host, es2, observe.logger);
    return {
      port: typeof address === 'object' && address !== null ? address.port : port,
      ...(operators === undefined ? {} : { es2plusPort: operators.port }),
      close: async () => {
        revocation?.stop();
        await operators?.close();
        await app.close();
        await store.close();
      },
    };
  } catch (e) {
    revocation?.stop();
    await store.close();
    throw e;
  }
}

/** Serves ES2+ on its own port (client certificates required) and delivers the progress outbox in the background. */
async function startEs2plus(data: SmdpDataDir, store: SmdpStore, host: string, es2: Es2Settings, logger: Logger): Promise<{ port: number; close: () => Promise<void> }> {
  const kek = es2.kekFile === undefined ? data.atRestKey : AtRestKey.resolve(es2.kekFile, { file: es2.kekFile, env: {} });
  const tenants = new OperatorTenants(store.db);
  const profiles = new OperatorProfiles(store.db, store.orders, new ProfileStock(store.db, kek.box()));
  const app = createEs2plusServer({
    tls: data.tls,
    context: { address: data.address, tenants, profiles, limits: es2.limits, now: Date.now },
    logger,
    onInternalError: logError,
  });
  await app.listen({ host, port: es2.port }).catch((e: unknown) => {
    throw listenError(e, host, es2.port);
  });
  const delivery = startProgressDelivery({
    outbox: store.outbox,
    tenants,
    requesterIdentifier: data.oid,
    tls: { cert: data.tls.cert, key: data.tls.key },
    now: Date.now,
    onAttempt: (entry, outcome) =>
      outcome.delivered
        ? logger.info({ component: 'es2plus', operator: entry.operator, iccid: entry.iccid, point: entry.payload['notificationPointId'] }, 'HandleDownloadProgressInfo delivered')
        : logger.warn({ component: 'es2plus', operator: entry.operator, iccid: entry.iccid, attempts: entry.attempts + 1, error: outcome.error }, 'HandleDownloadProgressInfo not accepted: retried later'),
    onError: logError,
  });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : es2.port,
    close: async () => {
      await delivery.stop();
      await app.close();
    },
  };
}

/** The at-rest key file outside the data directory given with --at-rest-key-file, which the other commands then need too. */
function outsideKeyFile(data: SmdpDataDir): string | undefined {
  const origin = data.atRestKey.origin;
  return origin.startsWith('$') || origin === join(data.dir, 'secret.key') ? undefined : resolve(origin);
}

/** How to get a profile onto a simulated device from this SM-DP+. */
export function usageText(data: SmdpDataDir, listen: string, port: number): string {
  const { host, port: addressPort } = parseAddress(data.address);
  const reachable = host === 'localhost' && (addressPort ?? 443) === port;
  const connect = reachable ? '' : ` --connect ${listen === '0.0.0.0' ? '127.0.0.1' : listen}:${port}`;
  const ac = activationCode(data.address, 'MATCHING-ID');
  const supplied = data.credentialSource === 'supplied';
  const keyFile = outsideKeyFile(data);
  const created = supplied ? ' (created with the supplied credentials)' : ' (created: test PKI for P-256 and brainpoolP256r1)';
  return [
    `SM-DP+ ${data.address} (OID ${data.oid}) serving ES9+ on https://${listen}:${port}/gsma/rsp2/es9plus/${data.tls.maxVersion === 'TLSv1.2' ? ' (TLS 1.2: brainpool TLS certificate)' : ''}`,
    `data: ${data.dir}${data.created ? created : supplied ? ' (supplied credentials)' : ''}`,
    `trust anchors for devices: ${Object.values(data.ciCertificateFiles).join(', ')}`,
    '',
    'to download a profile:',
    `  ${keyFile === undefined ? '' : `MCIM_AT_REST_KEY_FILE=${keyFile} `}mcim smdpp import PROFILE.der --data ${data.dir}    # prints the activation code (a generated MATCHING-ID)`,
    supplied
      ? '  mcim device init --state device.state --sgp26 DIR   # or any eUICC whose CI is among the trust anchors'
      : `  mcim device init --state device.state --pki ${data.pkiDirs.p256}${keyFile === undefined ? '' : ` --at-rest-key-file ${keyFile}`}`,
    `  mcim device download --state device.state --ac '${ac}' --ca ${data.tlsCaFile}${connect}`,
    '',
  ].join('\n');
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description(
      "run the SM-DP+ (ES9+ over HTTPS); creates a test PKI and database in the data directory on first start, or uses the operator's credentials given with the credential flags (see mcim smdpp credentials)",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ mcim serve\n  $ mcim serve --data /var/lib/mcim --address smdp.example.net:8443 --workers 2\n  $ mcim serve --port 0 --workers 1   # any free port, one process\n  $ mcim serve --data ./sgp26-data --sgp26 /path/to/SGP.26   # the GSMA SGP.26 test credentials',
    )
    .option('--data <dir>', 'data directory', './data')
    .option('--address <host[:port]>', `the SM-DP+ address activation codes carry (first start only; default ${DEFAULT_SMDP_ADDRESS})`)
    .option('--port <n>', 'TCP port to listen on (default: the address port, else 8443)')
    .option('--listen <ip>', 'interface to listen on', '127.0.0.1')
    .option('--workers <n>', 'processes serving the port (default: the number of CPUs; 1: a single process)')
    .addOption(new Option('--log-level <level>', 'JSON log lines on standard output from this level (security events: warn and info)').choices(LOG_LEVELS).default('info'))
    .option('--metrics-port <n>', 'serve Prometheus metrics on http://<metrics-listen>:<n>/metrics (default: no metrics endpoint)')
    .option('--metrics-listen <ip>', 'interface of the metrics endpoint', '127.0.0.1')
    .option('--db <url>', `PostgreSQL for the store, postgres://USER@HOST:PORT/DATABASE[?schema=NAME] (default: $${DATABASE_ENV}, else SQLite in the data directory)`)
    .option('--at-rest-key-file <file>', 'the key every secret of the data directory is encrypted under, kept outside it (32 bytes: raw, hex or base64; default: <data>/secret.key, created on first start; or $MCIM_AT_REST_KEY, $MCIM_AT_REST_KEY_FILE)')
    .option('--crl <file>', 'a CRL (DER or PEM) of the CI or of an EUM, checked against EUM and eUICC certificates (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--crl-fetch', "also fetch CRLs from the validated certificates' CRL distribution points (http/https, in the background)")
    .option('--crl-refresh <seconds>', 'seconds between re-reading the CRL files and re-fetching distribution points (default 3600)')
    .option('--crl-stale <policy>', 'a CRL past its nextUpdate: fail-open (default: only listed certificates refused) or fail-closed (all it covers refused)');
  for (const [flag, , field, what] of LIMIT_FLAGS) command.option(flag, `${what} (default ${DEFAULT_CONNECTION_LIMITS[field]})`);
  for (const [flag, , what] of ABUSE_FLAGS) command.option(flag, what);
  command
    .option('--heartbeat-interval <ms>', `with --workers > 1: how often the primary checks each worker (default ${DEFAULT_HEARTBEAT_INTERVAL_MS})`)
    .option('--heartbeat-timeout <ms>', `with --workers > 1: a worker silent this long is killed and replaced (default ${DEFAULT_HEARTBEAT_TIMEOUT_MS})`)
    .option('--es2plus-port <n>', 'also serve ES2+ for operators (mutual TLS; operators added with mcim operator add) on this port, and call them back')
    .option('--kek-file <file>', "with --es2plus-port: the key-encryption key of the profile stock (default: the data directory's at-rest key)")
    .option('--order-validity-days <n>', `with --es2plus-port: days an order confirmed over ES2+ stays downloadable (default ${DEFAULT_ORDER_LIMITS.validityMs / 86_400_000})`)
    .option('--max-download-attempts <n>', `with --es2plus-port: download attempts per order (default ${DEFAULT_ORDER_LIMITS.maxDownloadAttempts})`);
  addCredentialOptions(command).action(async (o: ServeCliOptions) => {
    const logger = createLogger({ level: o.logLevel });
    if (cluster.isWorker) {
      // The primary checked and imported everything: the worker opens the directory it prepared.
      const data = initSmdpDataDir(o.data, o.address, undefined, { file: o.atRestKeyFile });
      const port = o.port === undefined ? (parseAddress(data.address).port ?? DEFAULT_PORT) : parsePort(o.port, '--port');
      // With a metrics endpoint, the primary serves it and asks each worker for its metrics over the cluster channel.
      const metrics = o.metricsPort === undefined ? undefined : new ServerMetrics();
      if (metrics !== undefined) answerClusterMetrics(metrics.registry);
      await runClusterWorker(() => startServer(data, o.listen, port, limitsFromOptions(o), { logger, metrics }, revocationOptions(o), databaseOption(o), abuseLimitsFromOptions(o), es2Settings(o)), logError);
      return;
    }
    // Every flag is checked before anything is created in the data directory.
    const workers = parseWorkers(o.workers);
    const connections = limitsFromOptions(o);
    const database = databaseOption(o);
    const abuse = abuseLimitsFromOptions(o);
    const heartbeat = heartbeatFromOptions(o);
    const crl = revocationOptions(o);
    const es2 = es2Settings(o);
    if (es2 !== undefined && es2.port !== 0) await checkListen(o.listen, es2.port);
    if (isIP(o.listen) === 0) throw new McimError('INVALID_ARGUMENT', `--listen takes an IP address, got '${o.listen}'`);
    if (isIP(o.metricsListen) === 0) throw new McimError('INVALID_ARGUMENT', `--metrics-listen takes an IP address, got '${o.metricsListen}'`);
    const metricsPort = o.metricsPort === undefined ? undefined : parsePort(o.metricsPort, '--metrics-port');
    const addressPort = parseAddress(o.address ?? configuredAddress(o.data) ?? DEFAULT_SMDP_ADDRESS).port;
    const sources = credentialSourcesFromOptions(o);
    const port = o.port === undefined ? (addressPort ?? DEFAULT_PORT) : parsePort(o.port, '--port');
    if (port !== 0) await checkListen(o.listen, port);
    if (metricsPort !== undefined && metricsPort !== 0) await checkListen(o.metricsListen, metricsPort);
    const keySource = { file: o.atRestKeyFile };
    const data = sources === undefined ? initSmdpDataDir(o.data, o.address, undefined, keySource) : importSmdpCredentials(o.data, sources, { address: o.address, oid: o.oid, keySource }).data;
    const startMetrics = async (source: MetricsSource): Promise<MetricsEndpoint | undefined> => {
      if (metricsPort === undefined) return undefined;
      const endpoint = await startMetricsEndpoint(source, o.metricsListen, metricsPort).catch((e: unknown) => {
        throw listenError(e, o.metricsListen, metricsPort);
      });
      process.stdout.write(`metrics: http://${o.metricsListen}:${endpoint.port}/metrics\n`);
      return endpoint;
    };
    if (workers === 1) {
      const metrics = metricsPort === undefined ? undefined : new ServerMetrics();
      const server = await startServer(data, o.listen, port, connections, { logger, metrics }, crl, database, abuse, es2);
      const endpoint = metrics === undefined ? undefined : await startMetrics(registrySource(metrics.registry));
      if (server.es2plusPort !== undefined) process.stdout.write(`ES2+ for operators (client certificates required) on https://${o.listen}:${server.es2plusPort}/gsma/rsp2/es2plus/\n`);
      process.stdout.write(usageText(data, o.listen, server.port));
      const stop = (): void => {
        void server.close().then(() => endpoint?.close());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    // The primary brings the database to its latest migration once, before the workers open it.
    await (await openSmdpStore(data, database)).close();
    const endpoint = await startMetrics(clusterSource());
    const primary = runClusterPrimary({
      workers,
      ...heartbeat,
      onListening: (listeningPort) => process.stdout.write(`${usageText(data, o.listen, listeningPort)}(${workers} worker processes)\n`),
      log: (line) => process.stderr.write(`mcim serve: ${line}\n`),
    });
    process.exitCode = await primary.done;
    await endpoint?.close();
  });
}
