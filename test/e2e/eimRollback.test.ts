// End to end (SGP.32 v1.2 3.4.1.1 Profile Rollback): an enable with rollbackFlag whose new profile cannot reach the eIM (connectivity simulated per
// profile) is rolled back by the IPAd with ES10b.ProfileRollback and the rollback's signed result reported; one whose profile reaches the eIM stands.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { withDevice } from '../../src/cli/commands/device.js';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { issueProfileDownloadTrigger } from '../../src/eim/profileDownloadTriggerRequest.js';
import { profileRollback } from '../../src/ipa/es10b/profileRollback.js';
import { retrieveEuiccPackageResults } from '../../src/ipa/es10b/retrieveEuiccPackageResults.js';
import { listProfiles, iccidBytes } from '../../src/ipa/localProfileManagement.js';
import { runIpad, type IpadOptions } from '../../src/ipa/ipad.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import { EimStore } from '../../src/store/eimStore.js';
import { fixturePath } from '../helpers/fixtures.js';
import { type RunningEim } from '../eim/harness.js';
import type { DataDirSmdp } from './dataDirSmdp.js';
import { associatedDevice, startEimBesideSmdp } from './eimBesideSmdp.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const PROFILES = ['TS48V1-A-UNIQUE.der', 'TS48V1-B-UNIQUE.der'].map((name) => readFileSync(fixturePath('ts48', name)));
const ICCIDS = PROFILES.map((p) => extractProfileEssentials(decodeProfilePackage(p).elements).iccidDigits);

