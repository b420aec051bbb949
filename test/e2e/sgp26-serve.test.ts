// `mcim serve --sgp26 DIR`: the SM-DP+ on the GSMA SGP.26 test credentials (SGP.22 3.1.3), and SGP.26 eUICCs on both curves download from it through the CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixturePath } from '../helpers/fixtures.js';
import { writeSgp26TlsFiles } from '../pki/sgp26.js';
import { MCIM_MAIN as MAIN, startServe, type ServeProcess } from '../helpers/serveProcess.js';

const PROFILE = fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const SGP26 = fixturePath('sgp26');
const HOST = 'testsmdpplus1.example.com';
const tmp = mkdtempSync(join(tmpdir(), 'mcim-sgp26-serve-'));
const data = join(tmp, 'smdp');
let server: ServeProcess | undefined;

after(() => {
  server?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

function mcim(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`mcim ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Starts `mcim serve` with `args` on a free port; resolves with the port and what it printed once it listens. */
async function serve(args: readonly string[]): Promise<{ port: number; out: string }> {
  server = await startServe(['--data', data, '--port', '0', '--workers', '1', ...args], [/https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*--connect/], 15_000);
  return { port: server.port, out: server.stdout() };
}

describe('mcim serve --sgp26', () => {
  it('loads the SGP.26 set with one flag; SGP.26 eUICCs on P-256 and brainpoolP256r1 download a TS.48 profile', { timeout: 60_000 }, async () => {
    // SGP.26's own VARO TLS certificate expires in February 2027: serve a fresh P-256 one from the SGP.26 CI key instead.
    const { cert: tlsCert, key: tlsKey } = writeSgp26TlsFiles(tmp, HOST);

    const { port, out } = await serve(['--sgp26', SGP26, '--tls-cert', tlsCert, '--tls-key', tlsKey]);
    assert.match(out, new RegExp(`SM-DP\\+ ${HOST.replace(/\./g, '\\.')} \\(OID 2\\.999\\.10\\)`));
    const ca = /--ca (\S+ci-1-p256\.pem)/.exec(out)?.[1];
    assert.ok(ca, out);

    for (const curve of ['p256', 'brainpool'] as const) {
      const matchingId = `SGP26-${curve}`;
      const imported = JSON.parse(await mcim(['smdpp', 'import', PROFILE, '--matching-id', matchingId, '--allow-short-matching-id', '--data', data, '--json'])) as { iccid: string; activationCode: string };
      assert.equal(imported.activationCode, `LPA:1$${HOST}$${matchingId}`);
      const state = join(tmp, `${curve}.state`);
      const init = JSON.parse(await mcim(['device', 'init', '--state', state, '--sgp26', SGP26, '--curve', curve, '--json'])) as { eid: string };
      assert.equal(init.eid, '89049032123451234512345678901235');
      const downloaded = JSON.parse(await mcim(['device', 'download', '--state', state, '--ac', imported.activationCode, '--ca', ca, '--connect', `127.0.0.1:${port}`, '--json'])) as {
        iccid: string;
        notification: { delivered: boolean };
      };
      assert.equal(downloaded.iccid, imported.iccid);
      assert.equal(downloaded.notification.delivered, true);
    }
    server!.child.kill('SIGTERM');
  });
});
