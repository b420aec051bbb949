// End to end (SGP.22 3.1.3, 3.2, 3.5): SM-DP+ over HTTPS, IPA, software eUICC over APDUs; every TS.48 profile on P-256 and brainpoolP256r1 eUICCs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { Card } from '../../src/euicc/card.js';
import { Euicc } from '../../src/euicc/euicc.js';
import { type SmdpDataDir } from '../../src/smdpp/dataDir.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import type { SmdpStore } from '../../src/store/smdpStore.js';
import { deviceInit, deviceSecret, registerDevice, withDevice } from '../../src/cli/commands/device.js';
import { Es10ResultError, Es9PlusError, IpaError } from '../../src/ipa/errors.js';
import { listProfiles, manageProfile } from '../../src/ipa/localProfileManagement.js';
import { listPendingNotifications } from '../../src/ipa/notifications.js';
import { downloadProfile } from '../../src/ipa/profileDownload.js';
import { runStdioBridge } from '../../src/ipa/stdioBridge.js';
import { fixturePath } from '../helpers/fixtures.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';
import { SCRIPTED_LPA, sink } from '../ipa/bridgeHelpers.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';

/** Runs `mcim <args>` in process with the device commands registered; returns the parsed JSON it prints. */
async function cli(args: readonly string[]): Promise<unknown> {
  const program = new Command().exitOverride();
  let out = '';
  registerDevice(program, (text) => {
    out += text;
  });
  await program.parseAsync(['node', 'mcim', ...args]);
  return out === '' ? undefined : (JSON.parse(out) as unknown);
}
const PROFILES = readdirSync(fixturePath('ts48'))
  .filter((f) => f.endsWith('.der'))
  .sort()
  .map((file) => {
    const der = readFileSync(fixturePath('ts48', file));
    return { matchingId: file.replace(/\.der$/, ''), der, iccid: extractProfileEssentials(decodeProfilePackage(der).elements).iccidDigits };
  });