describe('IPAd profile rollback (SGP.32 3.4.1.1) over ESipa with a software IoT eUICC', () => {
  let smdp: DataDirSmdp;
  let eim: RunningEim;
  let store: EimStore;
  let close: () => Promise<void>;
  const eimKey = generateKeyPair('P-256');
  let serial = 0;

  before(async () => {
    assert.notEqual(ICCIDS[0], ICCIDS[1]);
    ({ smdp, eim, store, close } = await startEimBesideSmdp('mcim-eim-rollback-', ADDRESS, eimKey.privateKey));
  });

  after(() => close());

  const run = (device: { state: string }, o: Partial<IpadOptions> = {}) =>
    withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: smdp.http, ...o }));

  /** A device associated with the eIM and registered, both profiles downloaded through the eIM, the first enabled. */
  async function deviceWithTwoProfiles(name: string): Promise<{ state: string; eid: string }> {
    const { state, eid } = await associatedDevice(smdp, eim, eimKey.publicKey, `${name}`);
    for (const profile of PROFILES) {
      const matchingId = `RB-${name.toUpperCase()}-${++serial}`;
      await importProfile(smdp.store, profile, { matchingId, allowShortMatchingId: true, profileName: matchingId }, Date.now());
      await issueProfileDownloadTrigger(eim.server.context, eid, { activationCode: activationCode(ADDRESS, matchingId) });
    }
    await issuePsmos(eim.server.context, eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCIDS[0]!) } }]);
    const r = await run({ state });
    assert.deepEqual(r.packages.map((p) => p.outcome), [`installed ${ICCIDS[0]}`, `installed ${ICCIDS[1]}`, 'euiccPackageResultSigned']);
    return { state, eid };
  }

  const states = async (device: { state: string }) =>
    withDevice(device, async (es10) => (await listProfiles(es10)).map((p) => [p.iccid, p.state]));

  it('the new profile cannot reach the eIM within --rollback-after: ProfileRollback, the rollback result reported, the package failed as rolled back, the registry back on the first profile', async () => {
    const device = await deviceWithTwoProfiles('unreachable');
    const enable = await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCIDS[1]!), rollbackFlag: null } }]);
    const asked: string[] = [];
    const started = Date.now();
    const r = await run(device, { rollbackAfterMs: 300, reachable: (iccid) => (asked.push(iccid), iccid !== ICCIDS[1]) });
    assert.ok(Date.now() - started >= 300, 'the IPAd waited the configured time before rolling back');
    assert.ok(asked.length >= 2 && asked.every((i) => i === ICCIDS[1]), 'reachability over the new profile was retried');
    assert.deepEqual(r.packages.map((p) => [p.outcome, p.rollback]), [['rollbackResult', { iccid: ICCIDS[1], cmdResult: 'ok' }]]);
    assert.equal(r.notificationsDelivered, 4, 'the enable and disable notifications of the switch and of the rollback');
    assert.deepEqual(await states(device), [[ICCIDS[0], 'enabled'], [ICCIDS[1], 'disabled']]);
    const pkg = (await store.getPackage(enable.eimTransactionId))!;
    assert.equal(pkg.state, 'failed');
    assert.deepEqual(pkg.outcome, { seqNumber: r.packages[0]!.acknowledged[0], rolledBack: true, results: [{ operation: 'rollbackResult', result: 0 }] });
    assert.deepEqual((await store.getDevice(device.eid))!.profiles!.map((p) => [p.iccid, p.state]), [[ICCIDS[0], 'enabled'], [ICCIDS[1], 'disabled']]);
    await withDevice(device, async (es10) => {
      assert.deepEqual(await retrieveEuiccPackageResults(es10), [], 'the enable result the rollback superseded was removed with it');
      assert.equal((await profileRollback(es10)).cmdResultName, 'rollbackNotAllowed', 'the grant is spent');
    });
    assert.deepEqual(eim.refusals, []);
  });

  it('the new profile reaches the eIM: no rollback, the enable stands and the grant ends with the next package', async () => {
    const device = await deviceWithTwoProfiles('reachable');
    const enable = await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCIDS[1]!), rollbackFlag: null } }]);
    const r = await run(device, { rollbackAfterMs: 300, reachable: () => true });
    assert.deepEqual(r.packages.map((p) => [p.outcome, p.rollback]), [['euiccPackageResultSigned', undefined]]);
    assert.deepEqual(await states(device), [[ICCIDS[0], 'disabled'], [ICCIDS[1], 'enabled']]);
    assert.equal((await store.getPackage(enable.eimTransactionId))!.state, 'done');
    assert.deepEqual((await store.getDevice(device.eid))!.profiles!.map((p) => [p.iccid, p.state]), [[ICCIDS[0], 'disabled'], [ICCIDS[1], 'enabled']]);
    await issuePsmos(eim.server.context, device.eid, [{ type: 'getRAT', value: {} }]);
    await run(device);
    await withDevice(device, async (es10) => assert.equal((await profileRollback(es10)).cmdResultName, 'rollbackNotAllowed'));
    assert.deepEqual(eim.refusals, []);
  });

  it('an IPAd stopped after the rollback: the next cycle delivers only the rollback result of the package and removes both results', async () => {
    const device = await deviceWithTwoProfiles('stopped');
    const enable = await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCIDS[1]!), rollbackFlag: null } }]);
    const pkg = (await store.nextPackage(device.eid, Date.now()))!;
    await withDevice(device, async (es10) => {
      await es10.command(pkg.request, 'LoadEuiccPackage');
      assert.equal((await profileRollback(es10)).cmdResultName, 'ok');
      assert.equal((await retrieveEuiccPackageResults(es10)).length, 2);
    });
    const r = await run(device);
    assert.equal(r.keptResultsDelivered, 1);
    assert.equal((await store.getPackage(enable.eimTransactionId))!.state, 'failed');
    assert.equal(((await store.getPackage(enable.eimTransactionId))!.outcome as { rolledBack?: boolean }).rolledBack, true);
    await withDevice(device, async (es10) => assert.deepEqual(await retrieveEuiccPackageResults(es10), []));
    assert.deepEqual(await states(device), [[ICCIDS[0], 'enabled'], [ICCIDS[1], 'disabled']]);
    assert.deepEqual(eim.refusals, []);
  });
});
