// End to end (SGP.32 v1.2 ESipa.TransferEimPackage, inject mode): the eIM pushes queued packages to an IPAd listening over HTTPS on
// loopback (the eIM authenticated by its TLS client certificate); results stored as ProvideEimPackageResult would store them; a push
// that does not arrive leaves the package for retrieve mode, executed once.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Command } from 'commander';
import { after, before, describe, it } from 'node:test';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { registerDevice as registerDeviceCli, withDevice } from '../../src/cli/commands/device.js';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { issueIpaEuiccDataRequest } from '../../src/eim/ipaEuiccDataRequest.js';
import { issueProfileDownloadTrigger } from '../../src/eim/profileDownloadTriggerRequest.js';
import { pushPackages, transferEimPackage, type PushOptions } from '../../src/eim/transferEimPackage.js';
import { loadEuiccPackage } from '../../src/ipa/es10b/loadEuiccPackage.js';
import { retrieveEuiccPackageResults } from '../../src/ipa/es10b/retrieveEuiccPackageResults.js';
import type { Es10Client } from '../../src/ipa/es10Client.js';
import { runIpad } from '../../src/ipa/ipad.js';
import { listProfiles } from '../../src/ipa/localProfileManagement.js';
import { MAX_PUSH_BYTES, startPushListener, type PushListener, type PushListenerOptions } from '../../src/ipa/pushListener.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import { EimStore } from '../../src/store/eimStore.js';
import { fixturePath } from '../helpers/fixtures.js';
import { EIM_HOST, type RunningEim } from '../eim/harness.js';
import type { DataDirSmdp } from './dataDirSmdp.js';
import { associatedDevice, startEimBesideSmdp } from './eimBesideSmdp.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const IPAD_HOST = 'ipad.example.com';
const PROFILE = readFileSync(fixturePath('ts48', 'TS48V1-A-UNIQUE.der'));
const ICCID = extractProfileEssentials(decodeProfilePackage(PROFILE).elements).iccidDigits;

