// CERT.DP.TLS on brainpoolP256r1 (SGP.22 2.6.6 TLS for ES9+) served to a TLS peer mcim did not build: Debian's `openssl s_client`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';
import { tlsCurveSupported, tlsServerSettings } from '../../src/smdpp/credentialSet.js';
import { importSmdpCredentials, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { createSmdpServer, type SmdpServer } from '../../src/smdpp/server.js';
import type { SmdpStore } from '../../src/store/smdpStore.js';

const HOST = 'smdp.example.com';

/** Runs `openssl s_client -brief` against the server and returns what it printed (stdout and stderr). */
function sClient(port: number, caFile: string, extra: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-brief', '-connect', `127.0.0.1:${port}`, '-servername', HOST, '-verify_hostname', HOST, '-CAfile', caFile, '-verify_return_error', ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end();
  });
}

describe('TLS of the SM-DP+ with a brainpoolP256r1 or P-256 CERT.DP.TLS, checked with openssl s_client', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mcim-bptls-'));
  const servers: { server: SmdpServer; store: SmdpStore }[] = [];
  const ports: Record<string, number> = {};
  const caFiles: Record<string, string> = {};

  before(async () => {
    for (const curve of ['brainpoolP256r1', 'P-256'] as const) {
      const pki = issueTestPki({ curve, smdpAddress: HOST });
      const tls = issueTestCertificate('dp-tls', pki.ci, { curve, smdpAddress: HOST });
      const file = (name: string, data: string | Buffer): string => {
        const path = join(tmp, `${curve}-${name}`);
        writeFileSync(path, data);
        return path;
      };
      caFiles[curve] = file('ci.pem', certificateToPem(pki.ci.der));
      const { data } = importSmdpCredentials(join(tmp, `data-${curve}`), {
        cis: [caFiles[curve]],
        dpAuth: [{ certificate: file('dp-auth.der', pki.dpAuth.der), key: file('dp-auth.key', pki.dpAuth.privateKey.export({ type: 'sec1', format: 'pem' })) }],
        dpPb: [{ certificate: file('dp-pb.der', pki.dpPb.der), key: file('dp-pb.key', pki.dpPb.privateKey.export({ type: 'pkcs8', format: 'pem' })) }],
        tls: { certificate: file('tls.pem', certificateToPem(tls.der)), key: file('tls.key', tls.privateKey.export({ type: 'pkcs8', format: 'pem' })) },
      });
      assert.equal(data.tls.maxVersion, curve === 'P-256' ? undefined : 'TLSv1.2');
      const store = await openSmdpStore(data);
      const server = createSmdpServer({ address: data.address, oid: data.oid, credentials: data.credentials, trustedCis: data.trustedCis, store, tls: data.tls });
      await server.app.listen({ host: '127.0.0.1', port: 0 });
      ports[curve] = (server.app.server.address() as AddressInfo).port;
      servers.push({ server, store });
    }
  });

  after(async () => {
    for (const { server, store } of servers) {
      await server.app.close();
      await store.close();
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a brainpool certificate: TLS 1.2 with brainpoolP256r1 ECDHE to a client that offers brainpoolP256r1, the chain verified', async () => {
    const r = await sClient(ports.brainpoolP256r1!, caFiles.brainpoolP256r1!, ['-groups', 'brainpoolP256r1:P-256']);
    assert.match(r.out, /Protocol version: TLSv1\.2/, r.out);
    assert.match(r.out, /Verification: OK/, r.out);
    assert.match(r.out, /(Server Temp Key|Peer Temp Key): ECDH, brainpoolP256r1/, r.out);
    assert.equal(r.code, 0, r.out);
  });

  it('a brainpool certificate with a client offering only brainpoolP256r1 (ECDHE on the certificate curve)', async () => {
    const r = await sClient(ports.brainpoolP256r1!, caFiles.brainpoolP256r1!, ['-tls1_2', '-groups', 'brainpoolP256r1']);
    assert.match(r.out, /Protocol version: TLSv1\.2/, r.out);
    assert.equal(r.code, 0, r.out);
  });

  it('a brainpool certificate: no TLS 1.3 (OpenSSL 3.0 has no brainpool TLS 1.3 signature schemes), and no handshake with a client that does not offer the curve', async () => {
    const tls13 = await sClient(ports.brainpoolP256r1!, caFiles.brainpoolP256r1!, ['-tls1_3', '-groups', 'brainpoolP256r1:P-256']);
    assert.notEqual(tls13.code, 0, tls13.out);
    assert.match(tls13.out, /alert protocol version|unsupported protocol|no protocols available/i, tls13.out);
    const noCurve = await sClient(ports.brainpoolP256r1!, caFiles.brainpoolP256r1!, ['-groups', 'P-256:X25519']);
    assert.notEqual(noCurve.code, 0, noCurve.out);
    assert.match(noCurve.out, /handshake failure/, noCurve.out);
  });

  it('this runtime serves brainpool TLS certificates: the probe accepts the curve, the settings cap TLS at 1.2', () => {
    assert.equal(tlsCurveSupported('brainpoolP256r1'), true);
    assert.deepEqual(tlsServerSettings('brainpoolP256r1'), { maxVersion: 'TLSv1.2', ecdhCurve: 'brainpoolP256r1:prime256v1:X25519' });
    assert.deepEqual(tlsServerSettings('P-256'), {});
  });

  it('a P-256 certificate: TLS 1.3 with a default client', async () => {
    const r = await sClient(ports['P-256']!, caFiles['P-256']!, []);
    assert.match(r.out, /Protocol version: TLSv1\.3/, r.out);
    assert.match(r.out, /Verification: OK/, r.out);
    assert.equal(r.code, 0, r.out);
  });
});