for (const curve of ['p256', 'brainpool'] as const) {
  describe(`download, enable, disable, delete over ES9+ and ES10 (${curve})`, () => {
    let smdp: DataDirSmdp;
    let tmp: string;
    let data: SmdpDataDir;
    let store: SmdpStore;
    let http: DataDirSmdp['http'];
    let port = 0;
    const notified: unknown[] = [];

    before(async () => {
      smdp = await startDataDirSmdp('mcim-e2e-', ADDRESS, (n) => notified.push(n));
      ({ tmp, data, store, http, port } = smdp);
      for (const p of PROFILES) await importProfile(store, p.der, { matchingId: p.matchingId, allowShortMatchingId: true, profileName: p.matchingId }, Date.now());
      await importProfile(store, PROFILES[0]!.der, { matchingId: 'WITH-CC', allowShortMatchingId: true, confirmationCode: '4711' }, Date.now());
    });

    after(() => smdp.close());

    const newDevice = (name: string): { state: string } => {
      const state = join(tmp, `${name}.state`);
      deviceInit({ state, pki: data.pkiDirs[curve] });
      return { state };
    };

    for (const profile of PROFILES) {
      it(`${profile.matchingId}: download, list, enable, disable, delete with notifications`, async () => {
        const device = newDevice(profile.matchingId);
        const result = await withDevice(device, (es10) => downloadProfile(es10, { activationCode: activationCode(ADDRESS, profile.matchingId), http }));
        assert.equal(result.iccid, profile.iccid);
        assert.equal(result.profileName, profile.matchingId);
        assert.deepEqual(result.notification, { seqNumber: result.notification.seqNumber, delivered: true });

        await withDevice(device, async (es10) => {
          const listed = await listProfiles(es10);
          assert.equal(listed.length, 1);
          assert.equal(listed[0]!.iccid, profile.iccid);
          assert.equal(listed[0]!.profileName, profile.matchingId);
          assert.equal(listed[0]!.state, 'disabled');
          assert.deepEqual(await listPendingNotifications(es10), [], 'the PIR was removed after delivery');

          for (const [operation, state] of [['enable', 'enabled'], ['disable', 'disabled'], ['delete', undefined]] as const) {
            const r = await manageProfile(es10, operation, profile.iccid, { http });
            assert.ok(r.notifications.every((n) => n.delivered), JSON.stringify(r.notifications));
            assert.deepEqual(await listPendingNotifications(es10), []);
            const after = await listProfiles(es10);
            assert.deepEqual(after.map((p) => p.state), state === undefined ? [] : [state]);
          }
        });
      });
    }

    it('asks for the confirmation code, then downloads with it', async () => {
      const device = newDevice('cc');
      const ac = activationCode(ADDRESS, 'WITH-CC');
      await assert.rejects(
        withDevice(device, (es10) => downloadProfile(es10, { activationCode: ac, http })),
        (e: unknown) => e instanceof IpaError && e.code === 'CONFIRMATION_CODE_REQUIRED',
      );
      const r = await withDevice(device, (es10) => downloadProfile(es10, { activationCode: ac, confirmationCode: '4711', http }));
      assert.equal(r.iccid, PROFILES[0]!.iccid);
    });

    it('fails cleanly on an unknown matching ID and on an untrusted server', async () => {
      const device = newDevice('unknown');
      await assert.rejects(
        withDevice(device, (es10) => downloadProfile(es10, { activationCode: activationCode(ADDRESS, 'NO-SUCH-ID'), http })),
        (e: unknown) => e instanceof Es9PlusError || e instanceof Es10ResultError,
      );
      await assert.rejects(
        withDevice(device, (es10) => downloadProfile(es10, { activationCode: activationCode(ADDRESS, PROFILES[0]!.matchingId), http: { connect: http.connect } })),
        (e: unknown) => e instanceof IpaError && e.code === 'TRANSPORT_ERROR',
      );
      await withDevice(device, async (es10) => assert.deepEqual(await listProfiles(es10), []));
    });

    it('runs the same through the mcim device commands', async () => {
      await importProfile(store, PROFILES[2]!.der, { matchingId: 'CLI', allowShortMatchingId: true, profileName: 'cli' }, Date.now());
      const state = join(tmp, 'cli.state');
      const net = ['--ca', data.ciCertificateFiles.p256!, '--connect', `127.0.0.1:${port}`, '--json'];
      const init = (await cli(['device', 'init', '--state', state, '--pki', data.pkiDirs[curve]!, '--json'])) as { eid: string; secretFile: string };
      assert.equal(statSync(init.secretFile).mode & 0o777, 0o600);
      assert.equal(((await cli(['device', 'info', '--state', state, '--json'])) as { eid: string }).eid, init.eid);
      const downloaded = (await cli(['device', 'download', '--state', state, '--ac', activationCode(ADDRESS, 'CLI'), ...net])) as { iccid: string };
      assert.equal(downloaded.iccid, PROFILES[2]!.iccid);
      const iccid = downloaded.iccid;
      assert.deepEqual(((await cli(['device', 'profiles', '--state', state, '--json'])) as { state: string }[]).map((p) => p.state), ['disabled']);
      await cli(['device', 'enable', iccid, '--state', state, '--no-notify', ...net]);
      assert.deepEqual(((await cli(['device', 'notifications', '--state', state, '--json'])) as { events: string[] }[]).map((n) => n.events), [['notificationEnable']]);
      const sent = (await cli(['device', 'notifications', '--send', '--state', state, ...net])) as { delivered: boolean }[];
      assert.deepEqual(sent.map((n) => n.delivered), [true]);
      const disabled = (await cli(['device', 'disable', iccid, '--state', state, '--segment-size', '120', ...net])) as { notifications: { delivered: boolean }[] };
      assert.deepEqual(disabled.notifications.map((n) => n.delivered), [true]);
      await assert.rejects(cli(['device', 'delete', '123', '--state', state, ...net]), /not an ICCID/);
    });

    it('serves a downloaded profile to a scripted LPA over the stdio bridge', async () => {
      // Re-import the first profile under a new matching ID for this device.
      await importProfile(store, PROFILES[1]!.der, { matchingId: 'BRIDGE', allowShortMatchingId: true, profileName: 'bridge' }, Date.now());
      const device = newDevice('bridge');
      const { iccid } = await withDevice(device, (es10) => downloadProfile(es10, { activationCode: activationCode(ADDRESS, 'BRIDGE'), http }));
      const euicc = Euicc.open(device.state, deviceSecret(device));
      const card = new Card();
      euicc.attach(card);
      const out = sink();
      const code = await runStdioBridge({ command: process.execPath, args: [SCRIPTED_LPA, 'list', `enable:${iccid}`, 'list', `disable:${iccid}`, 'list'], card, output: out.stream });
      assert.equal(code, 0);
      const result = out.lines().at(-1) as { type: string; payload: { code: number; data: { state: string; iccid: string }[][] } };
      assert.equal(result.payload.code, 0);
      const [l1, , l2, , l3] = result.payload.data;
      assert.deepEqual([l1, l2, l3].map((l) => [l![0]!.iccid, l![0]!.state]), [[iccid, 'disabled'], [iccid, 'enabled'], [iccid, 'disabled']]);
      // The state file holds what the LPA did: two notifications (enable, disable) wait for delivery.
      await withDevice(device, async (es10) => {
        const pending = await listPendingNotifications(es10);
        assert.deepEqual(pending.map((n) => n.events[0]), ['notificationEnable', 'notificationDisable']);
      });
    });
  });
}
