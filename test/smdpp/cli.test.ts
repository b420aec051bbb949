// `mcim smdpp import` and the data directory `mcim serve` runs on: PKI for both curves, activation codes, a download through it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { McimError } from '../../src/errors.js';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { createSmdpServer, ES9PLUS_PATH } from '../../src/smdpp/server.js';
import { smdppImport } from '../../src/cli/commands/smdpp.js';
import { usageText } from '../../src/cli/commands/serve.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { pkiFromDir } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function post(port: number, ca: Buffer, servername: string, fn: string, body: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername, ca, method: 'POST', path: `${ES9PLUS_PATH}/${fn}`, headers: { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.2.0' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('SM-DP+ data directory and CLI', () => {
  it('import creates the data directory and prints the activation code; refuses duplicates and malformed packages', async () => {
    const r = await smdppImport(fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), { matchingId: 'CLI-1', data: dir });
    assert.equal(r.activationCode, 'LPA:1$localhost:8443$CLI-1');
    assert.match(r.iccid, /^89\d{17,18}$/);
    await assert.rejects(smdppImport(fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), { matchingId: 'CLI-1', data: dir }), (e: unknown) => e instanceof McimError && e.code === 'ORDER_EXISTS');
    const bad = join(dir, 'bad.der');
    writeFileSync(bad, Buffer.from('a0 03 80 01 02'.replace(/ /g, ''), 'hex'));
    await assert.rejects(smdppImport(bad, { matchingId: 'CLI-2', data: dir }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_PROFILE_PACKAGE');
    await assert.rejects(smdppImport(fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'), { matchingId: 'a$b', data: dir }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
  });

  it('reopens the same directory and refuses another address', () => {
    const data = initSmdpDataDir(dir);
    assert.equal(data.created, false);
    assert.equal(data.credentials.length, 2);
    assert.throws(() => initSmdpDataDir(dir, 'other.example.com'), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    assert.match(usageText(data, '127.0.0.1', 8443), /mcim device download --state device\.state --ac 'LPA:1\$localhost:8443\$MATCHING-ID' --ca \S+ci\.pem\n/);
    assert.match(usageText(data, '127.0.0.1', 9000), /--connect 127\.0\.0\.1:9000/);
  });

  it('serves a brainpool download with the credentials of the data directory', async () => {
    const data = initSmdpDataDir(dir);
    const store = await openSmdpStore(data);
    const { app } = createSmdpServer({ address: data.address, oid: data.oid, credentials: data.credentials, store, tls: data.tls });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const ca = readFileSync(data.ciCertificateFiles.p256!);
      const euicc = new EuiccSimulator(pkiFromDir(data.pkiDirs.brainpool!));
      const b64 = (b: Buffer): string => b.toString('base64');
      const init = (await post(port, ca, 'localhost', 'initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: data.address })) as unknown as InitiateAuthenticationOk;
      const auth = (await post(port, ca, 'localhost', 'authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, 'CLI-1')) })) as unknown as AuthenticateClientOk;
      const bpp = await post(port, ca, 'localhost', 'getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(auth)) });
      const unwrapped = euicc.loadBoundProfilePackage(Buffer.from(bpp.boundProfilePackage as string, 'base64'));
      assert.ok(unwrapped.profilePackage.equals(readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der')));
    } finally {
      await app.close();
      await store.close();
    }
  });
});
