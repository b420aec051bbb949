// End to end (SGP.32 v1.2 3.1.1, 3.3): `mcim device simulate` and SimulatedFleet against the eIM over HTTPS: N software IoT eUICCs in one process,
// each with its own sealed state (files, or sealed in memory), associated with the eIM (AddInitialEim), registered from their registrations, polled by
// their IPAds; every queued package executed and reported once.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { registerDevice as registerDeviceCli } from '../../src/cli/commands/device.js';
import { SimulatedFleet, type RoundReport } from '../../src/cli/commands/deviceSimulate.js';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { EimStore } from '../../src/store/eimStore.js';
import type { RunningEim } from '../eim/harness.js';
import type { DataDirSmdp } from './dataDirSmdp.js';
import { startEimBesideSmdp } from './eimBesideSmdp.js';

describe('simulated IoT device fleets against the eIM', () => {
  let smdp: DataDirSmdp;
  let eim: RunningEim;
  let store: EimStore;
  let close: () => Promise<void>;
  const eimKey = generateKeyPair('P-256');

  before(async () => {
    ({ smdp, eim, store, close } = await startEimBesideSmdp('mcim-eim-simulate-', 'testsmdpplus1.example.com:8443', eimKey.privateKey));
  });

  after(() => close());

  it('mcim device simulate: sealed state files created and associated, registrations written; a second run reopens them and executes every queued package', async () => {
    const dir = join(smdp.tmp, 'fleet');
    const registrations = join(smdp.tmp, 'fleet.jsonl');
    const caFile = join(smdp.tmp, 'eim-ca.pem');
    const keyFile = join(smdp.tmp, 'eim.pub.pem');
    writeFileSync(caFile, (eim.http.ca as string[])[0]!);
    writeFileSync(keyFile, eimKey.publicKey.export({ type: 'spki', format: 'pem' }));
    const simulate = async (...extra: string[]): Promise<string> => {
      const program = new Command().exitOverride();
      let out = '';
      registerDeviceCli(program, (text) => (out += text));
      await program.parseAsync([
        'node', 'mcim', 'device', 'simulate', '--count', '3', '--pki', smdp.data.pkiDirs.p256!, '--dir', dir, '--eim', eim.url, '--eim-id', 'eim-1',
        '--eim-public-key', keyFile, '--eim-ca', caFile, '--eim-connect', `127.0.0.1:${eim.port}`, '--binding', 'json', '--concurrency', '2', ...extra,
      ]);
      return out;
    };
    const created = await simulate('--rounds', '0', '--registrations', registrations);
    assert.match(created, /^3 devices ready in .*, 3 newly associated with eim-1\n/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.state')), ['device-000001.state', 'device-000002.state', 'device-000003.state']);
    const lines = readFileSync(registrations, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { eid: string; euiccCertificate: string; eumCertificate: string; associationToken: number });
    assert.equal(new Set(lines.map((l) => l.eid)).size, 3);
    for (const l of lines) {
      await registerDevice(eim.server.context, { eid: l.eid, euiccCertificate: Buffer.from(l.euiccCertificate, 'base64'), eumCertificate: Buffer.from(l.eumCertificate, 'base64'), associationToken: l.associationToken });
      await issuePsmos(eim.server.context, l.eid, [{ type: 'listProfileInfo', value: {} }]);
    }

    const report = JSON.parse(await simulate('--rounds', '2', '--json')) as { devices: number; associated: number; rounds: RoundReport[]; memory: { perDeviceBytes: number } };
    assert.equal(report.devices, 3);
    assert.equal(report.associated, 0, 'the eUICCs were associated by the first run');
    assert.deepEqual(report.rounds.map((r) => [r.idle, r.outcomes, r.failures]), [
      [3, { euiccPackageResultSigned: 3 }, {}],
      [3, {}, {}],
    ]);
    for (const l of lines) {
      assert.deepEqual((await store.listPackages(l.eid)).map((p) => p.state), ['done']);
      assert.deepEqual((await store.getDevice(l.eid))!.profiles, []);
    }
    assert.deepEqual(eim.refusals, []);
  });

  it('SimulatedFleet in memory: each device its own sealed state; an unregistered device fails its cycle (eidNotFound), the others execute their packages once', async () => {
    const fleet = new SimulatedFleet({
      count: 4,
      pki: smdp.data.pkiDirs.p256!,
      eim: eim.url,
      eimId: 'eim-1',
      eimPublicKey: eimKey.publicKey,
      concurrency: 3,
      ipad: { binding: 'asn1', eimHttp: eim.http },
    });
    const registrations = await fleet.create();
    assert.equal(registrations.length, 4);
    assert.deepEqual(registrations.map((r) => r.eid), fleet.eids);
    for (const r of registrations.slice(0, 3)) {
      await registerDevice(eim.server.context, r);
      await issuePsmos(eim.server.context, r.eid, [{ type: 'getRAT', value: {} }]);
    }
    const first = await fleet.round();
    assert.equal(first.devices, 4);
    assert.deepEqual(first.outcomes, { euiccPackageResultSigned: 3 });
    assert.equal(first.idle, 3);
    assert.deepEqual(Object.values(first.failures), [1]);
    assert.deepEqual(Object.keys(first.failures), ['ESIPA_FAILED: ESipa GetEimPackage: eimPackageError 2'], 'eidNotFound (2)');
    const second = await fleet.round();
    assert.deepEqual([second.outcomes, second.idle], [{}, 3]);
    for (const r of registrations.slice(0, 3)) assert.deepEqual((await store.listPackages(r.eid)).map((p) => [p.state, p.counter]), [['done', 1]]);
    assert.deepEqual(await fleet.create().catch((e: Error) => e.message), 'the fleet is created already');
  });
});
