// The eIM's registry and queue (src/store/eimStore.ts, migration 0013_eim) on SQLite and PostgreSQL: registration with chain validation, tags, the
// counter allocated atomically by two eIM processes on one database, queue order, results stored once (duplicate vs replay).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issueTestCertificate, issueTestPki } from '../../src/pki/testPki.js';
import { PkiError } from '../../src/pki/errors.js';
import { makeEid } from '../../src/pki/eid.js';
import { McimError } from '../../src/errors.js';
import { openDatabase } from '../../src/store/database.js';
import { EimStore, MAX_EIM_COUNTER } from '../../src/store/eimStore.js';
import { eimContext } from '../../src/eim/context.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { issueEuiccPackages, issuePsmos } from '../../src/eim/euiccPackageRequest.js';
import { EuiccPackageRequest } from '../../src/asn1/definitions/sgp32.js';
import { sql } from 'kysely';
import { decode, encode } from '../../src/asn1/schema.js';
import { SignerPool } from '../../src/crypto/signerPool.js';
import { associationTokenTlv } from '../../src/eim/eimSignature.js';
import { verifyPlain } from '../../src/crypto/ecdsa.js';
import { ENGINES, openTestEim } from './harness.js';

const code = (c: string) => (e: unknown) => e instanceof McimError && e.code === c;
const ICCID = Buffer.from('98001032547698103254', 'hex');

