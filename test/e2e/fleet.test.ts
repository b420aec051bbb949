// End to end (issue 10 "Fleet operations"; SGP.32 v1.2 3.2.1, 3.4, 3.5): `mcim eim serve`'s service over HTTPS with the SM-DP+, a fleet of software IoT
// eUICCs with their IPAd (each its own sealed state) in both ESipa bindings: registered in bulk from an EUM file through the fleet API, provisioned
// with operator A's profile, listed, switched to operator B's with rollback protection (A deleted after the device confirmed B), the eIM key rotated
// (updateEim); an eIM restarted in the middle of an operation resumes it; a device whose order does not exist fails after its retries, with the reason.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { EuiccPackageRequest } from '../../src/asn1/definitions/sgp32.js';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { decode } from '../../src/asn1/schema.js';
import { deviceInit, withDevice } from '../../src/cli/commands/device.js';
import { fleetRegister, fleetReport, fleetRequest, fleetRun, registerFleet, type FleetClientOptions, type ReportAnswer } from '../../src/cli/commands/fleet.js';
import { initEimDataDir, type EimDataDir } from '../../src/eim/dataDir.js';
import { FLEET_ROUTES } from '../../src/eim/fleetApi.js';
import { openEimService, type EimService } from '../../src/eim/service.js';
import { addInitialEim } from '../../src/ipa/es10b/addInitialEim.js';
import { getCerts } from '../../src/ipa/es10b/getCerts.js';
import { getEimConfigurationData } from '../../src/ipa/es10b/getEimConfigurationData.js';
import type { HttpsClientOptions } from '../../src/ipa/httpsClient.js';
import { runIpad } from '../../src/ipa/ipad.js';
import { listProfiles } from '../../src/ipa/localProfileManagement.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import { fixturePath } from '../helpers/fixtures.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const EIM_HOST = 'eim.example.com';
const FLEET = 5;
const PROFILE_A = readFileSync(fixturePath('ts48', 'TS48V1-A-UNIQUE.der'));
const PROFILE_B = readFileSync(fixturePath('ts48', 'TS48V1-B-UNIQUE.der'));
const iccidOf = (p: Buffer): string => extractProfileEssentials(decodeProfilePackage(p).elements).iccidDigits;
const ICCID_A = iccidOf(PROFILE_A);
const ICCID_B = iccidOf(PROFILE_B);

interface Device {
  readonly state: string;
  readonly eid: string;
}

