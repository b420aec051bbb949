// SGP.32 v1.2 2.11.1.1, 2.11.2.2-3, 3.3-3.5: the eIM's packages (every PSMO and eCO, IpaEuiccDataRequest, ProfileDownloadTriggerRequest) on P-256 and
// brainpoolP256r1, signed over the exact bytes with the association token, and accepted and executed by the software IoT eUICC over APDUs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddInitialEimRequest,
  AddInitialEimResponse,
  EuiccPackageRequest,
  EuiccPackageResult,
  IpaEuiccDataRequest,
  ProfileDownloadTriggerRequest,
  type EuiccResultData,
  type Psmo,
} from '../../src/asn1/definitions/sgp32.js';
import { decode, encode } from '../../src/asn1/schema.js';
import { verifyPlain, type EcCurve } from '../../src/crypto/ecdsa.js';
import { associationTokenTlv } from '../../src/eim/eimSignature.js';
import { checkPackageRules, issueEcos, issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { issueIpaEuiccDataRequest } from '../../src/eim/ipaEuiccDataRequest.js';
import { issueProfileDownloadTrigger } from '../../src/eim/profileDownloadTriggerRequest.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { McimError } from '../../src/errors.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { assertSuccess, downloadTs48, rigsCleanedAfter, type Rig } from '../euicc/harness.js';
import { openTestEim, type TestEimServer } from './harness.js';

const makeRig = rigsCleanedAfter();
const code = (c: string) => (e: unknown) => e instanceof McimError && e.code === c;

/** A rig whose eUICC has the eIM associated (AddInitialEim with the eIM's key) and is registered in the eIM. */
async function associated(curve: EcCurve): Promise<{ r: Rig; eim: TestEimServer; token: number }> {
  const r = makeRig({ curve });
  const eim = await openTestEim('SQLite', [r.pki.ci.der], { curve });
  const spki = eim.publicKey.export({ type: 'spki', format: 'der' });
  const answer = decode(
    AddInitialEimResponse,
    r.client.command(encode(AddInitialEimRequest, { eimConfigurationDataList: [{ eimId: eim.ctx.eimId, eimPublicKeyData: { type: 'eimPublicKey', value: spki } }] })),
  );
  assert.equal(answer.type, 'addInitialEimOk');
  const token = (answer.value as { value: number }[])[0]!.value;
  await registerDevice(eim.ctx, { euiccCertificate: r.pki.euicc.der, eumCertificate: r.pki.eum.der, associationToken: token });
  return { r, eim, token };
}

/** Takes the next queued package, checks eimSignature as the eUICC will, runs it on the eUICC, returns the verified results. */
async function execute(t: { r: Rig; eim: TestEimServer; token: number }): Promise<EuiccResultData[]> {
  const p = (await t.eim.store.nextPackage(t.r.pki.eid, Date.now()))!;
  const request = decode(EuiccPackageRequest, p.request);
  assert.ok(verifyPlain(t.eim.publicKey, Buffer.concat([request.euiccPackageSigned.der, associationTokenTlv(t.token)]), request.eimSignature));
  assert.equal(request.euiccPackageSigned.value.counterValue, p.counter);
  assert.equal(request.euiccPackageSigned.value.eimTransactionId!.toString('hex').toUpperCase(), p.eimTransactionId);
  const answer = t.r.client.command(p.request);
  await t.eim.store.completePackage(p.eimTransactionId, { state: 'done', result: answer, outcome: {} }, Date.now());
  const result = decode(EuiccPackageResult, answer);
  assert.equal(result.type, 'euiccPackageResultSigned', JSON.stringify(result));
  if (result.type !== 'euiccPackageResultSigned') return [];
  const data = result.value.euiccPackageResultDataSigned;
  const euiccKey = t.r.pki.euicc.certificate.publicKey.key;
  assert.ok(verifyPlain(euiccKey, Buffer.concat([data.der, associationTokenTlv(t.token)]), result.value.euiccSignEPR));
  assert.equal(data.value.counterValue, p.counter);
  return data.value.euiccResult;
}

for (const curve of ['P-256', 'brainpoolP256r1'] as const) {
  describe(`eIM packages on ${curve}, executed by the IoT eUICC`, () => {
    it('every PSMO: listProfileInfo, enable, enable with rollback flag, getRAT, disable, configureImmediateEnable, setDefaultDpAddress, fallback attribute, delete', async () => {
      const t = await associated(curve);
      try {
        const a = assertSuccess(downloadTs48(t.r, 'TS48V1-A-UNIQUE'));
        assertSuccess(downloadTs48(t.r, 'TS48V1-B-UNIQUE'));
        const [iccidA, iccidB] = [t.r.euicc.profiles[0]!.iccid, t.r.euicc.profiles[1]!.iccid];
        assert.ok(a.length > 0);
        const steps: [Psmo[], (r: EuiccResultData[]) => void][] = [
          [[{ type: 'listProfileInfo', value: {} }], (r) => assert.equal((r[0]!.value as { value: unknown[] }).value.length, 2)],
          [[{ type: 'enable', value: { iccid: iccidA } }], (r) => assert.deepEqual(r, [{ type: 'enableResult', value: 0 }])],
          [[{ type: 'enable', value: { iccid: iccidB, rollbackFlag: null } }], (r) => assert.deepEqual(r, [{ type: 'enableResult', value: 0 }])],
          [[{ type: 'getRAT', value: {} }], (r) => assert.equal(r[0]!.type, 'getRATResult')],
          [[{ type: 'disable', value: { iccid: iccidB } }], (r) => assert.deepEqual(r, [{ type: 'disableResult', value: 0 }])],
          [[{ type: 'configureImmediateEnable', value: { immediateEnableFlag: null, defaultSmdpAddress: 'dp.example.com' } }], (r) => assert.deepEqual(r, [{ type: 'configureImmediateEnableResult', value: 0 }])],
          [[{ type: 'setDefaultDpAddress', value: { defaultDpAddress: 'smdp.example.com' } }], (r) => assert.deepEqual(r, [{ type: 'setDefaultDpAddressResult', value: { setDefaultDpAddressResult: 0 } }])],
          [[{ type: 'setFallbackAttribute', value: { iccid: iccidB } }], (r) => assert.equal(r[0]!.type, 'setFallbackAttributeResult')],
          [[{ type: 'unsetFallbackAttribute', value: {} }], (r) => assert.equal(r[0]!.type, 'unsetFallbackAttributeResult')],
          [[{ type: 'delete', value: { iccid: iccidB } }], (r) => assert.deepEqual(r, [{ type: 'deleteResult', value: 0 }])],
        ];
        for (const [psmos, check] of steps) {
          await issuePsmos(t.eim.ctx, t.r.pki.eid, psmos);
          check(await execute(t));
        }
        assert.deepEqual(t.r.euicc.profiles.map((p) => p.iccid), [iccidA]);
        assert.equal((await t.eim.store.getDevice(t.r.pki.eid))!.counter, steps.length);
      } finally {
        await t.eim.close();
      }
    });

    it('every eCO: addEim, listEim, updateEim, deleteEim', async () => {
      const t = await associated(curve);
      try {
        const second = generateKeyPair(curve).publicKey.export({ type: 'spki', format: 'der' });
        const config = { eimId: 'second.example.com', eimPublicKeyData: { type: 'eimPublicKey' as const, value: second } };
        await issueEcos(t.eim.ctx, t.r.pki.eid, [{ type: 'addEim', value: config }]);
        assert.equal((await execute(t))[0]!.type, 'addEimResult');
        await issueEcos(t.eim.ctx, t.r.pki.eid, [{ type: 'listEim', value: {} }]);
        const listed = (await execute(t))[0]!;
        assert.deepEqual(listed, { type: 'listEimResult', value: { type: 'eimIdList', value: [{ eimId: t.eim.ctx.eimId }, { eimId: 'second.example.com' }] } });
        await issueEcos(t.eim.ctx, t.r.pki.eid, [{ type: 'updateEim', value: { ...config, eimFqdn: 'second.example.org' } }]);
        assert.deepEqual(await execute(t), [{ type: 'updateEimResult', value: 0 }]);
        await issueEcos(t.eim.ctx, t.r.pki.eid, [{ type: 'deleteEim', value: { eimId: 'second.example.com' } }]);
        assert.deepEqual(await execute(t), [{ type: 'deleteEimResult', value: 0 }]);
      } finally {
        await t.eim.close();
      }
    });
  });
}

describe('eIM package rules and the other packages', () => {
  const iccid = Buffer.from('98001032547698103254', 'hex');
  it('refuses what an eUICC must refuse: empty, two enables, two disables, listProfileInfo after a change, too many operations', () => {
    const refuse = (psmos: Psmo[]) => assert.throws(() => checkPackageRules({ type: 'psmoList', value: psmos }), code('INVALID_PACKAGE'));
    refuse([]);
    refuse([{ type: 'enable', value: { iccid } }, { type: 'enable', value: { iccid } }]);
    refuse([{ type: 'disable', value: { iccid } }, { type: 'disable', value: { iccid } }]);
    for (const change of ['enable', 'disable', 'delete'] as const) refuse([{ type: change, value: { iccid } }, { type: 'listProfileInfo', value: {} }]);
    refuse(Array.from({ length: 33 }, () => ({ type: 'getRAT' as const, value: {} })));
    checkPackageRules({ type: 'psmoList', value: [{ type: 'listProfileInfo', value: {} }, { type: 'disable', value: { iccid } }, { type: 'enable', value: { iccid } }] });
  });

  it('IpaEuiccDataRequest: the tags asked for, the EID tag 5A refused; ProfileDownloadTriggerRequest: activation code or default SM-DP+', async () => {
    const r = makeRig();
    const eim = await openTestEim('SQLite', [r.pki.ci.der]);
    try {
      await registerDevice(eim.ctx, { euiccCertificate: r.pki.euicc.der, eumCertificate: r.pki.eum.der, associationToken: 1 });
      const data = await issueIpaEuiccDataRequest(eim.ctx, r.pki.eid, { tags: [0xa5, 0xa6, 0xbf20] });
      await assert.rejects(issueIpaEuiccDataRequest(eim.ctx, r.pki.eid, { tags: [0x5a] }), code('INVALID_PACKAGE'));
      await assert.rejects(issueIpaEuiccDataRequest(eim.ctx, r.pki.eid, { tags: [] }), code('INVALID_PACKAGE'));
      const ac = await issueProfileDownloadTrigger(eim.ctx, r.pki.eid, { activationCode: 'LPA:1$smdp.example.com$MATCHING-1' });
      const dflt = await issueProfileDownloadTrigger(eim.ctx, r.pki.eid, { defaultSmdp: true });
      await assert.rejects(issueProfileDownloadTrigger(eim.ctx, r.pki.eid, { activationCode: 'smdp.example.com' }), code('INVALID_PACKAGE'));
      const queued = await eim.store.listPackages(r.pki.eid);
      assert.deepEqual(queued.map((p) => [p.kind, p.eimTransactionId, p.counter]), [
        ['ipaEuiccData', data.eimTransactionId, undefined],
        ['profileDownloadTrigger', ac.eimTransactionId, undefined],
        ['profileDownloadTrigger', dflt.eimTransactionId, undefined],
      ]);
      const dataRequest = decode(IpaEuiccDataRequest, queued[0]!.request);
      assert.equal(dataRequest.tagList.toString('hex'), 'a5a6bf20');
      assert.equal(dataRequest.eimTransactionId!.toString('hex').toUpperCase(), data.eimTransactionId);
      assert.deepEqual(decode(ProfileDownloadTriggerRequest, queued[1]!.request).profileDownloadData, { type: 'activationCode', value: '1$smdp.example.com$MATCHING-1' });
      assert.deepEqual(decode(ProfileDownloadTriggerRequest, queued[2]!.request).profileDownloadData, { type: 'contactDefaultSmdp', value: null });
    } finally {
      await eim.close();
    }
  });
});
