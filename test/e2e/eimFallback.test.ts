// End to end (SGP.32 v1.2 3.4.6 Fallback Mechanism): the IPAd whose enabled profile cannot reach the eIM for the configured time runs
// ES10b.ExecuteFallbackMechanism, tells the eIM (notifyStateChange, stateChangeCause fallback) over the Fallback Profile, and returns
// with ES10b.ReturnFromFallback once the profile it left reaches the eIM again.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { iccidDigitsFromEf } from '../../src/asn1/definitions/saip.js';
import { StateChangeCause } from '../../src/asn1/definitions/sgp32.js';
import { Command } from 'commander';
import { registerDevice as registerDeviceCli, withDevice } from '../../src/cli/commands/device.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { addInitialEim } from '../../src/ipa/es10b/addInitialEim.js';
import { getCerts } from '../../src/ipa/es10b/getCerts.js';
import { removeNotificationFromList } from '../../src/ipa/es10b/removeNotificationFromList.js';
import { retrieveNotificationsList } from '../../src/ipa/es10b/retrieveNotificationsList.js';
import { summarizeNotification } from '../../src/ipa/notifications.js';
import { runIpad, type IpadOptions } from '../../src/ipa/ipad.js';
import type { FallbackMemory } from '../../src/ipa/ipadFallback.js';
import { iccidBytes, listProfiles } from '../../src/ipa/localProfileManagement.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { EimStore } from '../../src/store/eimStore.js';
import { assertSuccess, downloadTs48, rigsCleanedAfter, testPki } from '../euicc/harness.js';
import { EIM_HOST, startEimServer, type RunningEim } from '../eim/harness.js';

const makeRig = rigsCleanedAfter();