describe('TransferEimPackage (inject mode) over HTTPS to an IPAd with a software IoT eUICC', () => {
  let smdp: DataDirSmdp;
  let eim: RunningEim;
  let store: EimStore;
  let close: () => Promise<void>;
  const eimKey = generateKeyPair('P-256');
  // The IPAd's TLS server certificate, issued by a CI the eIM trusts for pushes.
  const ipadTls = issueTestPki({ smdpAddress: IPAD_HOST });
  let n = 0;

  before(async () => {
    ({ smdp, eim, store, close } = await startEimBesideSmdp('mcim-eim-push-', ADDRESS, eimKey.privateKey));
  });
  after(() => close());

  const pushOptions = (port: number, o: Partial<PushOptions> = {}): PushOptions => ({
    key: eim.tls.key,
    cert: eim.tls.cert,
    ca: [certificateToPem(ipadTls.ci.der)],
    connect: { host: '127.0.0.1', port },
    timeoutMs: 10_000,
    ...o,
  });

  /** A device associated with the eIM, registered with a push address. */
  async function device(): Promise<{ state: string; eid: string }> {
    eim.refusals.length = 0;
    const { state, eid } = await associatedDevice(smdp, eim, eimKey.publicKey, `push-${++n}`);
    await store.setPushAddress(eid, `https://${IPAD_HOST}`);
    return { state, eid };
  }

  /** Runs `body` while the device's IPAd listens for pushes. */
  async function listening<T>(d: { state: string }, body: (l: PushListener, es10: Es10Client) => Promise<T>, o: Partial<PushListenerOptions> = {}, wrap?: (es10: Es10Client) => Es10Client): Promise<T> {
    return withDevice(d, async (es10) => {
      const l = await startPushListener(wrap ? wrap(es10) : es10, {
        key: ipadTls.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }),
        cert: certificateToPem(ipadTls.dpTls.der),
        eimCa: [eim.tls.ca],
        ipad: { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: smdp.http },
        ...o,
      });
      try {
        return await body(l, es10);
      } finally {
        await l.idle();
        await l.close();
      }
    });
  }

  it('an EuiccPackageRequest and an IpaEuiccDataRequest pushed, executed, their results verified and stored, the acknowledgements pushed back', async () => {
    const d = await device();
    const rat = await issuePsmos(eim.server.context, d.eid, [{ type: 'getRAT', value: {} }]);
    const data = await issueIpaEuiccDataRequest(eim.server.context, d.eid, { tags: [0x84] });
    await listening(d, async (l, es10) => {
      const outcomes = await pushPackages(eim.server.context, d.eid, pushOptions(l.port));
      assert.deepEqual(
        outcomes.map((o) => [o.status, 'kind' in o ? o.kind : '', 'acknowledgementsDelivered' in o ? o.acknowledgementsDelivered : undefined]),
        [
          ['result', 'euiccPackage', true],
          ['result', 'ipaEuiccData', true],
        ],
      );
      assert.equal((outcomes[0] as { acknowledged: readonly number[] }).acknowledged.length, 1);
      assert.deepEqual(await retrieveEuiccPackageResults(es10), [], 'the acknowledged result removed from the eUICC');
    });
    assert.equal((await store.getPackage(rat.eimTransactionId))!.state, 'done');
    const stored = (await store.getPackage(data.eimTransactionId))!;
    assert.equal(stored.state, 'done');
    assert.deepEqual((stored.outcome as { components: string[] }).components, ['associationToken']);
    assert.deepEqual(await pushPackages(eim.server.context, d.eid, pushOptions(1)), [], 'nothing left to push');
    assert.deepEqual(eim.refusals, []);
  });

  it('a ProfileDownloadTriggerRequest: eimPackageReceived, a second push of it taken again without a second download, the result delivered later by ProvideEimPackageResult', async () => {
    const d = await device();
    const matchingId = `PUSH-${++n}`;
    await importProfile(smdp.store, PROFILE, { matchingId, allowShortMatchingId: true, profileName: matchingId }, Date.now());
    const trigger = await issueProfileDownloadTrigger(eim.server.context, d.eid, { activationCode: activationCode(ADDRESS, matchingId) });
    await listening(d, async (l) => {
      const first = await transferEimPackage(eim.server.context, d.eid, pushOptions(l.port));
      assert.equal(first.status, 'received');
      const again = await transferEimPackage(eim.server.context, d.eid, pushOptions(l.port));
      assert.equal(again.status, 'received');
      await l.idle();
    });
    const pkg = (await store.getPackage(trigger.eimTransactionId))!;
    assert.equal(pkg.state, 'done');
    assert.deepEqual(pkg.outcome, { installed: true, iccid: ICCID, seqNumber: (pkg.outcome as { seqNumber: number }).seqNumber });
    assert.equal(pkg.attempts, 2, 'sent twice, downloaded once');
    assert.deepEqual(await withDevice(d, async (es10) => (await listProfiles(es10)).map((p) => p.iccid)), [ICCID]);
    assert.deepEqual(eim.refusals, []);
  });

  it('a push to an unreachable IPAd, and one whose answer is lost: the package stays for retrieve mode and is executed once (the eUICC refuses it again by its counter)', async () => {
    const d = await device();
    const rat = await issuePsmos(eim.server.context, d.eid, [{ type: 'getRAT', value: {} }]);
    // Nobody listens: connection refused.
    const unreachable = await transferEimPackage(eim.server.context, d.eid, pushOptions(1));
    assert.equal(unreachable.status, 'undelivered');
    assert.equal((await store.getPackage(rat.eimTransactionId))!.state, 'sent');
    // The IPAd executes it but takes longer than the eIM waits: the answer is lost.
    const slow = (es10: Es10Client): Es10Client =>
      new Proxy(es10, {
        get(target, prop, receiver) {
          if (prop !== 'command') return Reflect.get(target, prop, receiver) as unknown;
          return async (der: Buffer, fn: string) => {
            if (fn === 'LoadEuiccPackage') await new Promise((resolve) => setTimeout(resolve, 600));
            return target.command(der, fn);
          };
        },
      });
    await listening(
      d,
      async (l) => {
        const lost = await transferEimPackage(eim.server.context, d.eid, pushOptions(l.port, { timeoutMs: 200 }));
        assert.deepEqual([lost.status, 'reason' in lost && /within 200 ms/.test(lost.reason)], ['undelivered', true]);
        await l.idle();
      },
      {},
      slow,
    );
    assert.equal((await store.getPackage(rat.eimTransactionId))!.state, 'sent', 'no result stored: the package is still open');
    // Retrieve mode: the result the eUICC kept goes first and completes the package; nothing is handed out again.
    const cycle = await withDevice(d, (es10) => runIpad(es10, { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: smdp.http }));
    assert.equal(cycle.keptResultsDelivered, 1);
    assert.deepEqual(cycle.packages, []);
    const pkg = (await store.getPackage(rat.eimTransactionId))!;
    assert.equal(pkg.state, 'done');
    // The same bytes again are refused by the eUICC (counter): never executed twice.
    const replay = await withDevice(d, (es10) => loadEuiccPackage(es10, pkg.request));
    assert.equal(replay.value.type, 'euiccPackageErrorSigned');
    assert.equal((replay.value.value as { euiccPackageErrorDataSigned: { value: { euiccPackageErrorCode: number } } }).euiccPackageErrorDataSigned.value.euiccPackageErrorCode, 4, 'replayError');
    assert.deepEqual(eim.refusals, []);
  });

  it('refused: a client certificate of another CA (TLS), one not naming the eIM (403), a push beyond the size bound (413); nothing executed', async () => {
    const d = await device();
    const rat = await issuePsmos(eim.server.context, d.eid, [{ type: 'getRAT', value: {} }]);
    const stranger = issueTestPki({ smdpAddress: EIM_HOST });
    await listening(d, async (l, es10) => {
      const foreign = await transferEimPackage(
        eim.server.context,
        d.eid,
        pushOptions(l.port, { key: stranger.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(stranger.dpTls.der) }),
      );
      assert.equal(foreign.status, 'undelivered');
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: l.port,
            servername: IPAD_HOST,
            path: '/gsma/rsp2/asn1',
            method: 'POST',
            key: eim.tls.key,
            cert: eim.tls.cert,
            ca: [certificateToPem(ipadTls.ci.der)],
            agent: false,
            headers: { 'Content-Type': 'application/x-gsma-rsp-asn1', 'Content-Length': String(MAX_PUSH_BYTES + 1) },
          },
          (res) => (res.resume(), resolve(res.statusCode!)),
        );
        req.on('error', reject);
        req.end(Buffer.alloc(MAX_PUSH_BYTES + 1, 0xbf));
      });
      assert.equal(status, 413);
      assert.deepEqual(await retrieveEuiccPackageResults(es10), []);
    });
    await listening(
      d,
      async (l) => {
        const unnamed = await transferEimPackage(eim.server.context, d.eid, pushOptions(l.port));
        assert.deepEqual([unnamed.status, 'reason' in unnamed ? unnamed.reason : ''], ['undelivered', 'HTTP status 403']);
      },
      { eimName: 'other-eim.example.com' },
    );
    assert.equal((await store.getPackage(rat.eimTransactionId))!.state, 'sent', 'still open for retrieve mode');
    await withDevice(d, async (es10) => assert.deepEqual(await retrieveEuiccPackageResults(es10), [], 'nothing executed'));
  });

  it('mcim device run --listen: the cycle, then pushes taken until --listen-for ends', async () => {
    const d = await device();
    const rat = await issuePsmos(eim.server.context, d.eid, [{ type: 'getRAT', value: {} }]);
    const file = (name: string, text: string): string => {
      const path = join(smdp.tmp, `push-cli-${name}`);
      writeFileSync(path, text);
      return path;
    };
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const program = new Command().exitOverride();
    let out = '';
    registerDeviceCli(program, (text) => (out += text));
    const command = program.parseAsync([
      'node', 'mcim', 'device', 'run', '--state', d.state, '--eim', eim.url, '--eim-ca', file('eim-ca.pem', eim.tls.ca), '--eim-connect', `127.0.0.1:${eim.port}`,
      '--max-packages', '1', '--json',
      '--listen', String(port), '--listen-cert', file('ipad.pem', certificateToPem(ipadTls.dpTls.der)),
      '--listen-key', file('ipad.key.pem', ipadTls.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), '--listen-for', '3',
    ]);
    // The cycle runs first (it executes the queued package); a package queued after it is pushed.
    for (let i = 0; i < 100 && !out.includes('"idle"'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await store.getPackage(rat.eimTransactionId))!.state, 'done', 'executed by the cycle (retrieve mode)');
    const pushed = await issuePsmos(eim.server.context, d.eid, [{ type: 'listProfileInfo', value: {} }]);
    let outcome = await transferEimPackage(eim.server.context, d.eid, pushOptions(port));
    for (let i = 0; i < 50 && outcome.status === 'undelivered'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      outcome = await transferEimPackage(eim.server.context, d.eid, pushOptions(port));
    }
    assert.equal(outcome.status, 'result');
    assert.equal((await store.getPackage(pushed.eimTransactionId))!.state, 'done');
    await command;
    assert.equal((await transferEimPackage(eim.server.context, d.eid, pushOptions(port))).status, 'none');
  });
});
