// `mcim serve --crl`: the SM-DP+ refuses an eUICC its EUM revoked (SGP.22 4.6; AuthenticateClient 8.1.3/6.1) with a CRL issued by
// `mcim pki crl` from the SGP.26 EUM key, logs the CRL and the refusal, and still serves an eUICC of another EUM.
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
const tmp = mkdtempSync(join(tmpdir(), 'mcim-crl-serve-'));
const data = join(tmp, 'smdp');
let server: ServeProcess | undefined;

after(() => {
  server?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

function mcim(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function serve(args: readonly string[]): Promise<{ port: number; out: string; logs: () => string }> {
  server = await startServe(['--data', data, '--port', '0', '--workers', '1', ...args], [/https:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*--connect/], 15_000);
  return { port: server.port, out: server.stdout(), logs: server.output };
}

describe('mcim serve --crl', () => {
  it('an eUICC revoked by its EUM is refused with 8.1.3/6.1 and logged; an eUICC of another EUM downloads', { timeout: 60_000 }, async () => {
    const { cert: tlsCert, key: tlsKey } = writeSgp26TlsFiles(tmp, HOST);

    // The SGP.26 NIST EUM revokes the SGP.26 NIST eUICC.
    const crl = join(tmp, 'eum-nist.crl');
    const issued = await mcim([
      'pki', 'crl', crl,
      '--issuer', join(SGP26, 'EUM', 'CERT_EUM_ECDSA_NIST.der'),
      '--key', join(SGP26, 'EUM', 'SK_EUM_ECDSA_NIST.pem'),
      '--revoke', join(SGP26, 'eUICC', 'CERT_EUICC_ECDSA_NIST.der'),
      '--json',
    ]);
    assert.equal(issued.code, 0, issued.stderr);

    const { port, out, logs } = await serve(['--sgp26', SGP26, '--tls-cert', tlsCert, '--tls-key', tlsKey, '--crl', crl]);
    const ca = /--ca (\S+ci-1-p256\.pem)/.exec(out)?.[1];
    assert.ok(ca, out);

    const results: Record<string, { code: number; stdout: string; stderr: string }> = {};
    for (const curve of ['p256', 'brainpool'] as const) {
      const matchingId = `CRL-SERVE-${curve}`;
      const imported = JSON.parse((await mcim(['smdpp', 'import', PROFILE, '--matching-id', matchingId, '--allow-short-matching-id', '--data', data, '--json'])).stdout) as { activationCode: string };
      const state = join(tmp, `${curve}.state`);
      assert.equal((await mcim(['device', 'init', '--state', state, '--sgp26', SGP26, '--curve', curve])).code, 0);
      results[curve] = await mcim(['device', 'download', '--state', state, '--ac', imported.activationCode, '--ca', ca, '--connect', `127.0.0.1:${port}`, '--json']);
    }
    assert.notEqual(results.p256!.code, 0);
    assert.match(results.p256!.stderr, /authenticateClient Failed 8\.1\.3\/6\.1: .* is revoked by the CRL of /);
    assert.equal(results.brainpool!.code, 0, results.brainpool!.stderr);

    const events = logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { component: string; event: string });
    assert.ok(events.some((e) => e.component === 'revocation' && e.event === 'crl-loaded'), logs());
    assert.ok(events.some((e) => e.event === 'certificate-revoked'), logs());
    server!.child.kill('SIGTERM');
  });
});
