// End to end (SGP.32 v1.2 3.1.1, 3.2, 3.3; SGP.22 3.1.3): the eIM over HTTPS in both ESipa bindings, the IPAd, a software IoT eUICC over APDUs and the
// SM-DP+ over ES9+: a device associated with the eIM (AddInitialEim) and registered with its certificates; the eIM triggers a download from the SM-DP+,
// then queues listProfileInfo, enable, disable, delete; the IPAd executes them; results verified, registry updated, notifications delivered.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { registerDevice as registerDeviceCli, withDevice } from '../../src/cli/commands/device.js';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { issueProfileDownloadTrigger } from '../../src/eim/profileDownloadTriggerRequest.js';
import { issueIpaEuiccDataRequest } from '../../src/eim/ipaEuiccDataRequest.js';
import { listProfiles, iccidBytes } from '../../src/ipa/localProfileManagement.js';
import { listPendingNotifications } from '../../src/ipa/notifications.js';
import { runIpad } from '../../src/ipa/ipad.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import { EimStore } from '../../src/store/eimStore.js';
import { fixturePath } from '../helpers/fixtures.js';
import { type RunningEim } from '../eim/harness.js';
import type { DataDirSmdp } from './dataDirSmdp.js';
import { associatedDevice, startEimBesideSmdp } from './eimBesideSmdp.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const PROFILE = readFileSync(fixturePath('ts48', 'TS48V1-A-UNIQUE.der'));
const ICCID = extractProfileEssentials(decodeProfilePackage(PROFILE).elements).iccidDigits;

