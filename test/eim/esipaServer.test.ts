// SGP.32 v1.2 ESipa on the eIM (src/eim/server.ts), both bindings over HTTPS: GetEimPackage's errors, and ProvideEimPackageResult's and HandleNotification's
// negative matrix (forged eUICC signature, unknown eimTransactionId, eimId or counter not the package's, replayed result) with the typed error behind each
// ESipa code, nothing stored; duplicate deliveries acknowledged without change; refusals at the HTTP level (content type, X-Admin-Protocol, size, garbage).
import assert from 'node:assert/strict';
import { randomBytes, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { NotificationMetadata, PendingNotification as Sgp22PendingNotification, namedBitString } from '../../src/asn1/definitions/rsp.js';
import {
  EimPackageError,
  EsipaMessageFromEimToIpa,
  EuiccPackageErrorDataSigned,
  EuiccPackageResult,
  EuiccPackageResultDataSigned,
  InitiateAuthenticationRequestEsipa,
  type EuiccPackageResultDataSigned as ResultData,
} from '../../src/asn1/definitions/sgp32.js';
import { capture, decode, encode } from '../../src/asn1/schema.js';
import { generateKeyPair, signPlain } from '../../src/crypto/ecdsa.js';
import { associationTokenTlv } from '../../src/eim/eimSignature.js';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { EsipaError } from '../../src/ipa/errors.js';
import { EsipaClient, type EsipaBinding } from '../../src/ipa/esipa/esipaClient.js';
import { getEimPackage } from '../../src/ipa/esipa/getEimPackage.js';
import { handleNotification } from '../../src/ipa/esipa/handleNotification.js';
import { provideEimPackageResult } from '../../src/ipa/esipa/provideEimPackageResult.js';
import { HttpsClient } from '../../src/ipa/httpsClient.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestPki, type TestPki } from '../../src/pki/testPki.js';
import { ESIPA_ASN1_BODY_LIMIT } from '../../src/eim/server.js';
import { openTestEim, startEimServer, type RunningEim, type TestEimServer } from './harness.js';

const TOKEN = 5;

function signedResult(data: ResultData, key: KeyObject, token = TOKEN): Buffer {
  const d = capture(EuiccPackageResultDataSigned, data);
  return encode(EuiccPackageResult, { type: 'euiccPackageResultSigned', value: { euiccPackageResultDataSigned: d, euiccSignEPR: signPlain(key, Buffer.concat([d.der, associationTokenTlv(token)])) } });
}

function otherNotification(pki: TestPki, seqNumber: number, key: KeyObject): Buffer {
  const tbs = capture(NotificationMetadata, { seqNumber, profileManagementOperation: namedBitString([1]), notificationAddress: 'smdp.example.com', iccid: Buffer.from('98001032547698103254', 'hex') });
  return encode(Sgp22PendingNotification, {
    type: 'otherSignedNotification',
    value: { tbsOtherNotification: tbs, euiccNotificationSignature: signPlain(key, tbs.der), euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der },
  });
}

const esipaCode = (c: number) => (e: unknown) => e instanceof EsipaError && e.esipaCode === c;

describe('ESipa on the eIM: refusals and the negative matrix', () => {
  let local: TestEimServer;
  let eim: RunningEim;
  const pkis = new Map<EsipaBinding, TestPki>();

  before(async () => {
    for (const [i, binding] of (['asn1', 'json'] as const).entries()) pkis.set(binding, issueTestPki({ eid: makeEid('89049032', `${i}`.repeat(22)) }));
    // Each device's PKI has its CI: the eIM trusts both.
    const trusted = [...pkis.values()].map((p) => p.ci.der);
    local = await openTestEim('SQLite', trusted);
    eim = await startEimServer({ eimId: local.ctx.eimId, keyring: local.ctx.keys, trustedCis: trusted, store: local.store });
    for (const pki of pkis.values()) await registerDevice(local.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: TOKEN });
  });

  after(async () => {
    await eim.close();
    await local.close();
  });

  for (const binding of ['asn1', 'json'] as const) {
    it(`${binding}: GetEimPackage answers eidNotFound, invalidEid, noEimPackageAvailable, then the package byte for byte`, async () => {
      const pki = pkis.get(binding)!;
      const client = new EsipaClient(eim.url, binding, eim.http);
      try {
        await assert.rejects(getEimPackage(client, { eidValue: Buffer.from(makeEid('89049032', '5'.repeat(22)), 'hex') }), esipaCode(EimPackageError.eidNotFound));
        await assert.rejects(getEimPackage(client, { eidValue: Buffer.from('89049032123451234512345678901299', 'hex') }), esipaCode(EimPackageError.invalidEid));
        assert.deepEqual(await getEimPackage(client, { eidValue: Buffer.from(pki.eid, 'hex') }), { kind: 'none' });
        const issued = await issuePsmos(local.ctx, pki.eid, [{ type: 'getRAT', value: {} }]);
        const got = await getEimPackage(client, { eidValue: Buffer.from(pki.eid, 'hex') });
        assert.equal(got.kind, 'euiccPackageRequest');
        assert.deepEqual((got as { der: Buffer }).der, (await local.store.getPackage(issued.eimTransactionId))!.request);
      } finally {
        client.close();
      }
    });

    it(`${binding}: ProvideEimPackageResult refuses a forged signature, an unknown transaction, another eimId or counter, a replay; nothing stored; a resend is acknowledged again`, async () => {
      const pki = pkis.get(binding)!;
      const client = new EsipaClient(eim.url, binding, eim.http);
      const eid = Buffer.from(pki.eid, 'hex');
      const key = pki.euicc.privateKey;
      try {
        const issued = await issuePsmos(local.ctx, pki.eid, [{ type: 'getRAT', value: {} }]);
        const tx = Buffer.from(issued.eimTransactionId, 'hex');
        const good: ResultData = { eimId: local.ctx.eimId, counterValue: issued.counter!, eimTransactionId: tx, seqNumber: 9, euiccResult: [{ type: 'getRATResult', value: [] }] };
        eim.refusals.length = 0;
        const cases: [string, Buffer][] = [
          ['RESULT_SIGNATURE_INVALID', signedResult(good, generateKeyPair('P-256').privateKey)],
          ['RESULT_SIGNATURE_INVALID', signedResult(good, key, TOKEN + 1)],
          ['UNKNOWN_TRANSACTION', signedResult({ ...good, eimTransactionId: randomBytes(16) }, key)],
          ['RESULT_MISMATCH', signedResult({ ...good, counterValue: issued.counter! + 1 }, key)],
          ['RESULT_MISMATCH', signedResult({ ...good, eimId: 'other-eim' }, key)],
        ];
        for (const [, der] of cases) await assert.rejects(provideEimPackageResult(client, eid, der), esipaCode(127));
        assert.deepEqual(eim.refusals.map((r) => r.code), cases.map(([c]) => c));
        assert.equal((await local.store.getPackage(issued.eimTransactionId))!.state, 'pending', 'nothing stored');
        assert.equal(await local.store.hasReceived(pki.eid, 9), false);

        const der = signedResult(good, key);
        assert.deepEqual(await provideEimPackageResult(client, eid, der), [9]);
        assert.equal((await local.store.getPackage(issued.eimTransactionId))!.state, 'done');
        assert.deepEqual(await provideEimPackageResult(client, eid, der), [9], 'the same result again: acknowledged again');
        eim.refusals.length = 0;
        await assert.rejects(provideEimPackageResult(client, eid, signedResult({ ...good, seqNumber: 10, euiccResult: [] }, key)), esipaCode(127));
        assert.deepEqual(eim.refusals.map((r) => r.code), ['RESULT_REPLAYED']);
        assert.deepEqual((await local.store.getPackage(issued.eimTransactionId))!.result, der, 'the first result stands');

        // A signed error (replayError) fails its package; an unknown EID is eidNotFound.
        const second = await issuePsmos(local.ctx, pki.eid, [{ type: 'getRAT', value: {} }]);
        const e = capture(EuiccPackageErrorDataSigned, { eimId: local.ctx.eimId, counterValue: second.counter!, eimTransactionId: Buffer.from(second.eimTransactionId, 'hex'), euiccPackageErrorCode: 4 });
        const error = encode(EuiccPackageResult, { type: 'euiccPackageErrorSigned', value: { euiccPackageErrorDataSigned: e, euiccSignEPE: signPlain(key, Buffer.concat([e.der, associationTokenTlv(TOKEN)])) } });
        assert.deepEqual(await provideEimPackageResult(client, eid, error), []);
        assert.deepEqual((await local.store.getPackage(second.eimTransactionId))!.outcome, { euiccPackageErrorCode: 4 });
        await assert.rejects(provideEimPackageResult(client, Buffer.from(makeEid('89049032', '6'.repeat(22)), 'hex'), der), esipaCode(2));
      } finally {
        client.close();
      }
    });

    it(`${binding}: HandleNotification records a notification signed by the registered eUICC once; a forged one is refused`, async () => {
      const pki = pkis.get(binding)!;
      const client = new EsipaClient(eim.url, binding, eim.http);
      try {
        eim.refusals.length = 0;
        await assert.rejects(handleNotification(client, otherNotification(pki, 21, generateKeyPair('P-256').privateKey)), (e) => e instanceof EsipaError);
        assert.deepEqual(eim.refusals.map((r) => r.code), ['RESULT_SIGNATURE_INVALID']);
        assert.equal(await local.store.hasReceived(pki.eid, 21), false);
        await handleNotification(client, otherNotification(pki, 21, pki.euicc.privateKey));
        await handleNotification(client, otherNotification(pki, 21, pki.euicc.privateKey));
        assert.equal(await local.store.hasReceived(pki.eid, 21), true);
        assert.deepEqual((await local.store.getDevice(pki.eid))!.profiles, [{ iccid: '89000123456789012345', state: 'enabled' }]);
      } finally {
        client.close();
      }
    });
  }

  it('ASN.1 binding: another content type 415, no X-Admin-Protocol 400, not one message 400, over the size bound 413; indirect download answered undefinedError', async () => {
    const http = new HttpsClient(eim.http);
    const url = `${eim.url}/gsma/rsp2/asn1`;
    const headers = { 'Content-Type': 'application/x-gsma-rsp-asn1', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' };
    try {
      const message = encode(InitiateAuthenticationRequestEsipa, { euiccChallenge: randomBytes(16) });
      assert.equal((await http.post(url, { ...headers, 'Content-Type': 'application/octet-stream' }, message)).status, 415);
      assert.equal((await http.post(url, { 'Content-Type': headers['Content-Type'] }, message)).status, 400);
      assert.equal((await http.post(url, headers, Buffer.from('bf4f03000000', 'hex'))).status, 400);
      assert.equal((await http.post(url, headers, Buffer.concat([message, Buffer.from([0])]))).status, 400);
      assert.equal((await http.post(url, headers, Buffer.alloc(ESIPA_ASN1_BODY_LIMIT + 1))).status, 413);
      const answer = await http.post(url, headers, message);
      assert.equal(answer.status, 200);
      assert.deepEqual(decode(EsipaMessageFromEimToIpa, answer.body), {
        type: 'initiateAuthenticationResponseEsipa',
        value: { type: 'initiateAuthenticationErrorEsipa', value: 127 },
      });
      const json = await http.post(`${eim.url}/gsma/rsp2/esipa/provideEimPackageResult`, { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' }, Buffer.alloc(1024 * 1024, 0x20));
      assert.equal(json.status, 413);
    } finally {
      http.close();
    }
  });
});
