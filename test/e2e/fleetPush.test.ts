// End to end (SGP.32 v1.2 TransferEimPackage through mcim's fleet API): `mcim eim serve --push-ca` pushes a fleet operation's package to a
// device's IPAd listener when told (`mcim fleet push-address`, `mcim fleet push`); the operation completes without the device polling.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { deviceInit, withDevice } from '../../src/cli/commands/device.js';
import { fleetReport, fleetRequest, fleetRun, registerFleet, type FleetClientOptions } from '../../src/cli/commands/fleet.js';
import { initEimDataDir, type EimDataDir } from '../../src/eim/dataDir.js';
import { openEimService, type EimService } from '../../src/eim/service.js';
import { addInitialEim } from '../../src/ipa/es10b/addInitialEim.js';
import { getCerts } from '../../src/ipa/es10b/getCerts.js';
import { startPushListener } from '../../src/ipa/pushListener.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';

const EIM_HOST = 'eim.example.com';
// The eIM resolves the push address itself (no connect override in production): the listener is named and reached as localhost.
const IPAD_HOST = 'localhost';

describe('pushes through the fleet API (mcim eim serve --push-ca, mcim fleet push-address, mcim fleet push)', () => {
  let smdp: DataDirSmdp;
  let data: EimDataDir;
  let svc: EimService;
  let client: FleetClientOptions;
  const ipadTls = issueTestPki({ smdpAddress: IPAD_HOST });
  const internalErrors: unknown[] = [];

  before(async () => {
    smdp = await startDataDirSmdp('mcim-fleet-push-', 'testsmdpplus1.example.com:8443');
    data = initEimDataDir(join(smdp.tmp, 'eim'), { eimId: 'eim-push', address: EIM_HOST, cis: [join(smdp.data.pkiDirs.p256!, 'ci.der')] });
    svc = await openEimService({ data, engine: { intervalMs: 20 }, pushCa: [Buffer.from(certificateToPem(ipadTls.ci.der))], onInternalError: (e) => internalErrors.push(e) });
    const port = await svc.listen('127.0.0.1', 0);
    client = { api: `https://${EIM_HOST}`, token: data.token, ca: readFileSync(data.tlsCaFile, 'utf8'), connect: { host: '127.0.0.1', port } };
  });

  after(async () => {
    await svc.close();
    await smdp.close();
    assert.deepEqual(internalErrors, []);
  });

  it('a listProfiles operation pushed to the device and done; the push address shown and cleared', async () => {
    const info = await fleetRequest<{ eimId: string; keys: { publicKey: string }[] }>(client, 'GET', '/eim');
    const state = join(smdp.tmp, 'pushed.state');
    const { eid } = deviceInit({ state, pki: smdp.data.pkiDirs.p256 });
    const { token, certs } = await withDevice({ state }, async (es10) => {
      const [t] = await addInitialEim(es10, [{ eimId: info.eimId, eimFqdn: EIM_HOST, eimPublicKeyData: { type: 'eimPublicKey', value: Buffer.from(info.keys[0]!.publicKey, 'base64') } }]);
      return { token: t!, certs: await getCerts(es10) };
    });
    await fleetRequest(client, 'POST', '/devices', { devices: [{ eid, euiccCertificate: certs.euiccCertificate.toString('base64'), eumCertificate: certs.eumCertificate.toString('base64'), associationToken: token }] });

    let out = '';
    const program = new Command().exitOverride();
    registerFleet(program, (text) => (out += text));
    const common = ['--api', `https://${EIM_HOST}`, '--token-file', data.tokenFile, '--ca', data.tlsCaFile, '--connect', `${client.connect!.host}:${client.connect!.port}`];
    await program.parseAsync(['node', 'mcim', 'fleet', 'push-address', eid, `https://${IPAD_HOST}`, ...common]);
    assert.equal(out, `${eid}: https://${IPAD_HOST}\n`);

    const op = await fleetRun(client, 'listProfiles', { eids: eid });
    // The engine issues the package; then the push.
    for (let i = 0; i < 100 && (await fleetReport(client, op.id)).targets.some((t) => t.waitingForDevice !== true); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await withDevice({ state }, async (es10) => {
      const listener = await startPushListener(es10, {
        key: ipadTls.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        cert: certificateToPem(ipadTls.dpTls.der),
        eimCa: [readFileSync(data.tlsCaFile)],
        port: 0,
        host: IPAD_HOST,
      });
      try {
        await program.parseAsync(['node', 'mcim', 'fleet', 'push-address', eid, `https://${IPAD_HOST}:${listener.port}`, ...common]);
        out = '';
        await program.parseAsync(['node', 'mcim', 'fleet', 'push', eid, '--json', ...common]);
      } finally {
        await listener.close();
      }
    });
    const outcomes = JSON.parse(out) as { status: string; kind: string; acknowledgementsDelivered?: boolean }[];
    assert.deepEqual(outcomes.map((o) => [o.status, o.kind, o.acknowledgementsDelivered]), [['result', 'euiccPackage', true]]);
    let report = await fleetReport(client, op.id);
    for (let i = 0; i < 100 && !report.operation.finished; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      report = await fleetReport(client, op.id);
    }
    assert.deepEqual(report.operation.counts, { pending: 0, running: 0, done: 1, failed: 0 });

    out = '';
    await program.parseAsync(['node', 'mcim', 'fleet', 'push-address', eid, '--clear', '--json', ...common]);
    assert.equal((JSON.parse(out) as { pushAddress?: string }).pushAddress, undefined);
    await assert.rejects(fleetRequest(client, 'PUT', `/devices/${eid}/push-address`, { pushAddress: 'http://localhost' }), /INVALID_ARGUMENT.*not a push address/);
  });
});
