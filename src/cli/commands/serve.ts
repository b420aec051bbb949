// `mcim serve`: the SM-DP+'s ES9+ over HTTPS (SGP.22 5.6), with a test PKI and SQLite database in its data directory.
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { DEFAULT_SMDP_ADDRESS, initSmdpDataDir, openSmdpStore, parseAddress, type SmdpDataDir } from '../../smdpp/dataDir.js';
import { createSmdpServer } from '../../smdpp/server.js';
import { activationCode } from '../../smdpp/importProfile.js';

export interface ServeCliOptions {
  readonly data: string;
  readonly address?: string;
  readonly port?: string;
  readonly listen: string;
}

const DEFAULT_PORT = 8443;

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new McimError('INVALID_ARGUMENT', `'${text}' is not a TCP port`);
  return Number(text);
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
    `  mcim smdpp import PROFILE.der --matching-id MATCHING-ID --data ${data.dir}`,
    `  mcim device init --state device.state --pki ${data.pkiDirs.p256}`,
    `  mcim device download --state device.state --ac '${ac}' --ca ${data.ciCertificateFiles.p256}${connect}`,
    '',
  ].join('\n');
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the SM-DP+ (ES9+ over HTTPS); creates a test PKI and database in the data directory on first start')
    .option('--data <dir>', 'data directory', './data')
    .option('--address <host[:port]>', `the SM-DP+ address activation codes carry (first start only; default ${DEFAULT_SMDP_ADDRESS})`)
    .option('--port <n>', 'TCP port to listen on (default: the address port, else 8443)')
    .option('--listen <ip>', 'interface to listen on', '127.0.0.1')
    .action(async (o: ServeCliOptions) => {
      const data = initSmdpDataDir(o.data, o.address);
      const port = o.port === undefined ? (parseAddress(data.address).port ?? DEFAULT_PORT) : parsePort(o.port);
      const store = await openSmdpStore(data);
      const { app } = createSmdpServer({
        address: data.address,
        oid: data.oid,
        credentials: data.credentials,
        store,
        tls: data.tls,
        onInternalError: (e) => process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`),
      });
      await app.listen({ host: o.listen, port });
      process.stdout.write(usageText(data, o.listen, port));
      const stop = (): void => {
        void app.close().then(() => store.close());
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