describe('fleet operations through the eIM service (bulk registration, download, list, switch with rollback, key rotation, restart)', () => {
  let smdp: DataDirSmdp;
  let data: EimDataDir;
  let svc: EimService;
  let client: FleetClientOptions;
  let eimHttp: HttpsClientOptions;
  const internalErrors: unknown[] = [];

  async function start(): Promise<void> {
    svc = await openEimService({ data, engine: { intervalMs: 20, backoffMs: 20, maxAttempts: 3 }, onInternalError: (e) => internalErrors.push(e) });
    const port = await svc.listen('127.0.0.1', 0);
    const ca = readFileSync(data.tlsCaFile, 'utf8');
    client = { api: `https://${EIM_HOST}`, token: data.token, ca, connect: { host: '127.0.0.1', port } };
    eimHttp = { ca: [ca], connect: { host: '127.0.0.1', port } };
  }

  before(async () => {
    smdp = await startDataDirSmdp('mcim-fleet-e2e-', ADDRESS);
    data = initEimDataDir(join(smdp.tmp, 'eim'), { eimId: 'eim-fleet', address: EIM_HOST, cis: [join(smdp.data.pkiDirs.p256!, 'ci.der')] });
    await start();
  });

  after(async () => {
    await svc.close();
    await smdp.close();
    assert.deepEqual(internalErrors, []);
  });

  /** New devices associated with the eIM's active key (AddInitialEim, a factory step), and the EUM's delivery file for them. */
  async function manufacture(name: string, count: number, format: 'jsonl' | 'csv'): Promise<{ devices: Device[]; file: string }> {
    const info = await fleetRequest<{ eimId: string; activeKeyGeneration: number; keys: { generation: number; publicKey: string }[] }>(client, 'GET', '/eim');
    const spki = Buffer.from(info.keys.find((k) => k.generation === info.activeKeyGeneration)!.publicKey, 'base64');
    const devices: Device[] = [];
    const lines = format === 'csv' ? ['eid,euiccCertificate,eumCertificate,associationToken'] : [];
    for (let i = 0; i < count; i++) {
      const state = join(smdp.tmp, `${name}-${i}.state`);
      const { eid } = deviceInit({ state, pki: smdp.data.pkiDirs.p256 });
      const { token, certs } = await withDevice({ state }, async (es10) => {
        const [t] = await addInitialEim(es10, [{ eimId: info.eimId, eimFqdn: EIM_HOST, eimPublicKeyData: { type: 'eimPublicKey', value: spki } }]);
        return { token: t!, certs: await getCerts(es10) };
      });
      const euicc = certs.euiccCertificate.toString('base64');
      const eum = certs.eumCertificate.toString('base64');
      lines.push(format === 'csv' ? `${eid},${euicc},${eum},${token}` : JSON.stringify({ eid, euiccCertificate: euicc, eumCertificate: eum, associationToken: token }));
      devices.push({ state, eid });
    }
    const file = join(smdp.tmp, `${name}.${format}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return { devices, file };
  }

  /** The operator's orders (ES2+ in production: here imported into the SM-DP+), one per device: the codes file `EID,activation code`. */
  async function orders(devices: readonly Device[], profile: Buffer, prefix: string): Promise<string> {
    const lines: string[] = [];
    for (const [i, d] of devices.entries()) {
      const matchingId = `${prefix}-${String(i).padStart(4, '0')}`;
      await importProfile(smdp.store, profile, { matchingId, allowShortMatchingId: true, profileName: matchingId }, Date.now());
      lines.push(`${d.eid},${activationCode(ADDRESS, matchingId)}`);
    }
    const file = join(smdp.tmp, `${prefix}.codes`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  function cycle(d: Device, binding: 'asn1' | 'json', maxPackages?: number) {
    return withDevice(d, (es10) => runIpad(es10, { eim: `https://${EIM_HOST}`, binding, eimHttp, smdpHttp: smdp.http, ...(maxPackages === undefined ? {} : { maxPackages }) }));
  }

  /** Runs each device's IPAd cycle until the operation is finished (the engine issues the next step's package between cycles). */
  async function drive(devices: readonly Device[], binding: 'asn1' | 'json', id: string, maxRounds = 12): Promise<ReportAnswer> {
    for (let round = 0; round < maxRounds; round++) {
      for (const d of devices) await cycle(d, binding);
      for (let wait = 0; wait < 50; wait++) {
        const r = await fleetReport(client, id);
        if (r.operation.finished) return r;
        // The engine has issued every device's next package when no target is between steps.
        if (r.targets.every((t) => t.state === 'failed' || t.waitingForDevice === true)) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    return fleetReport(client, id);
  }

  const eidsOf = (devices: readonly Device[]): string[] => devices.map((d) => d.eid).sort();

  for (const [binding, format] of [
    ['asn1', 'jsonl'],
    ['json', 'csv'],
  ] as const) {
    it(`${binding} binding, ${format} file: ${FLEET} devices registered, provisioned with A, listed, switched to B with rollback, A deleted, eIM key rotated`, async () => {
      const tag = `fleet-${binding}`;
      const { devices, file } = await manufacture(tag, FLEET, format);

      // Bulk registration from the EUM's file; a second run finds them registered.
      const registered = await fleetRegister(client, file, [tag]);
      assert.deepEqual([registered.registered, registered.existing, registered.refused], [FLEET, 0, 0]);
      const again = await fleetRegister(client, file);
      assert.deepEqual([again.registered, again.existing], [0, FLEET]);
      assert.deepEqual(again.problems.map((p) => [p.line, p.status]), devices.map((_d, i) => [format === 'csv' ? i + 2 : i + 1, 'exists']));
      const listed = await fleetRequest<{ devices: { eid: string; keyGeneration: number }[] }>(client, 'GET', `/devices?tag=${tag}`);
      assert.deepEqual(listed.devices.map((d) => d.eid), eidsOf(devices));

      // Operator A's profile, downloaded and enabled (the first profile: nothing to roll back to).
      const codesA = await orders(devices, PROFILE_A, `A-${binding}`);
      const download = await fleetRun(client, 'download', { tag, codes: codesA, operator: 'op-a', profileType: 'ts48-a' });
      assert.equal(download.targets, FLEET);
      assert.deepEqual(download.params, { operator: 'op-a', profileType: 'ts48-a', activationCodes: FLEET, defaultSmdp: false, enable: true, rollback: true });
      const provisioned = await drive(devices, binding, download.id);
      assert.deepEqual(provisioned.operation.counts, { pending: 0, running: 0, done: FLEET, failed: 0 });
      for (const t of provisioned.targets) assert.deepEqual([t.step, t.result?.['iccid'], t.result?.['confirmed']], ['finished', ICCID_A, ICCID_A]);
      for (const d of devices) await withDevice(d, async (es10) => assert.deepEqual((await listProfiles(es10)).map((p) => [p.iccid, p.state]), [[ICCID_A, 'enabled']]));

      // Listed: the registry and the report show the profiles.
      const list = await fleetRun(client, 'listProfiles', { eids: devices.map((d) => d.eid).join(',') });
      const listReport = await drive(devices, binding, list.id);
      assert.equal(listReport.operation.counts.done, FLEET);
      for (const t of listReport.targets) assert.deepEqual((t.result?.['profiles'] as { iccid: string; state: string }[]).map((p) => [p.iccid, p.state]), [[ICCID_A, 'enabled']]);

      // Switched to operator B: download, enable with rollbackFlag, confirmed over B, then A deleted.
      const codesB = await orders(devices, PROFILE_B, `B-${binding}`);
      const switched = await drive(devices, binding, (await fleetRun(client, 'switchOperator', { tag, codes: codesB, operator: 'op-b' })).id);
      assert.deepEqual(switched.operation.counts, { pending: 0, running: 0, done: FLEET, failed: 0 });
      for (const t of switched.targets) {
        assert.deepEqual([t.result?.['previous'], t.result?.['iccid'], t.result?.['confirmed'], t.result?.['deleted']], [ICCID_A, ICCID_B, ICCID_B, ICCID_A]);
      }
      for (const d of devices) {
        await withDevice(d, async (es10) => assert.deepEqual((await listProfiles(es10)).map((p) => [p.iccid, p.state]), [[ICCID_B, 'enabled']]));
        // The enable the eIM signed carried the rollback flag.
        const enables = (await svc.ctx.store.listPackages(d.eid))
          .filter((p) => p.kind === 'euiccPackage')
          .map((p) => decode(EuiccPackageRequest, p.request).euiccPackageSigned.value.euiccPackage)
          .flatMap((pkg) => (pkg.type === 'psmoList' ? pkg.value : []))
          .filter((psmo) => psmo.type === 'enable');
        assert.deepEqual(enables.map((e) => 'rollbackFlag' in e.value), [false, true], 'A enabled without (nothing to return to), B with rollbackFlag');
        assert.deepEqual((await svc.ctx.store.getDevice(d.eid))!.profiles!.map((p) => [p.iccid, p.state]), [[ICCID_B, 'enabled']]);
      }

      // The eIM key rotated: updateEim with the new key, then a listEim signed with it.
      const before = svc.ctx.keys.active;
      const rotation = await fleetRun(client, 'rotateEimKey', { tag });
      assert.equal(rotation.params['generation'], before + 1);
      const rotated = await drive(devices, binding, rotation.id);
      assert.deepEqual(rotated.operation.counts, { pending: 0, running: 0, done: FLEET, failed: 0 });
      const newKey = svc.ctx.keys.publicKey(before + 1).spki;
      for (const d of devices) {
        assert.equal((await svc.ctx.store.getDevice(d.eid))!.keyGeneration, before + 1);
        await withDevice(d, async (es10) => {
          const [config] = await getEimConfigurationData(es10);
          assert.ok(config!.eimPublicKeyData!.value.equals(newKey), "the eUICC holds the eIM's new key");
        });
      }
      // Packages after the rotation are signed with the new key and accepted.
      const after = await drive(devices, binding, (await fleetRun(client, 'listProfiles', { tag })).id);
      assert.equal(after.operation.counts.done, FLEET);
    });
  }

  it('an eIM restarted in the middle of an operation resumes it; a device without an order fails after its retries, with the reason; the report says so', async () => {
    const { devices, file } = await manufacture('restart', 3, 'csv');
    assert.equal((await fleetRegister(client, file, ['restart'])).registered, 3);
    const codes = await orders(devices.slice(0, 2), PROFILE_A, 'R');
    // The third device's code names an order the SM-DP+ does not have.
    writeFileSync(codes, `${readFileSync(codes, 'utf8')}${devices[2]!.eid},${activationCode(ADDRESS, 'NO-SUCH-ORDER')}\n`);
    const op = await fleetRun(client, 'download', { tag: 'restart', codes });

    // Two rounds of one package each: the profiles listed, the downloads run; the enables issued. Then the eIM stops.
    for (let round = 0; round < 2; round++) {
      for (const d of devices) await cycle(d, 'asn1', 1);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const midway = await fleetReport(client, op.id);
    assert.equal(midway.operation.finished, false);
    const ongoing = midway.targets.filter((t) => devices.slice(0, 2).some((d) => d.eid === t.eid));
    assert.deepEqual(ongoing.map((t) => [t.state, t.step, t.waitingForDevice]), [['running', 'enable', true], ['running', 'enable', true]]);
    await svc.close();

    // A new eIM process on the same data directory and database (another port): it carries on.
    await start();
    const done = await drive(devices, 'asn1', op.id);
    assert.equal(done.operation.finished, true);
    const byEid = new Map(done.targets.map((t) => [t.eid, t]));
    for (const d of devices.slice(0, 2)) assert.deepEqual([byEid.get(d.eid)!.state, byEid.get(d.eid)!.result?.['confirmed']], ['done', ICCID_A]);
    const failed = byEid.get(devices[2]!.eid)!;
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason!, /^download: the download failed: undefinedError \(127\) \(3 attempts\)$/);
    assert.deepEqual(done.operation.counts, { pending: 0, running: 0, done: 2, failed: 1 });
  });

  it('the fleet API: every route behind the bearer token, its OpenAPI document lists them (and not ESipa), bad input refused', async () => {
    await assert.rejects(fleetRequest({ ...client, token: '' }, 'GET', '/devices'), /UNAUTHORIZED/);
    await assert.rejects(fleetRequest({ ...client, token: 'x'.repeat(64) }, 'GET', '/devices'), /UNAUTHORIZED/);
    await assert.rejects(fleetRequest({ ...client, token: 'x'.repeat(64) }, 'GET', '/openapi.json'), /UNAUTHORIZED/);
    const doc = await fleetRequest<{ paths: Record<string, Record<string, unknown>> }>(client, 'GET', '/openapi.json');
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), path]));
    assert.deepEqual(routes.sort(), [...FLEET_ROUTES].map((r) => [...r]).sort());
    await assert.rejects(fleetRequest(client, 'POST', '/operations', { kind: 'download', tag: 'restart', params: {} }), /INVALID_ARGUMENT.*activationCodes/);
    await assert.rejects(fleetRequest(client, 'POST', '/operations', { kind: 'enable', eids: ['1'.repeat(32)], params: { iccid: ICCID_A } }), /DEVICE_NOT_FOUND/);
    await assert.rejects(fleetRequest(client, 'POST', '/operations', { kind: 'nuke', tag: 'restart' }), /INVALID_ARGUMENT/);
    await assert.rejects(fleetRequest(client, 'POST', '/operations', { kind: 'listProfiles', tag: 'no-such-tag' }), /no device/);
    await assert.rejects(fleetRequest(client, 'GET', `/operations/${'0'.repeat(32)}`), /NOT_FOUND/);
    const refused = await fleetRequest<{ refused: number; results: { code: string }[] }>(client, 'POST', '/devices', {
      devices: [{ euiccCertificate: readFileSync(join(smdp.data.pkiDirs.p256!, 'ci.der')).toString('base64'), eumCertificate: 'MIIB' }],
    });
    assert.equal(refused.refused, 1);
  });

  it('mcim fleet register, list, run --wait, status, report through the command', async () => {
    const { devices, file } = await manufacture('cli', 2, 'jsonl');
    let out = '';
    const program = new Command().exitOverride();
    registerFleet(program, (text) => (out += text));
    const tokenFile = data.tokenFile;
    const common = ['--api', `https://${EIM_HOST}`, '--token-file', tokenFile, '--ca', data.tlsCaFile, '--connect', `${client.connect!.host}:${client.connect!.port}`];
    await program.parseAsync(['node', 'mcim', 'fleet', 'register', file, '--tag', 'cli', ...common]);
    assert.match(out, /^2 registered, 0 already registered, 0 refused\n$/);
    out = '';
    await program.parseAsync(['node', 'mcim', 'fleet', 'list', '--tag', 'cli', '--json', ...common]);
    assert.deepEqual((JSON.parse(out) as { eid: string }[]).map((d) => d.eid), eidsOf(devices));
    out = '';
    // --wait follows the operation while the devices run their cycles.
    let running = true;
    const driver = (async () => {
      while (running) {
        for (const d of devices) await cycle(d, 'json');
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    try {
      await program.parseAsync(['node', 'mcim', 'fleet', 'run', 'listProfiles', '--tag', 'cli', '--wait', '--interval', '50', '--json', ...common]);
    } finally {
      running = false;
      await driver;
    }
    const report = JSON.parse(out) as ReportAnswer;
    assert.deepEqual(report.operation.counts, { pending: 0, running: 0, done: 2, failed: 0 });
    out = '';
    await program.parseAsync(['node', 'mcim', 'fleet', 'status', report.operation.id, ...common]);
    assert.equal(out, `operation ${report.operation.id} (listProfiles, 2 devices): 2 done, 0 failed, 0 pending, finished\n`);
    out = '';
    await program.parseAsync(['node', 'mcim', 'fleet', 'report', report.operation.id, ...common]);
    assert.deepEqual(out.split('\n').slice(1, 3), eidsOf(devices).map((eid) => `${eid}  done   `));
    await assert.rejects(program.parseAsync(['node', 'mcim', 'fleet', 'run', 'nuke', '--tag', 'cli', ...common]), /no fleet operation 'nuke'/);
    await assert.rejects(program.parseAsync(['node', 'mcim', 'fleet', 'list', '--api', `https://${EIM_HOST}`, '--ca', data.tlsCaFile]), /token/);
  });
});
