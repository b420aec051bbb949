// `mcim serve`: the SM-DP+'s ES9+ over HTTPS (SGP.22 5.6), with a test PKI (or the operator's credentials) and SQLite database in its data directory.
// With --workers N > 1 the primary prepares the data directory once and forks N workers sharing the port (src/smdpp/cluster.ts).
import cluster from 'node:cluster';
import { createServer, isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { runClusterPrimary, runClusterWorker, type ClusterService } from '../../smdpp/cluster.js';
import { DEFAULT_SMDP_ADDRESS, configuredAddress, importSmdpCredentials, initSmdpDataDir, openSmdpStore, parseAddress, type SmdpDataDir } from '../../smdpp/dataDir.js';
import { createSmdpServer } from '../../smdpp/server.js';
import { activationCode } from '../../smdpp/importProfile.js';
import { addCredentialOptions, credentialSourcesFromOptions, type CredentialCliOptions } from './smdppCredentials.js';

export interface ServeCliOptions extends CredentialCliOptions {
  readonly data: string;
  readonly address?: string;
  readonly port?: string;
  readonly listen: string;
  readonly workers?: string;
  readonly atRestKeyFile?: string;
}

const DEFAULT_PORT = 8443;
const MAX_WORKERS = 256;

/** A TCP port; 0 asks the system for a free one (the usage text names it). */
function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new McimError('INVALID_ARGUMENT', `'${text}' is not a TCP port`);
  return Number(text);
}

function parseWorkers(text: string | undefined): number {
  if (text === undefined) return availableParallelism();
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_WORKERS) {
    throw new McimError('INVALID_ARGUMENT', `--workers is 1 to ${MAX_WORKERS}, got '${text}'`);
  }
  return Number(text);
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
async function startServer(data: SmdpDataDir, host: string, port: number): Promise<ClusterService & { port: number }> {
  const store = await openSmdpStore(data);
  try {
    const { app } = createSmdpServer({
      address: data.address,
      oid: data.oid,
      credentials: data.credentials,
      trustedCis: data.trustedCis,
      store,
      tls: data.tls,
      onInternalError: logError,
    });
    await app.listen({ host, port }).catch((e: unknown) => {
      throw listenError(e, host, port);
    });
    const address = app.server.address();
    return {
      port: typeof address === 'object' && address !== null ? address.port : port,
      close: () => app.close().then(() => store.close()),
    };
  } catch (e) {
    await store.close();
    throw e;
  }
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
    .option('--at-rest-key-file <file>', 'the key every secret of the data directory is encrypted under, kept outside it (32 bytes: raw, hex or base64; default: <data>/secret.key, created on first start; or $MCIM_AT_REST_KEY, $MCIM_AT_REST_KEY_FILE)');
  addCredentialOptions(command).action(async (o: ServeCliOptions) => {
    if (cluster.isWorker) {
      // The primary checked and imported everything: the worker opens the directory it prepared.
      const data = initSmdpDataDir(o.data, o.address, undefined, { file: o.atRestKeyFile });
      const port = o.port === undefined ? (parseAddress(data.address).port ?? DEFAULT_PORT) : parsePort(o.port);
      await runClusterWorker(() => startServer(data, o.listen, port), logError);
      return;
    }
    // Every flag is checked before anything is created in the data directory.
    const workers = parseWorkers(o.workers);
    if (isIP(o.listen) === 0) throw new McimError('INVALID_ARGUMENT', `--listen takes an IP address, got '${o.listen}'`);
    const addressPort = parseAddress(o.address ?? configuredAddress(o.data) ?? DEFAULT_SMDP_ADDRESS).port;
    const sources = credentialSourcesFromOptions(o);
    const port = o.port === undefined ? (addressPort ?? DEFAULT_PORT) : parsePort(o.port);
    if (port !== 0) await checkListen(o.listen, port);
    const keySource = { file: o.atRestKeyFile };
    const data = sources === undefined ? initSmdpDataDir(o.data, o.address, undefined, keySource) : importSmdpCredentials(o.data, sources, { address: o.address, oid: o.oid, keySource }).data;
    if (workers === 1) {
      const server = await startServer(data, o.listen, port);
      process.stdout.write(usageText(data, o.listen, server.port));
      const stop = (): void => {
        void server.close();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    // The primary brings the database to its latest migration once, before the workers open it.
    await (await openSmdpStore(data)).close();
    const primary = runClusterPrimary({
      workers,
      onListening: (listeningPort) => process.stdout.write(`${usageText(data, o.listen, listeningPort)}(${workers} worker processes)\n`),
      log: (line) => process.stderr.write(`mcim serve: ${line}\n`),
    });
    process.exitCode = await primary.done;
  });
}