describe('eIM, IPAd and IoT eUICC over ESipa (ASN.1 and JSON bindings) with the SM-DP+', () => {
  let smdp: DataDirSmdp;
  let eim: RunningEim;
  let store: EimStore;
  let close: () => Promise<void>;
  const eimKey = generateKeyPair('P-256');

  before(async () => {
    ({ smdp, eim, store, close } = await startEimBesideSmdp('mcim-eim-e2e-', ADDRESS, eimKey.privateKey));
  });

  after(() => close());

  /** A new device, its eUICC associated with the eIM (AddInitialEim, a factory step) and registered with its certificates. */
  async function newDevice(name: string): Promise<{ state: string; eid: string }> {
    const { state, eid } = await associatedDevice(smdp, eim, eimKey.publicKey, `${name}`, [name]);
    return { state, eid };
  }

  for (const binding of ['asn1', 'json'] as const) {
    it(`${binding}: download triggered by the eIM, then listProfileInfo, enable, disable, delete; results verified, registry updated`, async () => {
      const device = await newDevice(`device-${binding}`);
      const matchingId = `EIM-${binding.toUpperCase()}-0001`;
      await importProfile(smdp.store, PROFILE, { matchingId, allowShortMatchingId: true, profileName: matchingId }, Date.now());
      const run = () => withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding, eimHttp: eim.http, smdpHttp: smdp.http }));

      const trigger = await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, matchingId) });
      const data = await issueIpaEuiccDataRequest(eim.server.context, device.eid, { tags: [0xa5, 0xa6, 0xbf20, 0x84] });
      const first = await run();
      assert.equal(first.eimId, 'eim-1');
      assert.deepEqual(first.packages.map((p) => [p.kind, p.outcome]), [
        ['profileDownloadTriggerRequest', `installed ${ICCID}`],
        ['ipaEuiccDataRequest', 'ipaEuiccData'],
      ]);
      assert.equal(first.idle, true);
      assert.equal((await store.getPackage(trigger.eimTransactionId))!.state, 'done');
      assert.deepEqual((await store.getPackage(trigger.eimTransactionId))!.outcome, { installed: true, iccid: ICCID, seqNumber: (first.packages[0]!.acknowledged[0])! });
      assert.deepEqual((await store.getPackage(data.eimTransactionId))!.outcome, {
        components: ['euiccInfo1', 'associationToken', 'eumCertificate', 'euiccCertificate'],
        certificatesMatch: true,
        notifications: 0,
      });
      assert.deepEqual((await store.getDevice(device.eid))!.profiles, [{ iccid: ICCID, state: 'disabled' }]);

      const iccid = iccidBytes(ICCID);
      const list = await issuePsmos(eim.server.context, device.eid, [{ type: 'listProfileInfo', value: {} }]);
      const enable = await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid } }]);
      const second = await run();
      assert.deepEqual(second.packages.map((p) => p.outcome), ['euiccPackageResultSigned', 'euiccPackageResultSigned']);
      assert.ok(second.packages.every((p) => p.acknowledged.length === 1), 'each result acknowledged (and removed from the eUICC)');
      assert.equal(second.notificationsDelivered, 1, 'the enable notification went to the SM-DP+ (and the eIM)');
      assert.equal((await store.getPackage(list.eimTransactionId))!.state, 'done');
      assert.equal((await store.getPackage(enable.eimTransactionId))!.state, 'done');
      const registered = (await store.getDevice(device.eid))!;
      assert.deepEqual(registered.profiles!.map((p) => [p.iccid, p.state, p.profileName]), [[ICCID, 'enabled', matchingId]]);
      assert.ok(registered.lastContactAt !== undefined);
      await withDevice(device, async (es10) => {
        assert.deepEqual((await listProfiles(es10)).map((p) => p.state), ['enabled']);
        assert.deepEqual(await listPendingNotifications(es10), []);
      });

      await issuePsmos(eim.server.context, device.eid, [{ type: 'disable', value: { iccid } }]);
      await issuePsmos(eim.server.context, device.eid, [{ type: 'delete', value: { iccid } }]);
      const third = await run();
      assert.deepEqual(third.packages.map((p) => p.outcome), ['euiccPackageResultSigned', 'euiccPackageResultSigned']);
      assert.equal(third.notificationsDelivered, 2);
      assert.deepEqual((await store.getDevice(device.eid))!.profiles, []);
      assert.equal((await store.getDevice(device.eid))!.counter, 4);
      assert.ok((await store.listPackages(device.eid)).every((p) => p.state === 'done'));
      await withDevice(device, async (es10) => assert.deepEqual(await listProfiles(es10), []));

      // Nothing left: one poll, idle.
      const idle = await run();
      assert.deepEqual([idle.packages.length, idle.idle], [0, true]);
      assert.deepEqual(eim.refusals, []);
    });
  }

  it('a result the eIM has not acknowledged stays on the eUICC and is delivered first next time; notifyStateChange makes the eIM ask for the profiles', async () => {
    const device = await newDevice('device-kept');
    // The package runs on the eUICC, but its result never reaches the eIM (an IPA that stopped after LoadEuiccPackage).
    await issuePsmos(eim.server.context, device.eid, [{ type: 'getRAT', value: {} }]);
    const pkg = (await store.nextPackage(device.eid, Date.now()))!;
    await withDevice(device, (es10) => es10.command(pkg.request, 'LoadEuiccPackage'));
    const r = await withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: smdp.http, stateChange: 3 }));
    assert.equal(r.keptResultsDelivered, 1);
    assert.equal((await store.getPackage(pkg.eimTransactionId))!.state, 'done');
    assert.deepEqual(r.packages.map((p) => p.kind), ['euiccPackageRequest'], 'the listProfileInfo the state change asked for');
    const registered = (await store.getDevice(device.eid))!;
    assert.equal(registered.stateChangeCause, 3);
    assert.deepEqual(registered.profiles, []);
  });

  it('mcim device run: one bounded cycle through the command', async () => {
    const device = await newDevice('device-cli');
    await issuePsmos(eim.server.context, device.eid, [{ type: 'listProfileInfo', value: {} }]);
    const program = new Command().exitOverride();
    let out = '';
    registerDeviceCli(program, (text) => (out += text));
    const caFile = join(smdp.tmp, 'eim-ca.pem');
    (await import('node:fs')).writeFileSync(caFile, (eim.http.ca as string[])[0]!);
    await program.parseAsync([
      'node', 'mcim', 'device', 'run', '--state', device.state, '--eim', eim.url, '--eim-ca', caFile, '--eim-connect', `127.0.0.1:${eim.port}`,
      '--binding', 'json', '--max-packages', '4', '--json',
    ]);
    const report = JSON.parse(out) as { eid: string; packages: { outcome: string }[]; idle: boolean };
    assert.equal(report.eid, device.eid);
    assert.deepEqual(report.packages.map((p) => p.outcome), ['euiccPackageResultSigned']);
    assert.equal(report.idle, true);
  });
});
