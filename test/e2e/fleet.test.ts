// End to end (issue 10 "Fleet operations"; SGP.32 v1.2 3.2.1, 3.4, 3.5): `mcim eim serve`'s service over HTTPS with the SM-DP+, a fleet of software IoT
// eUICCs with their IPAd (each its own sealed state) in both ESipa bindings: registered in bulk from an EUM file through the fleet API, provisioned
// with operator A's profile, listed, switched to operator B's with rollback protection (A deleted after the device confirmed B), the eIM key rotated
// (updateEim); an eIM restarted in the middle of an operation resumes it; a device whose order does not exist fails after its retries, with the reason.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { fleetRegister, fleetReport, fleetRequest, fleetRun, registerFleet, type ReportAnswer } from '../../src/cli/commands/fleet.js';
import { initEimDataDir, type EimDataDir } from '../../src/eim/dataDir.js';
import { FLEET_ROUTES } from '../../src/eim/fleetApi.js';
import { openEimService, type EimService } from '../../src/eim/service.js';
import { activationCode } from '../../src/smdpp/importProfile.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';
import { EIM_HOST, FleetScenario, ICCID_A, PROFILE_A, SMDP_ADDRESS, eidsOf } from './fleetScenario.js';

const FLEET = 5;

describe('fleet operations through the eIM service (bulk registration, download, list, switch with rollback, key rotation, restart)', () => {
  let smdp: DataDirSmdp;
  let data: EimDataDir;
  let svc: EimService;
  let fleet: FleetScenario;
  const internalErrors: unknown[] = [];

  async function start(): Promise<void> {
    svc = await openEimService({ data, engine: { intervalMs: 20, backoffMs: 20, maxAttempts: 3 }, onInternalError: (e) => internalErrors.push(e) });
    const port = await svc.listen('127.0.0.1', 0);
    const ca = readFileSync(data.tlsCaFile, 'utf8');
    fleet.svc = svc;
    fleet.client = { api: `https://${EIM_HOST}`, token: data.token, ca, connect: { host: '127.0.0.1', port } };
    fleet.eimHttp = [{ ca: [ca], connect: { host: '127.0.0.1', port } }];
  }

  before(async () => {
    smdp = await startDataDirSmdp('mcim-fleet-e2e-', SMDP_ADDRESS);
    fleet = new FleetScenario(smdp);
    data = initEimDataDir(join(smdp.tmp, 'eim'), { eimId: 'eim-fleet', address: EIM_HOST, cis: [join(smdp.data.pkiDirs.p256!, 'ci.der')] });
    await start();
  });

  after(async () => {
    await svc.close();
    await smdp.close();
    assert.deepEqual(internalErrors, []);
  });

  for (const [binding, format] of [
    ['asn1', 'jsonl'],
    ['json', 'csv'],
  ] as const) {
    it(`${binding} binding, ${format} file: ${FLEET} devices registered, provisioned with A, listed, switched to B with rollback, A deleted, eIM key rotated`, async () => {
      await fleet.provisionSwitchRotate(binding, format, FLEET, `fleet-${binding}`);
    });
  }

  it('an eIM restarted in the middle of an operation resumes it; a device without an order fails after its retries, with the reason; the report says so', async () => {
    const { devices, file } = await fleet.manufacture('restart', 3, 'csv');
    assert.equal((await fleetRegister(fleet.client, file, ['restart'])).registered, 3);
    const codes = await fleet.orders(devices.slice(0, 2), PROFILE_A, 'R');
    // The third device's code names an order the SM-DP+ does not have.
    writeFileSync(codes, `${readFileSync(codes, 'utf8')}${devices[2]!.eid},${activationCode(SMDP_ADDRESS, 'NO-SUCH-ORDER')}\n`);
    const op = await fleetRun(fleet.client, 'download', { tag: 'restart', codes });

    // Two rounds of one package each: the profiles listed, the downloads run; the enables issued. Then the eIM stops.
    for (let round = 0; round < 2; round++) {
      for (const d of devices) await fleet.cycle(d, 'asn1', 1);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const midway = await fleetReport(fleet.client, op.id);
    assert.equal(midway.operation.finished, false);
    const ongoing = midway.targets.filter((t) => devices.slice(0, 2).some((d) => d.eid === t.eid));
    assert.deepEqual(ongoing.map((t) => [t.state, t.step, t.waitingForDevice]), [['running', 'enable', true], ['running', 'enable', true]]);
    await svc.close();

    // A new eIM process on the same data directory and database (another port): it carries on.
    await start();
    const done = await fleet.drive(devices, 'asn1', op.id);
    assert.equal(done.operation.finished, true);
    const byEid = new Map(done.targets.map((t) => [t.eid, t]));
    for (const d of devices.slice(0, 2)) assert.deepEqual([byEid.get(d.eid)!.state, byEid.get(d.eid)!.result?.['confirmed']], ['done', ICCID_A]);
    const failed = byEid.get(devices[2]!.eid)!;
    assert.equal(failed.state, 'failed');
    assert.match(failed.reason!, /^download: the download failed: undefinedError \(127\) \(3 attempts\)$/);
    assert.deepEqual(done.operation.counts, { pending: 0, running: 0, done: 2, failed: 1 });
  });

  it('the fleet API: every route behind the bearer token, its OpenAPI document lists them (and not ESipa), bad input refused', async () => {
    await assert.rejects(fleetRequest({ ...fleet.client, token: '' }, 'GET', '/devices'), /UNAUTHORIZED/);
    await assert.rejects(fleetRequest({ ...fleet.client, token: 'x'.repeat(64) }, 'GET', '/devices'), /UNAUTHORIZED/);
    await assert.rejects(fleetRequest({ ...fleet.client, token: 'x'.repeat(64) }, 'GET', '/openapi.json'), /UNAUTHORIZED/);
    const doc = await fleetRequest<{ paths: Record<string, Record<string, unknown>> }>(fleet.client, 'GET', '/openapi.json');
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), path]));
    assert.deepEqual(routes.sort(), [...FLEET_ROUTES].map((r) => [...r]).sort());
    await assert.rejects(fleetRequest(fleet.client, 'POST', '/operations', { kind: 'download', tag: 'restart', params: {} }), /INVALID_ARGUMENT.*activationCodes/);
    await assert.rejects(fleetRequest(fleet.client, 'POST', '/operations', { kind: 'enable', eids: ['1'.repeat(32)], params: { iccid: ICCID_A } }), /DEVICE_NOT_FOUND/);
    await assert.rejects(fleetRequest(fleet.client, 'POST', '/operations', { kind: 'nuke', tag: 'restart' }), /INVALID_ARGUMENT/);
    await assert.rejects(fleetRequest(fleet.client, 'POST', '/operations', { kind: 'listProfiles', tag: 'no-such-tag' }), /no device/);
    await assert.rejects(fleetRequest(fleet.client, 'GET', `/operations/${'0'.repeat(32)}`), /NOT_FOUND/);
    const refused = await fleetRequest<{ refused: number; results: { code: string }[] }>(fleet.client, 'POST', '/devices', {
      devices: [{ euiccCertificate: readFileSync(join(smdp.data.pkiDirs.p256!, 'ci.der')).toString('base64'), eumCertificate: 'MIIB' }],
    });
    assert.equal(refused.refused, 1);
  });

  it('mcim fleet register, list, run --wait, status, report through the command', async () => {
    const { devices, file } = await fleet.manufacture('cli', 2, 'jsonl');
    let out = '';
    const program = new Command().exitOverride();
    registerFleet(program, (text) => (out += text));
    const tokenFile = data.tokenFile;
    const common = ['--api', `https://${EIM_HOST}`, '--token-file', tokenFile, '--ca', data.tlsCaFile, '--connect', `${fleet.client.connect!.host}:${fleet.client.connect!.port}`];
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
        for (const d of devices) await fleet.cycle(d, 'json');
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
