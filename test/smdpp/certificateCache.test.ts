// The SM-DP+'s certificate cache (issue 8, memory): keyed by SHA-256, bounded in accounted bytes, filled only with certificates whose chain verified.
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotificationEvent } from '../../src/asn1/definitions/rsp.js';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate, type IssuedCertificate, type TestPki } from '../../src/pki/testPki.js';
import { CertificateCache, accountedBytes } from '../../src/smdpp/certificateCache.js';
import { EuiccSimulator, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { SMDP_ADDRESS, startHarness, testPkis, type Harness } from './harness.js';

const HOUR_AGO = (): Date => new Date(Date.now() - 3_600_000);

/** An EUM certificate carrying `padding` bytes in a non-critical private extension (each one unique: a fresh key). */
function paddedEum(issuer: IssuedCertificate, padding: number): IssuedCertificate {
  return issueTestCertificate('eum', issuer, {
    notBefore: HOUR_AGO(),
    adjust: (t) => ({ ...t, extensions: [...t.extensions, { oid: '1.3.6.1.4.1.99999.1', critical: false, value: encodeTlv(0x04, randomBytes(padding)) }] }),
  });
}

/** An eUICC under `eum` with a fresh EID, as a simulator. */
function euiccUnder(pki: TestPki, eum: IssuedCertificate): EuiccSimulator {
  const eid = makeEid('89049032', Array.from({ length: 22 }, () => randomInt(10)).join(''));
  const euicc = issueTestCertificate('euicc', eum, { eid, notBefore: HOUR_AGO() });
  return new EuiccSimulator({ ...pki, eid, eum, euicc });
}

function b64(b: Buffer): string {
  return b.toString('base64');
}

describe('certificate cache', () => {
  const { p256 } = testPkis();
  const certs = [p256.eum, p256.euicc, p256.dpAuth, p256.dpPb, p256.eim].map((c) => c.certificate);

  it('parse never fills the cache; remember does, and a hit is the remembered object', () => {
    const cache = new CertificateCache(64 * 1024);
    const parsed = cache.parse(p256.eum.der);
    assert.equal(parsed.der.equals(p256.eum.der), true);
    assert.deepStrictEqual([cache.size, cache.bytes], [0, 0]);
    assert.notEqual(cache.parse(p256.eum.der), parsed);
    cache.remember([parsed]);
    assert.deepStrictEqual([cache.size, cache.bytes], [1, accountedBytes(p256.eum.der)]);
    assert.equal(cache.parse(Buffer.from(p256.eum.der)), parsed);
    cache.remember([parsed]);
    assert.equal(cache.size, 1);
  });

  it('stays within its byte bound, least recently used out', () => {
    const bound = accountedBytes(p256.eum.der) * 3 + 10;
    const cache = new CertificateCache(Math.max(bound, 8 * accountedBytes(p256.eim.der)));
    for (const c of certs) {
      cache.remember([c]);
      assert.ok(cache.bytes <= cache.maxBytes, `${cache.bytes} > ${cache.maxBytes}`);
    }
    assert.ok(cache.size < certs.length);
    // The newest is kept; the oldest went.
    assert.equal(cache.parse(p256.eim.der), certs[4]);
    assert.notEqual(cache.parse(p256.eum.der), certs[0]);
  });

  it('keeps no certificate larger than an eighth of its bound', () => {
    const cache = new CertificateCache(accountedBytes(p256.eum.der) * 4);
    cache.remember([p256.eum.certificate]);
    assert.deepStrictEqual([cache.size, cache.bytes], [0, 0]);
  });

  describe('over HTTPS', () => {
    const BOUND = 96 * 1024;
    let h: Harness;
    before(async () => {
      h = await startHarness({ certificateCacheBytes: BOUND });
    });
    after(async () => {
      await h.close();
    });

    it('unique large EUM certificates that do not verify leave the cache as it was (handleNotification, authenticateClient)', async () => {
      const cache = h.server.context.certificates;
      // Forged: issued by a CI the SM-DP+ does not know, about 20 KB each, a new DER every time.
      const rogueCi = issueTestCertificate('ci', undefined, { notBefore: HOUR_AGO() });
      const iccid = encodeIccid('8944476500001234567');
      for (let i = 0; i < 40; i++) {
        const forged = euiccUnder(p256, paddedEum(rogueCi, 20_000));
        const r = await h.call('handleNotification', { pendingNotification: b64(forged.otherNotification(NotificationEvent.notificationDelete, SMDP_ADDRESS, iccid)) });
        assert.equal(r.status, 204);
      }
      assert.equal(h.notifications.length, 40);
      assert.ok(h.notifications.every((n) => n.outcome === 'discarded'));
      assert.deepStrictEqual([cache.size, cache.bytes], [0, 0]);

      // Under the trusted CI's name and key identifier but not its key: the signature check fails.
      const impostorCi = { ...rogueCi, certificate: p256.ci.certificate } as IssuedCertificate;
      for (let i = 0; i < 8; i++) {
        const forged = euiccUnder(p256, paddedEum(impostorCi, 20_000));
        forged.newSession();
        const init = await h.call('initiateAuthentication', { euiccChallenge: b64(forged.euiccChallenge), euiccInfo1: b64(forged.euiccInfo1()), smdpAddress: SMDP_ADDRESS });
        assert.equal(init.body.header?.functionExecutionStatus.status, 'Executed-Success');
        const ok = init.body as unknown as InitiateAuthenticationOk;
        const r = await h.call('authenticateClient', { transactionId: ok.transactionId, authenticateServerResponse: b64(forged.authenticateServer(ok, 'ANY-MATCHING-ID-0001')) });
        const data = r.body.header?.functionExecutionStatus.statusCodeData;
        assert.deepStrictEqual([data?.subjectCode, data?.reasonCode], ['8.1.2', '6.1'], data?.message);
      }
      assert.deepStrictEqual([cache.size, cache.bytes], [0, 0]);
    });

    it('many verified chains: the cache holds them up to its bound, no further', async () => {
      const cache = h.server.context.certificates;
      const iccid = encodeIccid('8944476500001234567');
      let peak = 0;
      for (let i = 0; i < 12; i++) {
        // Genuine: EUMs issued by the trusted CI, padded to about 3 KB, each with an eUICC.
        const genuine = euiccUnder(p256, paddedEum(p256.ci, 3_000));
        const r = await h.call('handleNotification', { pendingNotification: b64(genuine.otherNotification(NotificationEvent.notificationDelete, SMDP_ADDRESS, iccid)) });
        assert.equal(r.status, 204);
        assert.ok(cache.bytes <= BOUND, `${cache.bytes} > ${BOUND}`);
        peak = Math.max(peak, cache.size);
      }
      // The chains verified (the notification names no profile of theirs): they were kept, then evicted by newer ones.
      assert.match(JSON.stringify(h.notifications.at(-1)), /no profile with ICCID/);
      assert.ok(peak >= 4, `peak ${peak}`);
      assert.ok(cache.size < 24, `${cache.size} entries kept`);
    });
  });
});
