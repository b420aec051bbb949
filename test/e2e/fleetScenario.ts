// The fleet end-to-end scenario (issue 10 "Fleet operations"; SGP.32 v1.2 3.2.1, 3.4, 3.5), shared by the SQLite run (test/e2e/fleet.test.ts) and the
// PostgreSQL run with two eIMs on one schema (test/e2e/fleetPostgres.test.ts): devices made and registered in bulk, operators' orders, IPAd cycles
// spread over the eIMs given, operations driven to their end.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EuiccPackageRequest } from '../../src/asn1/definitions/sgp32.js';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { decode } from '../../src/asn1/schema.js';
import { deviceInit, withDevice } from '../../src/cli/commands/device.js';
import { fleetRegister, fleetReport, fleetRequest, fleetRun, type FleetClientOptions, type ReportAnswer } from '../../src/cli/commands/fleet.js';
import type { EimService } from '../../src/eim/service.js';
import { addInitialEim } from '../../src/ipa/es10b/addInitialEim.js';
import { getCerts } from '../../src/ipa/es10b/getCerts.js';
import { getEimConfigurationData } from '../../src/ipa/es10b/getEimConfigurationData.js';
import type { HttpsClientOptions } from '../../src/ipa/httpsClient.js';
import { runIpad } from '../../src/ipa/ipad.js';
import { listProfiles } from '../../src/ipa/localProfileManagement.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import { fixturePath } from '../helpers/fixtures.js';
import type { DataDirSmdp } from './dataDirSmdp.js';

export const SMDP_ADDRESS = 'testsmdpplus1.example.com:8443';
export const EIM_HOST = 'eim.example.com';
export const PROFILE_A = readFileSync(fixturePath('ts48', 'TS48V1-A-UNIQUE.der'));
export const PROFILE_B = readFileSync(fixturePath('ts48', 'TS48V1-B-UNIQUE.der'));
const iccidOf = (p: Buffer): string => extractProfileEssentials(decodeProfilePackage(p).elements).iccidDigits;
export const ICCID_A = iccidOf(PROFILE_A);
export const ICCID_B = iccidOf(PROFILE_B);

export interface Device {
  readonly state: string;
  readonly eid: string;
}

export type Binding = 'asn1' | 'json';

export const eidsOf = (devices: readonly Device[]): string[] => devices.map((d) => d.eid).sort();

/** The fleet as the tests see it: the fleet API of one eIM, and every eIM's ESipa (device cycles take them in turn). */
export class FleetScenario {
  readonly smdp: DataDirSmdp;
  client!: FleetClientOptions;
  /** The eIM whose context the assertions read (all share one database). */
  svc!: EimService;
  eimHttp: HttpsClientOptions[] = [];
  #turn = 0;

  constructor(smdp: DataDirSmdp) {
    this.smdp = smdp;
  }

  /** New devices associated with the eIM's active key (AddInitialEim, a factory step), and the EUM's delivery file for them. */
  async manufacture(name: string, count: number, format: 'jsonl' | 'csv'): Promise<{ devices: Device[]; file: string }> {
    const info = await fleetRequest<{ eimId: string; activeKeyGeneration: number; keys: { generation: number; publicKey: string }[] }>(this.client, 'GET', '/eim');
    const spki = Buffer.from(info.keys.find((k) => k.generation === info.activeKeyGeneration)!.publicKey, 'base64');
    const devices: Device[] = [];
    const lines = format === 'csv' ? ['eid,euiccCertificate,eumCertificate,associationToken'] : [];
    for (let i = 0; i < count; i++) {
      const state = join(this.smdp.tmp, `${name}-${i}.state`);
      const { eid } = deviceInit({ state, pki: this.smdp.data.pkiDirs.p256 });
      const { token, certs } = await withDevice({ state }, async (es10) => {
        const [t] = await addInitialEim(es10, [{ eimId: info.eimId, eimFqdn: EIM_HOST, eimPublicKeyData: { type: 'eimPublicKey', value: spki } }]);
        return { token: t!, certs: await getCerts(es10) };
      });
      const euicc = certs.euiccCertificate.toString('base64');
      const eum = certs.eumCertificate.toString('base64');
      lines.push(format === 'csv' ? `${eid},${euicc},${eum},${token}` : JSON.stringify({ eid, euiccCertificate: euicc, eumCertificate: eum, associationToken: token }));
      devices.push({ state, eid });
    }
    const file = join(this.smdp.tmp, `${name}.${format}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return { devices, file };
  }

  /** The operator's orders (ES2+ in production: here imported into the SM-DP+), one per device: the codes file `EID,activation code`. */
  async orders(devices: readonly Device[], profile: Buffer, prefix: string): Promise<string> {
    const lines: string[] = [];
    for (const [i, d] of devices.entries()) {
      const matchingId = `${prefix}-${String(i).padStart(4, '0')}`;
      await importProfile(this.smdp.store, profile, { matchingId, allowShortMatchingId: true, profileName: matchingId }, Date.now());
      lines.push(`${d.eid},${activationCode(SMDP_ADDRESS, matchingId)}`);
    }
    const file = join(this.smdp.tmp, `${prefix}.codes`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  /** One IPAd cycle of the device, with the next eIM in turn. */
  cycle(d: Device, binding: Binding, maxPackages?: number) {
    const eimHttp = this.eimHttp[this.#turn++ % this.eimHttp.length]!;
    return withDevice(d, (es10) =>
      runIpad(es10, { eim: `https://${EIM_HOST}`, binding, eimHttp, smdpHttp: this.smdp.http, ...(maxPackages === undefined ? {} : { maxPackages }) }),
    );
  }

