// ES9+ client (SGP.22 6.5 JSON binding over HTTPS) and activation codes (SGP.22 4.1).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { parseActivationCode } from '../../src/ipa/activationCode.js';
import { authenticateClient } from '../../src/ipa/es9plus/authenticateClient.js';
import { cancelSession } from '../../src/ipa/es9plus/cancelSession.js';
import { Es9PlusClient } from '../../src/ipa/es9plus/es9plusClient.js';
import { getBoundProfilePackage } from '../../src/ipa/es9plus/getBoundProfilePackage.js';
import { handleNotification } from '../../src/ipa/es9plus/handleNotification.js';
import { initiateAuthentication } from '../../src/ipa/es9plus/initiateAuthentication.js';
import { Es9PlusError, IpaError } from '../../src/ipa/errors.js';
import { parseConnectOverride } from '../../src/ipa/httpsClient.js';
import { hashConfirmationCode } from '../../src/ipa/es10b/prepareDownload.js';

interface Seen {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  socket: number;
}

describe('Es9PlusClient', () => {
  const pki = issueTestPki();
  const ca = certificateToPem(pki.ci.der);
  const seen: Seen[] = [];
  const sockets = new WeakMap<object, number>();
  let nextSocket = 0;
  let server: Server;
  let port = 0;
  const reply: Record<string, { status: number; body?: unknown }> = {};

  before(async () => {
    server = createServer({ cert: certificateToPem(pki.dpTls.der), key: pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (!sockets.has(req.socket)) sockets.set(req.socket, nextSocket++);
        const fn = (req.url ?? '').split('/').at(-1)!;
        seen.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), socket: sockets.get(req.socket)! });
        const r = reply[fn] ?? { status: 404 };
        res.writeHead(r.status, r.body === undefined ? {} : { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' });
        res.end(r.body === undefined ? undefined : JSON.stringify(r.body));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  const ok = { functionExecutionStatus: { status: 'Executed-Success' } };

  it('posts JSON with the ES9+ headers over one TLS connection, checking the certificate against the SM-DP+ address', async () => {
    reply['initiateAuthentication'] = {
      status: 200,
      body: { header: ok, transactionId: '0A0B', serverSigned1: 'MAA=', serverSignature1: 'XzcA', euiccCiPKIdToBeUsed: 'BAA=', serverCertificate: 'MAA=' },
    };
    reply['handleNotification'] = { status: 204 };
    const client = new Es9PlusClient(`${pki.smdpAddress}:${port}`, { ca: [ca], connect: { host: '127.0.0.1', port } });
    try {
      const r = await initiateAuthentication(client, Buffer.alloc(16, 1), Buffer.from('bf2000', 'hex'), pki.smdpAddress);
      assert.deepEqual(r.transactionId, Buffer.from('0a0b', 'hex'));
      assert.deepEqual(r.serverSignature1, Buffer.from('5f3700', 'hex'));
      await handleNotification(client, Buffer.from('bf3700', 'hex'));
    } finally {
      client.close();
    }
    const [a, b] = seen.slice(-2);
    assert.equal(a!.path, '/gsma/rsp2/es9plus/initiateAuthentication');
    assert.equal(a!.headers['content-type'], 'application/json');
    assert.equal(a!.headers['x-admin-protocol'], 'gsma/rsp/v2.5.0');
    assert.equal(a!.headers['user-agent'], 'gsma-rsp-lpad');
    assert.equal(a!.headers['host'], `${pki.smdpAddress}:${port}`);
    assert.deepEqual(a!.body, { euiccChallenge: Buffer.alloc(16, 1).toString('base64'), euiccInfo1: 'vyAA', smdpAddress: pki.smdpAddress });
    assert.deepEqual(b!.body, { pendingNotification: 'vzcA' });
    assert.equal(a!.socket, b!.socket, 'one TLS connection per session');
  });

  it('throws Es9PlusError with the status code data on Failed and Expired', async () => {
    reply['authenticateClient'] = {
      status: 200,
      body: { header: { functionExecutionStatus: { status: 'Failed', statusCodeData: { subjectCode: '8.2.6', reasonCode: '3.8', message: 'Refused' } } } },
    };
    reply['cancelSession'] = { status: 200, body: { header: { functionExecutionStatus: { status: 'Expired' } } } };
    const client = new Es9PlusClient(`${pki.smdpAddress}:${port}`, { ca: [ca], connect: { host: '127.0.0.1', port } });
    try {
      await assert.rejects(authenticateClient(client, Buffer.from('01', 'hex'), Buffer.from('bf3800', 'hex')), (e: unknown) => {
        assert.ok(e instanceof Es9PlusError);
        assert.equal(e.status, 'Failed');
        assert.equal(e.subjectCode, '8.2.6');
        assert.equal(e.reasonCode, '3.8');
        assert.match(e.message, /authenticateClient Failed 8\.2\.6\/3\.8: Refused/);
        return true;
      });
      await assert.rejects(cancelSession(client, Buffer.from('01', 'hex'), Buffer.from('bf4100', 'hex')), (e: unknown) => e instanceof Es9PlusError && e.status === 'Expired');
      assert.deepEqual(seen.at(-2)!.body, { transactionId: '01', authenticateServerResponse: 'vzgA' });
    } finally {
      client.close();
    }
  });

  it('refuses malformed answers, wrong statuses and untrusted servers', async () => {
    reply['getBoundProfilePackage'] = { status: 200, body: { header: ok, transactionId: 'zz', boundProfilePackage: 'vzYA' } };
    reply['handleNotification'] = { status: 200, body: { header: ok } };
    const client = new Es9PlusClient(`${pki.smdpAddress}:${port}`, { ca: [ca], connect: { host: '127.0.0.1', port } });
    try {
      await assert.rejects(getBoundProfilePackage(client, Buffer.from('01', 'hex'), Buffer.from('bf2100', 'hex')), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_SERVER_RESPONSE');
      await assert.rejects(handleNotification(client, Buffer.from('bf3700', 'hex')), /204/);
    } finally {
      client.close();
    }
    const untrusted = new Es9PlusClient(`${pki.smdpAddress}:${port}`, { connect: { host: '127.0.0.1', port } });
    await assert.rejects(handleNotification(untrusted, Buffer.from('bf3700', 'hex')), (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
    untrusted.close();
    const wrongName = new Es9PlusClient(`other.example.com:${port}`, { ca: [ca], connect: { host: '127.0.0.1', port } });
    await assert.rejects(handleNotification(wrongName, Buffer.from('bf3700', 'hex')), /other\.example\.com/);
    wrongName.close();
  });

  it('keeps one TLS context per set of trust anchors: another CI is not trusted after ours was used', async () => {
    reply['handleNotification'] = { status: 204 };
    const options = { ca: [ca], connect: { host: '127.0.0.1', port } };
    for (let i = 0; i < 2; i++) {
      const trusted = new Es9PlusClient(`${pki.smdpAddress}:${port}`, options);
      await handleNotification(trusted, Buffer.from('bf3700', 'hex'));
      trusted.close();
    }
    const otherCi = new Es9PlusClient(`${pki.smdpAddress}:${port}`, { ca: [certificateToPem(issueTestPki().ci.der)], connect: { host: '127.0.0.1', port } });
    await assert.rejects(handleNotification(otherCi, Buffer.from('bf3700', 'hex')), (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR');
    otherCi.close();
  });
});

describe('activation code (SGP.22 4.1)', () => {
  it('parses the fields', () => {
    assert.deepEqual(parseActivationCode('LPA:1$testsmdpplus1.example.com:8443$TS48V2-SAIP2-1-BERTLV-UNIQUE'), {
      smdpAddress: 'testsmdpplus1.example.com:8443',
      matchingId: 'TS48V2-SAIP2-1-BERTLV-UNIQUE',
      confirmationCodeRequired: false,
    });
    assert.deepEqual(parseActivationCode('1$SMDP.EXAMPLE.COM$04386-AGYFT-A74Y8-3F815$1.3.6.1.4.1.31746$1'), {
      smdpAddress: 'SMDP.EXAMPLE.COM',
      matchingId: '04386-AGYFT-A74Y8-3F815',
      smdpOid: '1.3.6.1.4.1.31746',
      confirmationCodeRequired: true,
    });
    assert.equal(parseActivationCode('LPA:1$a.example$$$1').matchingId, '');
  });

  it('refuses malformed codes', () => {
    for (const bad of ['LPA:2$a.example$X', 'LPA:1$a.example', 'LPA:1$bad host$X', 'LPA:1$a.example:99999$X', 'LPA:1$a.example$X$notanoid', 'LPA:1$a.example$X$$2', 'LPA:1$a.example$X$1.2$1$extra', 'LPA:1$a.example$a b']) {
      assert.throws(() => parseActivationCode(bad), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_ARGUMENT', bad);
    }
  });

  it('parses --connect and hashes confirmation codes as SHA256(SHA256(CC) | transactionId)', () => {
    assert.deepEqual(parseConnectOverride('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseConnectOverride('[::1]:443'), { host: '::1', port: 443 });
    assert.throws(() => parseConnectOverride('localhost'), IpaError);
    const inner = createHash('sha256').update('1234').digest();
    assert.equal(inner.toString('hex').slice(0, 8), '03ac6742');
    const expected = createHash('sha256').update(Buffer.concat([inner, Buffer.from('0102', 'hex')])).digest();
    assert.deepEqual(hashConfirmationCode('1234', Buffer.from('0102', 'hex')), expected);
  });
});