for (const engine of ENGINES) {
  describe(`eIM store on ${engine}`, () => {
    it('registers a device whose chain validates; refuses another CI, an EID that is not the certificate\'s, a second registration; tags select devices', async () => {
      const pki = issueTestPki();
      const other = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        const d = await registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1, tags: ['fleet-a', 'site:42'] });
        assert.equal(d.eid, pki.eid);
        assert.equal(d.counter, 0);
        assert.deepEqual(d.tags, ['fleet-a', 'site:42']);
        assert.equal(d.ciKeyId, pki.ci.certificate.subjectKeyIdentifier!.toString('hex'));
        await assert.rejects(registerDevice(eim.ctx, { euiccCertificate: other.euicc.der, eumCertificate: other.eum.der, associationToken: 1 }), (e) => e instanceof PkiError && e.code === 'UNKNOWN_CI');
        // An eUICC certificate from another EUM than the one presented.
        const eum2 = issueTestCertificate('eum', pki.ci, { eidPrefix: '89049032' });
        await assert.rejects(registerDevice(eim.ctx, { euiccCertificate: other.euicc.der, eumCertificate: eum2.der, associationToken: 1 }), (e) => e instanceof PkiError);
        await assert.rejects(registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1, eid: makeEid('89049032', '9'.repeat(22)) }), code('INVALID_ARGUMENT'));
        await assert.rejects(registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1 }), code('DEVICE_EXISTS'));
        await assert.rejects(eim.store.setTags(pki.eid, ['bad tag']), code('INVALID_ARGUMENT'));
        await eim.store.setTags(pki.eid, ['fleet-b']);
        assert.deepEqual((await eim.store.listDevices({ tag: 'fleet-b' })).map((x) => x.eid), [pki.eid]);
        assert.deepEqual(await eim.store.listDevices({ tag: 'fleet-a' }), []);
        await assert.rejects(eim.store.setTags(makeEid('89049032', '1'.repeat(22)), []), code('DEVICE_NOT_FOUND'));
      } finally {
        await eim.close();
      }
    });

    it('push addresses (inject mode, migration 0016): an https origin set, shown and cleared; anything else refused, nothing written; an unknown EID DEVICE_NOT_FOUND', async () => {
      const pki = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        await registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1 });
        assert.equal((await eim.store.getDevice(pki.eid))!.pushAddress, undefined, 'retrieve mode by default');
        await eim.store.setPushAddress(pki.eid, 'https://ipad-7.example.com:8443');
        assert.equal((await eim.store.getDevice(pki.eid))!.pushAddress, 'https://ipad-7.example.com:8443');
        for (const bad of ['http://ipad.example.com', 'https://ipad.example.com/', 'https://ipad.example.com/x', 'https://u:p@ipad.example.com', 'https://ipad.example.com?a', 'ipad.example.com', `https://${'a'.repeat(250)}.com`]) {
          await assert.rejects(eim.store.setPushAddress(pki.eid, bad), code('INVALID_ARGUMENT'), bad);
        }
        assert.equal((await eim.store.listDevices())[0]!.pushAddress, 'https://ipad-7.example.com:8443', 'unchanged by the refusals');
        await eim.store.setPushAddress(pki.eid, undefined);
        assert.equal((await eim.store.getDevice(pki.eid))!.pushAddress, undefined);
        await assert.rejects(eim.store.setPushAddress(makeEid('89049032', '1'.repeat(22)), 'https://x.example.com'), code('DEVICE_NOT_FOUND'));
      } finally {
        await eim.close();
      }
    });

    it('two eIM processes issue 100 packages to one device at once: every counter once, 1..100, queued in counter order', async () => {
      const pki = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      const db2 = await openDatabase(eim.config);
      try {
        await registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 3 });
        const ctx2 = eimContext({ eimId: eim.ctx.eimId, keyring: eim.ctx.keys, trustedCis: [pki.ci.der], store: new EimStore(db2) });
        const issue = (ctx: typeof ctx2) => issuePsmos(ctx, pki.eid, [{ type: 'getRAT', value: {} }]);
        const issued = await Promise.all(Array.from({ length: 100 }, (_, i) => issue(i % 2 === 0 ? eim.ctx : ctx2)));
        const counters = issued.map((p) => p.counter!).sort((a, b) => a - b);
        assert.deepEqual(counters, Array.from({ length: 100 }, (_, i) => i + 1));
        assert.equal((await eim.store.getDevice(pki.eid))!.counter, 100);
        const queued = await eim.store.listPackages(pki.eid);
        assert.deepEqual(queued.map((p) => p.counter), counters, 'the queue is in counter order');
        assert.equal(new Set(queued.map((p) => p.eimTransactionId)).size, 100);
      } finally {
        await db2.destroy();
        await eim.close();
      }
    });

    it('issueEuiccPackages: one package per device in one transaction, each its own counter, transaction and signature; an unknown EID queues none', async () => {
      const pki = issueTestPki();
      const euiccs = [1, 2, 3].map((n) => issueTestCertificate('euicc', pki.eum, { eid: makeEid('89049032', String(n).repeat(22)) }));
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        for (const [i, e] of euiccs.entries()) await registerDevice(eim.ctx, { euiccCertificate: e.der, eumCertificate: pki.eum.der, associationToken: 10 + i });
        const eids = euiccs.map((e) => e.certificate.eid!);
        await issuePsmos(eim.ctx, eids[1]!, [{ type: 'getRAT', value: {} }]);
        const issued = await issueEuiccPackages(eim.ctx, eids, { type: 'psmoList', value: [{ type: 'listProfileInfo', value: {} }] });
        assert.deepEqual(issued.map((p) => p.counter), [1, 2, 1]);
        assert.equal(new Set(issued.map((p) => p.eimTransactionId)).size, 3);
        for (const [i, p] of issued.entries()) {
          const stored = (await eim.store.getPackage(p.eimTransactionId))!;
          assert.equal(stored.eid, eids[i]);
          const request = decode(EuiccPackageRequest, stored.request);
          assert.equal(request.euiccPackageSigned.value.eidValue.toString('hex'), eids[i]);
          assert.equal(request.euiccPackageSigned.value.counterValue, p.counter);
          assert.ok(verifyPlain(eim.publicKey, Buffer.concat([request.euiccPackageSigned.der, associationTokenTlv(10 + i)]), request.eimSignature), 'signed under the device\'s own association token');
        }
        await assert.rejects(issueEuiccPackages(eim.ctx, [eids[0]!, makeEid('89049032', '7'.repeat(22))], { type: 'psmoList', value: [{ type: 'getRAT', value: {} }] }), code('DEVICE_NOT_FOUND'));
        assert.equal((await eim.store.getDevice(eids[0]!))!.counter, 1, 'the batch with an unknown EID allocated nothing');
        assert.equal((await eim.store.listPackages(eids[0]!)).length, 1);
      } finally {
        await eim.close();
      }
    });

    it('issueEuiccPackages on signer threads: a device listed n times gets its next n counters in list order, queued in counter order; every package is the codec\'s bytes and verifies', async () => {
      const pki = issueTestPki();
      const euiccs = [4, 5, 6].map((n) => issueTestCertificate('euicc', pki.eum, { eid: makeEid('89049032', String(n).repeat(22)) }));
      const eim = await openTestEim(engine, [pki.ci.der]);
      const signer = new SignerPool(2);
      try {
        for (const [i, e] of euiccs.entries()) await registerDevice(eim.ctx, { euiccCertificate: e.der, eumCertificate: pki.eum.der, associationToken: 20 + i });
        const eids = euiccs.map((e) => e.certificate.eid!);
        await issuePsmos(eim.ctx, eids[2]!, [{ type: 'getRAT', value: {} }]);
        const ctx = { ...eim.ctx, signer };
        // 150 packages: several signing jobs and INSERTs of several sizes.
        const list = Array.from({ length: 150 }, (_, i) => eids[(i * 7) % 3]!);
        const issued = await issueEuiccPackages(ctx, list, { type: 'psmoList', value: [{ type: 'listProfileInfo', value: {} }] });
        const next = new Map([[eids[0]!, 1], [eids[1]!, 1], [eids[2]!, 2]]);
        for (const [i, p] of issued.entries()) {
          const eid = list[i]!;
          assert.equal(p.counter, next.get(eid), `package ${i}`);
          next.set(eid, p.counter! + 1);
        }
        for (const [d, eid] of eids.entries()) {
          assert.equal((await eim.store.getDevice(eid))!.counter, next.get(eid)! - 1);
          const queued = await eim.store.listPackages(eid);
          const counters = queued.map((q) => q.counter!);
          assert.deepEqual(counters, [...counters].sort((a, b) => a - b), 'queue order is counter order');
          for (const q of queued) {
            const request = decode(EuiccPackageRequest, q.request);
            assert.deepEqual(encode(EuiccPackageRequest, request), q.request, 'DER as the codec writes it');
            assert.equal(request.euiccPackageSigned.value.eidValue.toString('hex'), eid);
            assert.equal(request.euiccPackageSigned.value.counterValue, q.counter);
            assert.equal(request.euiccPackageSigned.value.eimTransactionId!.toString('hex').toUpperCase(), q.eimTransactionId);
            assert.ok(verifyPlain(eim.publicKey, Buffer.concat([request.euiccPackageSigned.der, associationTokenTlv(20 + d)]), request.eimSignature));
          }
        }
      } finally {
        await signer.close();
        await eim.close();
      }
    });

    it('a batch is all or nothing: a counter running out for a device listed twice, or a key generation the eIM lacks, queues none and allocates none', async () => {
      const eim = await openTestEim(engine, [issueTestPki().ci.der]);
      const signer = new SignerPool(1);
      try {
        const cert = Buffer.alloc(16);
        const [a, b, c] = ['1', '2', '3'].map((n) => makeEid('89049032', n.repeat(22)));
        await eim.store.registerDevice({ eid: a!, eimId: eim.ctx.eimId, euiccCertificate: cert, eumCertificate: cert, ciKeyId: '00', associationToken: 1 }, 0);
        await eim.store.registerDevice({ eid: b!, eimId: eim.ctx.eimId, euiccCertificate: cert, eumCertificate: cert, ciKeyId: '00', associationToken: 1, counter: MAX_EIM_COUNTER - 1 }, 0);
        await eim.store.registerDevice({ eid: c!, eimId: eim.ctx.eimId, euiccCertificate: cert, eumCertificate: cert, ciKeyId: '00', associationToken: 1, keyGeneration: 2 }, 0);
        const ctx = { ...eim.ctx, signer };
        const pkg = { type: 'psmoList' as const, value: [{ type: 'getRAT' as const, value: {} }] };
        await assert.rejects(issueEuiccPackages(ctx, [a!, b!, b!], pkg), code('COUNTER_EXHAUSTED'));
        await assert.rejects(issueEuiccPackages(ctx, [a!, c!], pkg), code('INVALID_ARGUMENT'));
        assert.equal((await eim.store.getDevice(a!))!.counter, 0);
        assert.equal((await eim.store.getDevice(b!))!.counter, MAX_EIM_COUNTER - 1);
        assert.equal((await eim.store.getDevice(c!))!.counter, 0);
        for (const eid of [a!, b!, c!]) assert.equal((await eim.store.listPackages(eid)).length, 0);
        assert.deepEqual((await issueEuiccPackages(ctx, [b!, a!], pkg)).map((p) => p.counter), [MAX_EIM_COUNTER, 1]);
      } finally {
        await signer.close();
        await eim.close();
      }
    });

    it('the counter stops at 0x7FFFFF (COUNTER_EXHAUSTED, nothing queued); an unknown EID is DEVICE_NOT_FOUND', async () => {
      const pki = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        await registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1, counter: MAX_EIM_COUNTER - 1 });
        assert.equal((await issuePsmos(eim.ctx, pki.eid, [{ type: 'disable', value: { iccid: ICCID } }])).counter, MAX_EIM_COUNTER);
        await assert.rejects(issuePsmos(eim.ctx, pki.eid, [{ type: 'disable', value: { iccid: ICCID } }]), code('COUNTER_EXHAUSTED'));
        assert.equal((await eim.store.listPackages(pki.eid)).length, 1);
        await assert.rejects(issuePsmos(eim.ctx, makeEid('89049032', '7'.repeat(22)), [{ type: 'getRAT', value: {} }]), code('DEVICE_NOT_FOUND'));
      } finally {
        await eim.close();
      }
    });

    it('hands out the oldest open package until its result is stored; a result is stored once (same bytes again: duplicate; other bytes: replayed)', async () => {
      const pki = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        await registerDevice(eim.ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1 });
        const a = await issuePsmos(eim.ctx, pki.eid, [{ type: 'getRAT', value: {} }]);
        const b = await issuePsmos(eim.ctx, pki.eid, [{ type: 'getRAT', value: {} }]);
        const first = await eim.store.nextPackage(pki.eid, 1);
        assert.equal(first!.eimTransactionId, a.eimTransactionId);
        assert.equal((await eim.store.nextPackage(pki.eid, 2))!.eimTransactionId, a.eimTransactionId, 'sent again until a result arrives');
        assert.equal((await eim.store.getPackage(a.eimTransactionId))!.attempts, 2);
        const result = Buffer.from('result-a');
        const profiles = () => [{ iccid: '89001012345678901234', state: 'enabled' as const }];
        const done = await eim.store.completePackage(a.eimTransactionId, { state: 'done', result, outcome: { ok: true }, profiles, received: [{ seqNumber: 7, kind: 'packageResult' }] }, 3);
        assert.equal(done.status, 'completed');
        assert.equal(await eim.store.hasReceived(pki.eid, 7), true);
        assert.deepEqual((await eim.store.getDevice(pki.eid))!.profiles, profiles());
        assert.equal((await eim.store.completePackage(a.eimTransactionId, { state: 'done', result, outcome: {} }, 4)).status, 'duplicate');
        assert.equal((await eim.store.completePackage(a.eimTransactionId, { state: 'failed', result: Buffer.from('other'), outcome: {} }, 4)).status, 'replayed');
        assert.deepEqual((await eim.store.getPackage(a.eimTransactionId))!.outcome, { ok: true }, 'the stored result is unchanged');
        assert.equal((await eim.store.nextPackage(pki.eid, 5))!.eimTransactionId, b.eimTransactionId);
        await assert.rejects(eim.store.completePackage('00', { state: 'done', result, outcome: {} }, 6), code('UNKNOWN_TRANSACTION'));
        // Two processes storing one result at once: one completes it.
        const outcomes = await Promise.all([0, 1].map(() => eim.store.completePackage(b.eimTransactionId, { state: 'done', result, outcome: {} }, 7)));
        assert.deepEqual(outcomes.map((o) => o.status).sort(), ['completed', 'duplicate']);
        assert.equal(await eim.store.nextPackage(pki.eid, 8), undefined);
      } finally {
        await eim.close();
      }
    });
  });
}

