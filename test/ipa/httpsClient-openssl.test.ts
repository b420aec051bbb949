// The IPA's HTTPS client against a TLS peer mcim did not build (openssl s_server, OpenSSL 3.0): brainpoolP256r1 over TLS 1.2, P-256 over TLS 1.3 (RFC 8446, RFC 5246, RFC 7027).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EcCurve } from '../../src/crypto/ecdsa.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';
import { IpaError } from '../../src/ipa/errors.js';
import { HttpsClient } from '../../src/ipa/httpsClient.js';

const opensslVersion = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const skip = opensslVersion.error || opensslVersion.status !== 0 ? 'openssl is not on PATH: the TLS interop tests need it (CI has it)' : false;

interface OpensslServer {
  readonly port: number;
  /** Everything s_server printed: the handshake summary (CIPHER is ..., Supported groups: ...) and the request it read. */
  output(): string;
  /** Sends bytes to the client (s_server relays its stdin). */
  send(bytes: string): void;
  stop(): void;
}

/** Starts `openssl s_server` on 127.0.0.1 with a random port, for one connection, with the certificate and key files. */
async function startServer(dir: string, cert: string, key: string, extra: readonly string[] = []): Promise<OpensslServer> {
  const child: ChildProcessWithoutNullStreams = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', cert, '-key', key, '-naccept', '1', ...extra], { cwd: dir });
  let text = '';
  child.stderr.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl s_server did not start: ${text}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', () => reject(new Error(`openssl s_server exited: ${text}`)));
  });
  return {
    port,
    output: () => text,
    send: (bytes) => child.stdin.write(bytes),
    stop: () => {
      child.kill();
    },
  };
}

describe('HttpsClient against openssl s_server', { skip, timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A CI on the curve (the trust anchor) and an SM-DP+ TLS certificate with a key on the curve, written for s_server. */
  function pkiFiles(curve: EcCurve): { ca: string[]; cert: string; key: string; host: string } {
    const pki = issueTestPki({ curve });
    const tls = issueTestCertificate('dp-tls', pki.ci, { curve, smdpAddress: pki.smdpAddress });
    assert.equal(tls.certificate.publicKey.curve, curve);
    const cert = join(dir, `${curve}.pem`);
    const key = join(dir, `${curve}.key`);
    writeFileSync(cert, certificateToPem(tls.der));
    writeFileSync(key, tls.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return { ca: [certificateToPem(pki.ci.der)], cert, key, host: pki.smdpAddress };
  }

  /** POSTs to the server; s_server answers through its stdin once it printed the request body. */
  async function exchange(server: OpensslServer, ca: string[], host: string): Promise<string> {
    const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port: server.port }, timeoutMs: 15_000 });
    const answer = setInterval(() => {
      if (server.output().includes('{"ping":1}')) {
        clearInterval(answer);
        server.send('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"pong":11}');
      }
    }, 10);
    try {
      const r = await client.post(`https://${host}/gsma/rsp2/es9plus/initiateAuthentication`, { 'Content-Type': 'application/json' }, Buffer.from('{"ping":1}'));
      assert.equal(r.status, 200);
      return r.body.toString('utf8');
    } finally {
      clearInterval(answer);
      client.close();
    }
  }

  it('reaches a brainpoolP256r1 server: TLS 1.2 with brainpoolP256r1 among the offered groups', async () => {
    const { ca, cert, key, host } = pkiFiles('brainpoolP256r1');
    const server = await startServer(dir, cert, key);
    try {
      assert.equal(await exchange(server, ca, host), '{"pong":11}');
      const out = server.output();
      assert.match(out, /^Supported groups: .*\bbrainpoolP256r1\b/m, 'the client offers brainpoolP256r1');
      // A TLS 1.2 suite (OpenSSL 3.0 has no TLS 1.3 brainpool signature schemes), ECDSA with the brainpool certificate.
      assert.match(out, /^CIPHER is ECDHE-ECDSA-/m);
      assert.match(out, /^POST \/gsma\/rsp2\/es9plus\/initiateAuthentication HTTP\/1\.1\r?$/m);
    } finally {
      server.stop();
    }
  });

  it('reaches a brainpoolP256r1 server that keys the exchange on brainpoolP256r1 only', async () => {
    const { ca, cert, key, host } = pkiFiles('brainpoolP256r1');
    const server = await startServer(dir, cert, key, ['-groups', 'brainpoolP256r1']);
    try {
      assert.equal(await exchange(server, ca, host), '{"pong":11}');
      assert.match(server.output(), /^Shared groups: brainpoolP256r1\r?$/m);
      assert.match(server.output(), /^CIPHER is ECDHE-ECDSA-/m);
    } finally {
      server.stop();
    }
  });

  it('still negotiates TLS 1.3 with a P-256 server', async () => {
    const { ca, cert, key, host } = pkiFiles('P-256');
    const server = await startServer(dir, cert, key);
    try {
      assert.equal(await exchange(server, ca, host), '{"pong":11}');
      assert.match(server.output(), /^CIPHER is TLS_AES_/m, 'a TLS 1.3 suite');
    } finally {
      server.stop();
    }
  });

  it('fails with TRANSPORT_ERROR when a brainpool server insists on TLS 1.3 (not possible with OpenSSL 3.0)', async () => {
    const { ca, cert, key, host } = pkiFiles('brainpoolP256r1');
    const server = await startServer(dir, cert, key, ['-tls1_3']);
    const client = new HttpsClient({ ca, connect: { host: '127.0.0.1', port: server.port }, timeoutMs: 15_000 });
    try {
      await assert.rejects(client.post(`https://${host}/x`, {}, Buffer.alloc(0)), (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
    } finally {
      client.close();
      server.stop();
    }
  });
});
