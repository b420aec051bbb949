// End to end (SGP.32 v1.2 3.2.2 indirect profile download, 3.6 notifications; SGP.22 3.1.3): the IPAd in indirect mode downloads through the eIM, which relays ES9+ to
// the SM-DP+ over HTTPS, in both ESipa bindings; the PIR and the later notifications are forwarded by the eIM (durably, retried while the SM-DP+ is unreachable)
// and removed from the eUICC once the eIM has them; refusals: unknown transaction, another device's transaction, an SM-DP+ not allowed, oversized bodies.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { namedBitList } from '../../src/asn1/definitions/rsp.js';
import { IpaEuiccDataResponse, IpaFeature, type IpaEuiccData } from '../../src/asn1/definitions/sgp32.js';
import { decode } from '../../src/asn1/schema.js';
import { issueIpaEuiccDataRequest } from '../../src/eim/ipaEuiccDataRequest.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { generateKeyPair } from '../../src/crypto/ecdsa.js';
import { registerDevice as registerDeviceCli, withDevice } from '../../src/cli/commands/device.js';
import { Command } from 'commander';
import { issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { issueProfileDownloadTrigger } from '../../src/eim/profileDownloadTriggerRequest.js';
import { ESIPA_ASN1_BODY_LIMIT } from '../../src/eim/server.js';
import { initEimDataDir } from '../../src/eim/dataDir.js';
import { openEimService } from '../../src/eim/service.js';
import { ESIPA_FUNCTIONS } from '../../src/http/esipaFunctions.js';
import { requestBodyLimit } from '../../src/http/es9plusFunctions.js';
import { loadEuiccPackage } from '../../src/ipa/es10b/loadEuiccPackage.js';
import { retrieveNotificationsList } from '../../src/ipa/es10b/retrieveNotificationsList.js';
import { provideEimPackageResult } from '../../src/ipa/esipa/provideEimPackageResult.js';
import { authenticateServer } from '../../src/ipa/es10b/authenticateServer.js';
import { getEuiccChallenge } from '../../src/ipa/es10b/getEuiccChallenge.js';
import { getEuiccInfo1 } from '../../src/ipa/es10b/getEuiccInfo.js';
import { EsipaError } from '../../src/ipa/errors.js';
import { authenticateClient } from '../../src/ipa/esipa/authenticateClient.js';
import { EsipaClient } from '../../src/ipa/esipa/esipaClient.js';
import { getBoundProfilePackage } from '../../src/ipa/esipa/getBoundProfilePackage.js';
import { esipaDownloadServer } from '../../src/ipa/esipa/indirectDownload.js';
import { initiateAuthentication } from '../../src/ipa/esipa/initiateAuthentication.js';
import { HttpsClient } from '../../src/ipa/httpsClient.js';
import { runIpad } from '../../src/ipa/ipad.js';
import { listProfiles, iccidBytes } from '../../src/ipa/localProfileManagement.js';
import { listPendingNotifications } from '../../src/ipa/notifications.js';
import { DEFAULT_DEVICE_INFO, downloadProfile } from '../../src/ipa/profileDownload.js';
import type { NotificationResult } from '../../src/smdpp/es9plus/handleNotification.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import { EimRelayStore } from '../../src/store/eimRelayStore.js';
import type { EimStore } from '../../src/store/eimStore.js';
import { fixturePath } from '../helpers/fixtures.js';
import { EIM_HOST, type RunningEim } from '../eim/harness.js';
import type { DataDirSmdp } from './dataDirSmdp.js';
import { associatedDevice, startEimBesideSmdp } from './eimBesideSmdp.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const PROFILE = readFileSync(fixturePath('ts48', 'TS48V1-A-UNIQUE.der'));
const ICCID = extractProfileEssentials(decodeProfilePackage(PROFILE).elements).iccidDigits;
/** Where the IPAd would reach an SM-DP+ itself: nothing listens there, so a direct attempt fails. */
const NO_SMDP = { connect: { host: '127.0.0.1', port: 1 } };

/** A TCP path from the eIM to the SM-DP+ that the test can cut: while down, connections are closed at once. */
class Cable {
  down = false;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  constructor(target: number) {
    this.#server = createServer((socket) => {
      if (this.down) {
        socket.destroy();
        return;
      }
      const upstream = netConnect(target, '127.0.0.1');
      for (const s of [socket, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      socket.pipe(upstream).pipe(socket);
    });
  }
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as AddressInfo).port;
  }
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('indirect profile download: the IPAd through the eIM, which relays ES9+ to the SM-DP+ and forwards notifications', () => {
  let smdp: DataDirSmdp;
  let eim: RunningEim;
  let store: EimStore;
  let relayStore: EimRelayStore;
  let close: () => Promise<void>;
  let cable: Cable;
  const eimKey = generateKeyPair('P-256');
  const notified: NotificationResult[] = [];
  const relayedBpps: Buffer[] = [];

  before(async () => {
    // The SM-DP+ port is known only once it listens: the cable is made in the relay factory and listens before the eIM does.
    let cablePort = 0;
    ({ smdp, eim, store, close } = await startEimBesideSmdp('mcim-eim-indirect-', ADDRESS, eimKey.privateKey, {
      onNotification: (n) => notified.push(n),
      onRelayed: (fn, answer) => {
        if (fn === 'GetBoundProfilePackage') relayedBpps.push(answer['boundProfilePackage']!);
      },
      relay: (db, s) => {
        relayStore = new EimRelayStore(db);
        cable = new Cable(s.port);
        return {
          store: relayStore,
          es9: { ca: s.http.ca!, connect: { host: '127.0.0.1', get port() { return cablePort; } } as { host: string; port: number }, timeoutMs: 5000 },
          allowedSmdpAddresses: [ADDRESS],
          forwarding: { baseDelayMs: 50, maxDelayMs: 200 },
        };
      },
    }));
    cablePort = await cable.listen();
  });

  after(async () => {
    await close();
    await cable.close();
  });

  async function newDevice(name: string): Promise<{ state: string; eid: string }> {
    const { state, eid } = await associatedDevice(smdp, eim, eimKey.publicKey, `${name}`, [name]);
    return { state, eid };
  }

  async function newOrder(matchingId: string): Promise<void> {
    await importProfile(smdp.store, PROFILE, { matchingId, allowShortMatchingId: true, profileName: matchingId }, Date.now());
  }

  for (const binding of ['asn1', 'json'] as const) {
    it(`${binding}: the trigger's download relayed by the eIM; the PIR and the enable notification forwarded to the SM-DP+, removed from the eUICC once the eIM has them`, async () => {
      const device = await newDevice(`indirect-${binding}`);
      const matchingId = `IND-${binding.toUpperCase()}-0001`;
      await newOrder(matchingId);
      const run = () => withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding, eimHttp: eim.http, smdpHttp: NO_SMDP, indirect: true }));
      const recordedBefore = notified.filter((n) => n.outcome === 'recorded').length;

      const trigger = await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, matchingId) });
      const first = await run();
      assert.deepEqual(first.packages.map((p) => [p.kind, p.outcome]), [['profileDownloadTriggerRequest', `installed ${ICCID}`]]);
      const pirSeq = first.packages[0]!.acknowledged[0]!;
      assert.equal((await store.getPackage(trigger.eimTransactionId))!.state, 'done');
      // The eIM took the PIR over (stored before it acknowledged it), the device removed it, the SM-DP+ recorded it.
      await withDevice(device, async (es10) => assert.deepEqual(await listPendingNotifications(es10), []));
      await until('the PIR delivered', async () => (await relayStore.getForward(device.eid, pirSeq))?.state === 'delivered');
      assert.equal(notified.filter((n) => n.outcome === 'recorded').length, recordedBefore + 1);
      assert.equal((await smdp.store.orders.get(matchingId))!.state, 'installed');

      const enable = await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCID) } }]);
      const second = await run();
      assert.equal((await store.getPackage(enable.eimTransactionId))!.state, 'done');
      assert.equal(second.notificationsDelivered, 1, 'the enable notification to the eIM, removed');
      await withDevice(device, async (es10) => {
        assert.deepEqual((await listProfiles(es10)).map((p) => p.state), ['enabled']);
        assert.deepEqual(await listPendingNotifications(es10), []);
      });
      await until('the enable notification recorded by the SM-DP+', async () => notified.filter((n) => n.outcome === 'recorded').length === recordedBefore + 2);

      // The IPA says how it reaches SM-DP+ servers: indirectly.
      const data = await issueIpaEuiccDataRequest(eim.server.context, device.eid, { tags: [0xa8] });
      await run();
      const response = decode(IpaEuiccDataResponse, (await store.getPackage(data.eimTransactionId))!.result!);
      assert.equal(response.type, 'ipaEuiccData');
      assert.deepEqual(namedBitList((response.value as IpaEuiccData).ipaCapabilities!.ipaFeatures), [IpaFeature.indirectRspServerCommunication]);
      assert.deepEqual(eim.refusals, []);
    });

    it(`${binding}: the Bound Profile Package reaches the eUICC byte for byte as the SM-DP+ sent it to the eIM`, async () => {
      const device = await newDevice(`bpp-${binding}`);
      const matchingId = `BPP-${binding.toUpperCase()}-0001`;
      await newOrder(matchingId);
      const trigger = await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, matchingId) });
      await store.nextPackage(device.eid, Date.now());
      const client = new EsipaClient(eim.url, binding, eim.http);
      const seen: Buffer[] = [];
      try {
        const server = esipaDownloadServer(client, Buffer.from(trigger.eimTransactionId, 'hex'));
        const r = await withDevice(device, (es10) =>
          downloadProfile(es10, {
            activationCode: activationCode(ADDRESS, matchingId),
            server: {
              ...server,
              getBoundProfilePackage: async (tx, response) => {
                const answer = await server.getBoundProfilePackage(tx, response);
                seen.push(answer.boundProfilePackage);
                return answer;
              },
            },
          }),
        );
        assert.equal(r.iccid, ICCID);
        assert.equal(r.notification.delivered, false, 'the PIR is left to the eIM');
      } finally {
        client.close();
      }
      assert.equal(seen.length, 1);
      assert.ok(relayedBpps.some((b) => b.equals(seen[0]!)), 'the bytes the eUICC loaded are the SM-DP+\'s');
    });
  }

  it('a package result with its notifications (ePRAndNotifications, as an IPA may send it): the enable notification taken over, acknowledged with the result, forwarded to the SM-DP+', async () => {
    const device = await newDevice('epr');
    const matchingId = 'EPR-NOTIF-0001';
    await newOrder(matchingId);
    await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, matchingId) });
    const first = await withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: NO_SMDP, indirect: true }));
    assert.deepEqual(first.packages.map((p) => p.outcome), [`installed ${ICCID}`]);
    await until('the PIR recorded by the SM-DP+', async () => (await smdp.store.orders.get(matchingId))!.state === 'installed');
    const recordedBefore = notified.filter((n) => n.outcome === 'recorded').length;

    const enable = await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCID) } }]);
    const request = (await store.getPackage(enable.eimTransactionId))!.request;
    const { result, notifications } = await withDevice(device, async (es10) => ({ result: await loadEuiccPackage(es10, request), notifications: await retrieveNotificationsList(es10) }));
    assert.equal(notifications.length, 1, 'the enable notification');
    const seq = notifications[0]!.metadata.seqNumber;
    const withNotifications = encodeTlv(0x30, [result.der, encodeTlv(0xa0, notifications.map((n) => n.der))]);
    const acknowledged = await provideEimPackageResult(new EsipaClient(eim.url, 'asn1', eim.http), Buffer.from(device.eid, 'hex'), withNotifications);
    assert.ok(acknowledged.includes(seq), `the notification ${seq} acknowledged with the result (${acknowledged.join(', ')})`);
    assert.equal((await store.getPackage(enable.eimTransactionId))!.state, 'done');
    await until('the enable notification delivered to the SM-DP+', async () => (await relayStore.getForward(device.eid, seq))?.state === 'delivered');
    assert.equal(notified.filter((n) => n.outcome === 'recorded').length, recordedBefore + 1);
  });

  it('refused relays: unknown transaction (both bindings), another device\'s transaction, an SM-DP+ outside the allow-list, oversized bodies', async () => {
    const unknown = Buffer.alloc(16, 0xab);
    // An eUICC error response is well-formed and cheap: the eIM refuses it on the transaction before calling the SM-DP+.
    const authError = encodeTlv(0xbf38, encodeTlv(0xa1, [encodeTlv(0x80, unknown), Buffer.from('02017f', 'hex')]));
    const downloadError = encodeTlv(0xbf21, encodeTlv(0xa1, [encodeTlv(0x80, unknown), Buffer.from('02017f', 'hex')]));
    for (const binding of ['asn1', 'json'] as const) {
      const client = new EsipaClient(eim.url, binding, eim.http);
      try {
        await assert.rejects(authenticateClient(client, unknown, authError), (e: unknown) => e instanceof EsipaError && e.esipaCode === 10);
        await assert.rejects(getBoundProfilePackage(client, unknown, downloadError), (e: unknown) => e instanceof EsipaError && e.esipaCode === 95);
      } finally {
        client.close();
      }
    }

    // Device B runs the SM-DP+'s answer to a relay started under device A's trigger: the eIM refuses B's AuthenticateClient.
    const a = await newDevice('owner-a');
    const b = await newDevice('intruder-b');
    await newOrder('OWNER-A-0001');
    const trigger = await issueProfileDownloadTrigger(eim.server.context, a.eid, { activationCode: activationCode(ADDRESS, 'OWNER-A-0001') });
    await store.nextPackage(a.eid, Date.now());
    const client = new EsipaClient(eim.url, 'asn1', eim.http);
    try {
      await withDevice(b, async (es10) => {
        const euiccChallenge = await getEuiccChallenge(es10);
        const euiccInfo1 = (await getEuiccInfo1(es10)).der;
        await assert.rejects(
          initiateAuthentication(client, { euiccChallenge, smdpAddress: 'other.example.com', euiccInfo1 }),
          (e: unknown) => e instanceof EsipaError && e.esipaCode === 1,
        );
        const init = await initiateAuthentication(client, { euiccChallenge, smdpAddress: ADDRESS, euiccInfo1, eimTransactionId: Buffer.from(trigger.eimTransactionId, 'hex') });
        const response = await authenticateServer(es10, {
          serverSigned1: init.serverSigned1,
          serverSignature1: init.serverSignature1,
          euiccCiPKIdToBeUsed: init.euiccCiPKIdToBeUsed,
          serverCertificate: init.serverCertificate,
          ctxParams: { matchingId: 'OWNER-A-0001', deviceInfo: DEFAULT_DEVICE_INFO },
        });
        await assert.rejects(authenticateClient(client, init.transactionId, response.der), (e: unknown) => e instanceof EsipaError && e.esipaCode === 10);
        // The session is still A's, untouched.
        assert.deepEqual((await relayStore.getRelay(init.transactionId.toString('hex').toUpperCase()))!.state, 'initiated');
      });
    } finally {
      client.close();
    }
    const codes = eim.refusals.map((r) => `${r.fn} ${r.code}`);
    assert.ok(codes.includes('AuthenticateClient RELAY_REFUSED') && codes.includes('InitiateAuthentication RELAY_REFUSED'), codes.join(', '));

    // Bodies beyond the bindings' limits: refused with 413 before they are read.
    const http = new HttpsClient(eim.http);
    try {
      const asn1 = await http.post(`${eim.url}/gsma/rsp2/asn1`, { 'Content-Type': 'application/x-gsma-rsp-asn1', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' }, Buffer.alloc(ESIPA_ASN1_BODY_LIMIT + 1));
      assert.equal(asn1.status, 413);
      const json = await http.post(
        `${eim.url}/gsma/rsp2/esipa/authenticateClient`,
        { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' },
        Buffer.from(JSON.stringify({ transactionId: '00', authenticateServerResponse: 'A'.repeat(requestBodyLimit(ESIPA_FUNCTIONS.authenticateClient)) })),
      );
      assert.equal(json.status, 413);
    } finally {
      http.close();
    }
  });

  it('an SM-DP+ refusal reaches the IPAd as its ESipa code: an unknown matchingId is matchingIdRefused (6), the trigger fails, nothing installed', async () => {
    const device = await newDevice('refused-by-smdp');
    const trigger = await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, 'NO-SUCH-ORDER') });
    const r = await withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding: 'json', eimHttp: eim.http, smdpHttp: NO_SMDP, indirect: true }));
    assert.match(r.packages[0]!.outcome, /profileDownloadError: .*authenticateClientErrorEsipa 6/);
    assert.equal((await store.getPackage(trigger.eimTransactionId))!.state, 'failed');
    assert.ok(eim.refusals.some((x) => x.fn === 'AuthenticateClient' && x.code === 'RELAY_FAILED'));
    await withDevice(device, async (es10) => assert.deepEqual(await listProfiles(es10), []));
  });

  it('the SM-DP+ unreachable: the eIM keeps the notification, the device removes it, delivery is retried and succeeds once the SM-DP+ is back', async () => {
    const device = await newDevice('unreachable');
    const matchingId = 'UNREACH-0001';
    await newOrder(matchingId);
    await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, matchingId) });
    const run = () => withDevice(device, (es10) => runIpad(es10, { eim: eim.url, binding: 'asn1', eimHttp: eim.http, smdpHttp: NO_SMDP, indirect: true }));
    const first = await run();
    const pirSeq = first.packages[0]!.acknowledged[0]!;
    await until('the PIR delivered', async () => (await relayStore.getForward(device.eid, pirSeq))?.state === 'delivered');

    cable.down = true;
    await issuePsmos(eim.server.context, device.eid, [{ type: 'enable', value: { iccid: iccidBytes(ICCID) } }]);
    const second = await run();
    assert.equal(second.notificationsDelivered, 1);
    await withDevice(device, async (es10) => assert.deepEqual(await listPendingNotifications(es10), [], 'removed: the eIM has it'));
    // The enable notification: the next seqNumber the eUICC gave after the PIR's.
    let enableSeq = 0;
    await until('the enable notification taken over', async () => {
      for (let seq = pirSeq + 1; seq <= pirSeq + 4; seq++) if ((await relayStore.getForward(device.eid, seq)) !== undefined) enableSeq = seq;
      return enableSeq !== 0;
    });
    await until('two failed attempts', async () => ((await relayStore.getForward(device.eid, enableSeq))?.attempts ?? 0) >= 2);
    const pending = (await relayStore.getForward(device.eid, enableSeq))!;
    assert.equal(pending.state, 'pending');
    assert.ok(pending.lastError !== undefined);

    const recorded = notified.filter((n) => n.outcome === 'recorded').length;
    cable.down = false;
    await until('the enable notification delivered', async () => (await relayStore.getForward(device.eid, enableSeq))?.state === 'delivered');
    assert.equal(notified.filter((n) => n.outcome === 'recorded').length, recorded + 1);
  });
  it('mcim device run --indirect: the trigger\'s download through the eIM, from the command', async () => {
    const device = await newDevice('indirect-cli');
    await newOrder('IND-CLI-0001');
    await issueProfileDownloadTrigger(eim.server.context, device.eid, { activationCode: activationCode(ADDRESS, 'IND-CLI-0001') });
    const caFile = join(smdp.tmp, 'eim-ca-indirect.pem');
    writeFileSync(caFile, (eim.http.ca as string[])[0]!);
    const program = new Command().exitOverride();
    let out = '';
    registerDeviceCli(program, (text) => (out += text));
    // No route to the SM-DP+ is given: its name does not resolve, only the eIM can reach it.
    await program.parseAsync(['node', 'mcim', 'device', 'run', '--state', device.state, '--eim', eim.url, '--eim-ca', caFile, '--eim-connect', `127.0.0.1:${eim.port}`, '--indirect', '--json']);
    const report = JSON.parse(out) as { packages: { outcome: string }[] };
    assert.deepEqual(report.packages.map((p) => p.outcome), [`installed ${ICCID}`]);
  });

  it('mcim eim serve\'s service with the relay: only to the allowed SM-DP+; a session opened there without a trigger', async () => {
    const data = initEimDataDir(join(smdp.tmp, 'eim-service'), { eimId: 'eim-svc', address: EIM_HOST, cis: [join(smdp.data.pkiDirs.p256!, 'ci.der')] });
    const svc = await openEimService({ data, relay: { allowedSmdpAddresses: [ADDRESS], es9: { ca: smdp.http.ca!, connect: smdp.http.connect! } } });
    try {
      const port = await svc.listen('127.0.0.1', 0);
      const client = new EsipaClient(`https://${EIM_HOST}`, 'json', { ca: [readFileSync(data.tlsCaFile, 'utf8')], connect: { host: '127.0.0.1', port } });
      const device = await newDevice('service-relay');
      try {
        await withDevice(device, async (es10) => {
          const euiccChallenge = await getEuiccChallenge(es10);
          const euiccInfo1 = (await getEuiccInfo1(es10)).der;
          await assert.rejects(initiateAuthentication(client, { euiccChallenge, smdpAddress: 'elsewhere.example.com', euiccInfo1 }), (e: unknown) => e instanceof EsipaError && e.esipaCode === 1);
          const init = await initiateAuthentication(client, { euiccChallenge, smdpAddress: ADDRESS, euiccInfo1 });
          assert.equal(init.serverSigned1[0], 0x30);
        });
      } finally {
        client.close();
      }
    } finally {
      await svc.close();
    }
  });
});