describe('eIM store indexes (SQLite query plans)', () => {
  it('a package by EID and counter, a device\'s packages and a device\'s fleet targets are found by index, not by reading every row (migration 0016)', async () => {
    const eim = await openTestEim('SQLite', [issueTestPki().ci.der]);
    try {
      const plan = async (query: string): Promise<string> =>
        (await sql.raw<{ detail: string }>(`EXPLAIN QUERY PLAN ${query}`).execute(eim.db)).rows.map((r) => r.detail).join('; ');
      assert.match(await plan("SELECT * FROM eim_packages WHERE eid = '1' AND counter = 2"), /USING INDEX eim_packages_eid_counter/);
      assert.match(await plan("SELECT * FROM eim_packages WHERE eid = '1' ORDER BY id"), /USING INDEX eim_packages_eid_counter/);
      assert.match(
        await plan("UPDATE eim_fleet_targets SET lease_token = 'x' WHERE (operation_id, eid) IN (SELECT t.operation_id, t.eid FROM eim_fleet_targets t WHERE t.state IN ('pending', 'running') AND t.next_at <= 1 ORDER BY t.next_at LIMIT 10)"),
        /SEARCH eim_fleet_targets USING (COVERING )?INDEX sqlite_autoindex_eim_fleet_targets_1 \(operation_id=\? AND eid=\?\)/,
      );
    } finally {
      await eim.close();
    }
  });
});