describe('IPAd Fallback Mechanism (SGP.32 3.4.6) over ESipa with a software IoT eUICC', () => {
  const pki = testPki();
  const eimKey = generateKeyPair('P-256');
  let db: Database;
  let store: EimStore;
  let eim: RunningEim;

  // The test PKI's eUICCs share one EID: each test has its own eIM and store.
  beforeEach(async () => {
    const dir = makeRig({ pki }).dir;
    db = await openDatabase({ engine: 'sqlite', file: join(dir, 'eim.sqlite') });
    store = new EimStore(db);
    eim = await startEimServer({ eimId: 'eim-1', signingKey: eimKey.privateKey, trustedCis: [pki.ci.der], store });
  });

  afterEach(async () => {
    await eim.close();
    await db.destroy();
  });

  /** A device with profile A (enabled by the eIM) and C (its owner allows fallback; the eIM gave it the Fallback Attribute). */
  async function deviceWithFallbackProfile(): Promise<{ state: string; eid: string; a: string; c: string }> {
    const r = makeRig({ pki });
    assertSuccess(downloadTs48(r, 'TS48V1-A-UNIQUE'));
    const a = iccidDigitsFromEf(r.euicc.profiles.at(-1)!.iccid);
    assertSuccess(downloadTs48(r, 'TS48V2-SAIP2-1-BERTLV-UNIQUE', { fallbackAllowed: true }));
    const c = iccidDigitsFromEf(r.euicc.profiles.at(-1)!.iccid);
    writeFileSync(`${r.path}.secret`, `${r.secret.toString('hex')}\n`, { mode: 0o600 });
    const device = { state: r.path };
    const spki = eimKey.publicKey.export({ type: 'spki', format: 'der' });
    const { token, certs } = await withDevice(device, async (es10) => {
      // The installation results of the downloads above predate the eIM: removed, as an SM-DP+ would have had them.
      for (const n of await retrieveNotificationsList(es10)) await removeNotificationFromList(es10, summarizeNotification(n.metadata).seqNumber);
      const [t] = await addInitialEim(es10, [{ eimId: 'eim-1', eimFqdn: EIM_HOST, eimPublicKeyData: { type: 'eimPublicKey', value: spki } }]);
      return { token: t!, certs: await getCerts(es10) };
    });
    const registered = await registerDevice(eim.server.context, { euiccCertificate: certs.euiccCertificate, eumCertificate: certs.eumCertificate, associationToken: token });
    await issuePsmos(eim.server.context, registered.eid, [{ type: 'enable', value: { iccid: iccidBytes(a) } }]);
    await issuePsmos(eim.server.context, registered.eid, [{ type: 'setFallbackAttribute', value: { iccid: iccidBytes(c) } }]);
    const setup = await run(device);
    assert.deepEqual(setup.packages.map((p) => p.outcome), ['euiccPackageResultSigned', 'euiccPackageResultSigned']);
    return { state: r.path, eid: registered.eid, a, c };
  }

  // No SM-DP+ here: the notifications' ES9+ delivery is refused at once (they stay pending on the eUICC).
  const run = (device: { state: string }, o: Partial<IpadOptions> = {}) =>
    withDevice(device, (es10) =>
      runIpad(es10, { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: { connect: { host: '127.0.0.1', port: 1 }, timeoutMs: 2000 }, ...o }),
    );
  const states = async (device: { state: string }) => withDevice(device, async (es10) => Object.fromEntries((await listProfiles(es10)).map((p) => [p.iccid, p.state])));
  const registry = async (eid: string) => Object.fromEntries(((await store.getDevice(eid))!.profiles ?? []).map((p) => [p.iccid, p.state]));

  it('unreachable over the enabled profile for --fallback-after: ExecuteFallbackMechanism, the eIM told with stateChangeCause fallback, its registry on the Fallback Profile; back when the profile left is reachable again', async () => {
    const device = await deviceWithFallbackProfile();
    const memory: FallbackMemory = {};
    const asked: string[] = [];
    let aReachable = false;
    const reachable = (iccid: string) => (asked.push(iccid), iccid !== device.a || aReachable);
    const started = Date.now();
    const r = await run(device, { fallbackAfterMs: 300, fallbackMemory: memory, reachable });
    assert.ok(Date.now() - started >= 300, 'the IPAd waited the configured time before falling back');
    assert.ok(asked.filter((i) => i === device.a).length >= 2, 'connectivity over the enabled profile was retried');
    assert.deepEqual(r.fallback, { executed: { result: 'ok', from: device.a, to: device.c } });
    assert.deepEqual(await states(device), { [device.a]: 'disabled', [device.c]: 'enabled' });
    assert.equal(memory.from, device.a);
    const stored = (await store.getDevice(device.eid))!;
    assert.equal(stored.stateChangeCause, StateChangeCause.fallback);
    assert.deepEqual(r.packages.map((p) => p.kind), ['euiccPackageRequest'], 'the eIM answered the state change with listProfileInfo');
    assert.deepEqual(await registry(device.eid), { [device.a]: 'disabled', [device.c]: 'enabled' });
    assert.equal(stored.profiles!.find((p) => p.iccid === device.c)!.fallbackAttribute, true);

    // Still unreachable: no return, the device stays on the Fallback Profile (which reaches the eIM).
    const still = await run(device, { fallbackAfterMs: 300, fallbackMemory: memory, reachable });
    assert.equal(still.fallback, undefined);
    assert.deepEqual(await states(device), { [device.a]: 'disabled', [device.c]: 'enabled' });

    // Connectivity over A is back: ReturnFromFallback, the eIM told again, its registry back on A.
    aReachable = true;
    await store.touch(device.eid, Date.now(), StateChangeCause.undefined);
    const back = await run(device, { fallbackAfterMs: 300, fallbackMemory: memory, reachable });
    assert.deepEqual(back.fallback, { returned: { result: 'ok', to: device.a } });
    assert.equal(memory.from, undefined);
    assert.deepEqual(await states(device), { [device.a]: 'enabled', [device.c]: 'disabled' });
    assert.equal((await store.getDevice(device.eid))!.stateChangeCause, StateChangeCause.fallback);
    assert.deepEqual(await registry(device.eid), { [device.a]: 'enabled', [device.c]: 'disabled' });
    assert.deepEqual(eim.refusals, []);
  });

  it('a one-shot IPAd told to return (--return-from-fallback) returns without memory; not in fallback, the eUICC answers commandError and nothing changes', async () => {
    const device = await deviceWithFallbackProfile();
    await run(device, { fallbackAfterMs: 0, reachable: (iccid) => iccid !== device.a });
    assert.deepEqual(await states(device), { [device.a]: 'disabled', [device.c]: 'enabled' });
    const back = await run(device, { fallbackAfterMs: 0, returnFromFallback: true });
    assert.deepEqual(back.fallback, { returned: { result: 'ok', to: device.a } });
    assert.deepEqual(await states(device), { [device.a]: 'enabled', [device.c]: 'disabled' });
    const again = await run(device, { fallbackAfterMs: 0, returnFromFallback: true });
    assert.deepEqual(again.fallback, { returned: { result: 'commandError' } });
    assert.deepEqual(await states(device), { [device.a]: 'enabled', [device.c]: 'disabled' });
  });

  it('no Fallback Profile: the unreachable eIM ends the cycle with TRANSPORT_ERROR, the profiles unchanged', async () => {
    const device = await deviceWithFallbackProfile();
    await issuePsmos(eim.server.context, device.eid, [{ type: 'unsetFallbackAttribute', value: {} }]);
    await run(device);
    await assert.rejects(run(device, { fallbackAfterMs: 50, reachable: (iccid) => iccid !== device.a }), (e: Error & { code?: string }) => e.code === 'TRANSPORT_ERROR' && /fallbackNotAvailable/.test(e.message));
    assert.deepEqual(await states(device), { [device.a]: 'enabled', [device.c]: 'disabled' });
  });

  it('mcim device run --fallback-after --unreachable, then --return-from-fallback, through the command', async () => {
    const device = await deviceWithFallbackProfile();
    const caFile = join(device.state, '..', 'eim-ca.pem');
    writeFileSync(caFile, eim.tls.ca);
    const cli = async (...extra: string[]): Promise<{ fallback?: unknown }> => {
      const program = new Command().exitOverride();
      let out = '';
      registerDeviceCli(program, (text) => (out += text));
      await program.parseAsync([
        'node', 'mcim', 'device', 'run', '--state', device.state, '--eim', eim.url, '--eim-ca', caFile, '--eim-connect', `127.0.0.1:${eim.port}`,
        '--connect', '127.0.0.1:1', '--json', ...extra,
      ]);
      return JSON.parse(out) as { fallback?: unknown };
    };
    assert.deepEqual((await cli('--fallback-after', '0', '--unreachable', device.a)).fallback, { executed: { result: 'ok', from: device.a, to: device.c } });
    assert.equal((await store.getDevice(device.eid))!.stateChangeCause, StateChangeCause.fallback);
    assert.deepEqual((await cli('--fallback-after', '0', '--return-from-fallback')).fallback, { returned: { result: 'ok', to: device.a } });
    assert.deepEqual(await registry(device.eid), { [device.a]: 'enabled', [device.c]: 'disabled' });
  });
});
