// `mcim serve`: the SM-DP+'s ES9+ over HTTPS (SGP.22 5.6), with a test PKI and SQLite database in its data directory.
// With --workers N > 1 the primary prepares the data directory once and forks N workers sharing the port (src/smdpp/cluster.ts).
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { runClusterPrimary, runClusterWorker, type ClusterService } from '../../smdpp/cluster.js';
import { DEFAULT_SMDP_ADDRESS, initSmdpDataDir, openSmdpStore, parseAddress, type SmdpDataDir } from '../../smdpp/dataDir.js';
import { createSmdpServer } from '../../smdpp/server.js';
import { activationCode } from '../../smdpp/importProfile.js';

export interface ServeCliOptions {
  readonly data: string;
  readonly address?: string;
  readonly port?: string;
  readonly listen: string;
  readonly workers?: string;
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
      store,
      tls: data.tls,
      onInternalError: logError,
    });
    await app.listen({ host, port });
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

/** How to get a profile onto a simulated device from this SM-DP+. */
export function usageText(data: SmdpDataDir, listen: string, port: number): string {
  const { host, port: addressPort } = parseAddress(data.address);
  const reachable = host === 'localhost' && (addressPort ?? 443) === port;
  const connect = reachable ? '' : ` --connect ${listen === '0.0.0.0' ? '127.0.0.1' : listen}:${port}`;
  const ac = activationCode(data.address, 'MATCHING-ID');
  return [
    `SM-DP+ ${data.address} (OID ${data.oid}) serving ES9+ on https://${listen}:${port}/gsma/rsp2/es9plus/`,
    `data: ${data.dir}${data.created ? ' (created: test PKI for P-256 and brainpoolP256r1)' : ''}`,
    `trust anchors for devices: ${Object.values(data.ciCertificateFiles).join(', ')}`,
    '',
    'to download a profile:',
    `  mcim smdpp import PROFILE.der --data ${data.dir}    # prints the activation code (a generated MATCHING-ID)`,
    `  mcim device init --state device.state --pki ${data.pkiDirs.p256}`,
    `  mcim device download --state device.state --ac '${ac}' --ca ${data.ciCertificateFiles.p256}${connect}`,
    '',
  ].join('\n');
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SM-DP+ (ES9+ over HTTPS); creates a test PKI and database in the data directory on first start')
    .addHelpText(
      'after',
      '\nExamples:\n  $ mcim serve\n  $ mcim serve --data /var/lib/mcim --address smdp.example.net:8443 --workers 2\n  $ mcim serve --port 0 --workers 1   # any free port, one process',
    )
    .option('--data <dir>', 'data directory', './data')
    .option('--address <host[:port]>', `the SM-DP+ address activation codes carry (first start only; default ${DEFAULT_SMDP_ADDRESS})`)
    .option('--port <n>', 'TCP port to listen on (default: the address port, else 8443)')
    .option('--listen <ip>', 'interface to listen on', '127.0.0.1')
    .option('--workers <n>', 'processes serving the port (default: the number of CPUs; 1: a single process)')
    .action(async (o: ServeCliOptions) => {
      const workers = parseWorkers(o.workers);
      const data = initSmdpDataDir(o.data, o.address);
      const port = o.port === undefined ? (parseAddress(data.address).port ?? DEFAULT_PORT) : parsePort(o.port);
      if (cluster.isWorker) {
        await runClusterWorker(() => startServer(data, o.listen, port), logError);
        return;
      }
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