  /** Runs each device's IPAd cycle until the operation is finished (the engines issue the next step's package between cycles). */
  async drive(devices: readonly Device[], binding: Binding, id: string, maxRounds = 12): Promise<ReportAnswer> {
    for (let round = 0; round < maxRounds; round++) {
      for (const d of devices) await this.cycle(d, binding);
      for (let wait = 0; wait < 50; wait++) {
        const r = await fleetReport(this.client, id);
        if (r.operation.finished) return r;
        // Every device's next package is issued when no target is between steps (each done, failed or waiting).
        if (r.targets.every((t) => t.state === 'done' || t.state === 'failed' || t.waitingForDevice === true)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    return fleetReport(this.client, id);
  }

  /**
   * Registered in bulk, provisioned with operator A's profile, listed, switched to operator B's with rollback (A deleted),
   * the eIM key rotated, listed again. Every device's packages: each step's issued once (`packagesPerDevice` counted
   * packages, whichever eIM issued them), counters strictly increasing in the order of issue, every one completed.
   */
  async provisionSwitchRotate(binding: Binding, format: 'jsonl' | 'csv', count: number, tag: string): Promise<void> {
    const { client } = this;
    const { devices, file } = await this.manufacture(tag, count, format);

    // Bulk registration from the EUM's file; a second run finds them registered.
    const registered = await fleetRegister(client, file, [tag]);
    assert.deepEqual([registered.registered, registered.existing, registered.refused], [count, 0, 0]);
    const again = await fleetRegister(client, file);
    assert.deepEqual([again.registered, again.existing], [0, count]);
    assert.deepEqual(again.problems.map((p) => [p.line, p.status]), devices.map((_d, i) => [format === 'csv' ? i + 2 : i + 1, 'exists']));
    const listed = await fleetRequest<{ devices: { eid: string; keyGeneration: number }[] }>(client, 'GET', `/devices?tag=${tag}`);
    assert.deepEqual(listed.devices.map((d) => d.eid), eidsOf(devices));

    // Operator A's profile, downloaded and enabled (the first profile: nothing to roll back to).
    const codesA = await this.orders(devices, PROFILE_A, `A-${tag}`);
    const download = await fleetRun(client, 'download', { tag, codes: codesA, operator: 'op-a', profileType: 'ts48-a' });
    assert.equal(download.targets, count);
    assert.deepEqual(download.params, { operator: 'op-a', profileType: 'ts48-a', activationCodes: count, defaultSmdp: false, enable: true, rollback: true });
    const provisioned = await this.drive(devices, binding, download.id);
    assert.deepEqual(provisioned.operation.counts, { pending: 0, running: 0, done: count, failed: 0 });
    for (const t of provisioned.targets) assert.deepEqual([t.step, t.result?.['iccid'], t.result?.['confirmed']], ['finished', ICCID_A, ICCID_A]);
    for (const d of devices) await withDevice(d, async (es10) => assert.deepEqual((await listProfiles(es10)).map((p) => [p.iccid, p.state]), [[ICCID_A, 'enabled']]));

    // Listed: the registry and the report show the profiles.
    const list = await fleetRun(client, 'listProfiles', { eids: devices.map((d) => d.eid).join(',') });
    const listReport = await this.drive(devices, binding, list.id);
    assert.equal(listReport.operation.counts.done, count);
    for (const t of listReport.targets) assert.deepEqual((t.result?.['profiles'] as { iccid: string; state: string }[] | undefined)?.map((p) => [p.iccid, p.state]), [[ICCID_A, 'enabled']], JSON.stringify(t));

    // Switched to operator B: download, enable with rollbackFlag, confirmed over B, then A deleted.
    const codesB = await this.orders(devices, PROFILE_B, `B-${tag}`);
    const switched = await this.drive(devices, binding, (await fleetRun(client, 'switchOperator', { tag, codes: codesB, operator: 'op-b' })).id);
    assert.deepEqual(switched.operation.counts, { pending: 0, running: 0, done: count, failed: 0 });
    for (const t of switched.targets) {
      assert.deepEqual([t.result?.['previous'], t.result?.['iccid'], t.result?.['confirmed'], t.result?.['deleted']], [ICCID_A, ICCID_B, ICCID_B, ICCID_A]);
    }
    const store = this.svc.ctx.store;
    for (const d of devices) {
      await withDevice(d, async (es10) => assert.deepEqual((await listProfiles(es10)).map((p) => [p.iccid, p.state]), [[ICCID_B, 'enabled']]));
      // The enable the eIM signed carried the rollback flag.
      const enables = (await store.listPackages(d.eid))
        .filter((p) => p.kind === 'euiccPackage')
        .map((p) => decode(EuiccPackageRequest, p.request).euiccPackageSigned.value.euiccPackage)
        .flatMap((pkg) => (pkg.type === 'psmoList' ? pkg.value : []))
        .filter((psmo) => psmo.type === 'enable');
      assert.deepEqual(enables.map((e) => 'rollbackFlag' in e.value), [false, true], 'A enabled without (nothing to return to), B with rollbackFlag');
      assert.deepEqual((await store.getDevice(d.eid))!.profiles!.map((p) => [p.iccid, p.state]), [[ICCID_B, 'enabled']]);
    }

    // The eIM key rotated: updateEim with the new key, then a listEim signed with it.
    const before = this.svc.ctx.keys.active;
    const rotation = await fleetRun(client, 'rotateEimKey', { tag });
    assert.equal(rotation.params['generation'], before + 1);
    const rotated = await this.drive(devices, binding, rotation.id);
    assert.deepEqual(rotated.operation.counts, { pending: 0, running: 0, done: count, failed: 0 });
    await this.svc.ctx.keys.refresh();
    const newKey = this.svc.ctx.keys.publicKey(before + 1).spki;
    for (const d of devices) {
      assert.equal((await store.getDevice(d.eid))!.keyGeneration, before + 1);
      await withDevice(d, async (es10) => {
        const [config] = await getEimConfigurationData(es10);
        assert.ok(config!.eimPublicKeyData!.value.equals(newKey), "the eUICC holds the eIM's new key");
      });
    }
    // Packages after the rotation are signed with the new key and accepted.
    const after = await this.drive(devices, binding, (await fleetRun(client, 'listProfiles', { tag })).id);
    assert.equal(after.operation.counts.done, count);

    // Each step's package issued once: download 4 (list, trigger, enable, confirm), list 1, switch 5 (+ delete), rotation 2, list 1.
    for (const d of devices) {
      const packages = await store.listPackages(d.eid);
      assert.deepEqual(
        packages.map((p) => p.kind),
        [
          ...['euiccPackage', 'profileDownloadTrigger', 'euiccPackage', 'euiccPackage'],
          'euiccPackage',
          ...['euiccPackage', 'profileDownloadTrigger', 'euiccPackage', 'euiccPackage', 'euiccPackage'],
          ...['euiccPackage', 'euiccPackage'],
          'euiccPackage',
        ],
        `the packages of ${d.eid}`,
      );
      assert.deepEqual(packages.map((p) => p.state), packages.map(() => 'done'));
      const counters = packages.flatMap((p) => (p.counter === undefined ? [] : [p.counter]));
      for (let i = 1; i < counters.length; i++) assert.ok(counters[i]! > counters[i - 1]!, `counters strictly increasing for ${d.eid}: ${counters.join(',')}`);
    }
  }
}
