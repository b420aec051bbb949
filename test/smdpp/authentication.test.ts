// ES9+ common mutual authentication conformance (SGP.22 3.1.2, 5.6.1, 5.6.3; codes of SGP.22 5.6 / SGP.23): specification
// version, the two CI lists, eUICC chain faults by certificate, and orders found by EID alone (default SM-DP+, SM-DS).
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../src/asn1/schema.js';
import { EUICCInfo1, NotificationEvent, StoreMetadataRequest } from '../../src/asn1/definitions/rsp.js';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { X509_OID } from '../../src/asn1/definitions/x509.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { extensions } from '../../src/pki/issue.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestCertificate, issueTestPki, type IssuedCertificate, type TestPki } from '../../src/pki/testPki.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { readFixture } from '../helpers/fixtures.js';
import { EuiccSimulator, type AuthenticateClientOk, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { SMDP_ADDRESS, startHarness, type Es9Response, type Harness, assertFailed, assertSuccess, b64 } from './harness.js';

const PROFILE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const OTHER_PROFILE = readFixture('ts48', 'TS48V3-SAIP2-3-BERTLV-UNIQUE.der');
const HOUR = 3_600_000;
let counter = 0;

function ski(pki: TestPki): Buffer {
  return pki.ci.certificate.subjectKeyIdentifier!;
}

/** A fresh EID under the SGP.26 EUM prefix, used by no other test. */
function freshEid(): string {
  return makeEid('89049032', Array.from({ length: 22 }, () => randomInt(10)).join(''));
}

/** Another eUICC of `pki`'s EUM with a fresh EID (certificates valid from an hour ago: the harness clock is its start time). */
function sibling(pki: TestPki, eum: IssuedCertificate = pki.eum): TestPki {
  const eid = freshEid();
  return { ...pki, eid, eum, euicc: issueTestCertificate('euicc', eum, { eid, notBefore: new Date(Date.now() - HOUR) }) };
}

/** The certificate with the last byte of its signature changed: still well-formed, no longer verifying. */
function tampered(c: IssuedCertificate): IssuedCertificate {
  const der = Buffer.from(c.der);
  der[der.length - 1]! ^= 0x01;
  return { ...c, der, certificate: parseCertificate(der) };
}

async function order(h: Harness, options: { eid?: string; confirmationCode?: string } = {}): Promise<string> {
  const matchingId = `AUTH-MATCHING-ID-${++counter}-${Date.now()}`;
  await importProfile(h.store, PROFILE, { matchingId, ...options }, h.now);
  return matchingId;
}

async function initiate(h: Harness, euicc: EuiccSimulator, euiccInfo1 = euicc.euiccInfo1()): Promise<Es9Response> {
  euicc.newSession();
  return h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euiccInfo1), smdpAddress: SMDP_ADDRESS });
}

async function authenticate(h: Harness, euicc: EuiccSimulator, matchingId: string | undefined): Promise<{ init: InitiateAuthenticationOk; auth: Es9Response }> {
  const r = await initiate(h, euicc);
  assertSuccess(r);
  const init = r.body as unknown as InitiateAuthenticationOk;
  const auth = await h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) });
  return { init, auth };
}

/** authenticateClient then getBoundProfilePackage; returns the unwrapped profile metadata's ICCID and the session's certificates. */
async function download(
  h: Harness,
  euicc: EuiccSimulator,
  matchingId: string | undefined,
  profile = PROFILE,
): Promise<{ init: InitiateAuthenticationOk; auth: AuthenticateClientOk; iccid: Buffer }> {
  const { init, auth } = await authenticate(h, euicc, matchingId);
  assertSuccess(auth);
  const authOk = auth.body as unknown as AuthenticateClientOk;
  const bpp = await h.call('getBoundProfilePackage', { transactionId: init.transactionId, prepareDownloadResponse: b64(euicc.prepareDownload(authOk)) });
  assertSuccess(bpp);
  const unwrapped = euicc.loadBoundProfilePackage(Buffer.from(bpp.body.boundProfilePackage as string, 'base64'));
  assert.ok(unwrapped.profilePackage.equals(profile));
  return { init, auth: authOk, iccid: decode(StoreMetadataRequest, Buffer.from(authOk.profileMetadata, 'base64')).iccid };
}

describe('ES9+ common mutual authentication conformance', () => {
  let h: Harness;
  let p256: TestPki;
  let brainpool: TestPki;
  /** A CI the SM-DP+ knows (trusts for eUICC chains) but holds no CERT.DPauth under. */
  let knownOnly: TestPki;

  before(async () => {
    knownOnly = issueTestPki({ curve: 'P-256', eid: freshEid(), notBefore: new Date(Date.now() - HOUR) });
    h = await startHarness({ trustedCis: [knownOnly.ci.certificate] });
    p256 = h.p256;
    brainpool = h.brainpool;
  });
  after(async () => {
    await h.close();
  });

  describe('specification version (euiccInfo1.svn)', () => {
    for (const svn of ['010000', '030000']) {
      it(`refuses SGP.22 v${svn.match(/../g)!.map((b) => Number.parseInt(b, 16)).join('.')}: 8.8.3/3.1`, async () => {
        const euicc = new EuiccSimulator(p256);
        euicc.svn = Buffer.from(svn, 'hex');
        assertFailed(await initiate(h, euicc), '8.8.3', '3.1');
      });
    }

    it('accepts every v2.x version', async () => {
      for (const svn of ['020000', '020200', '020500', '02ff00']) {
        const euicc = new EuiccSimulator(p256);
        euicc.svn = Buffer.from(svn, 'hex');
        assertSuccess(await initiate(h, euicc));
      }
    });
  });

  describe('CI selection: euiccCiPKIdListForVerification and euiccCiPKIdListForSigning chosen independently', () => {
    it('DPauth under the verification CI, the chain under the signing CI: a download completes, DPpb under the DPauth CI', async () => {
      // Signing under P-256 (the eUICC's chain), verification under brainpool only (the SM-DP+'s certificates).
      const euicc = new EuiccSimulator(p256, [ski(p256)], [ski(brainpool)]);
      const { init, auth } = await download(h, euicc, await order(h));
      assert.ok(parseCertificate(Buffer.from(init.serverCertificate, 'base64')).authorityKeyIdentifier?.equals(ski(brainpool)), 'CERT.DPauth under the verification CI');
      assert.ok(Buffer.from(init.euiccCiPKIdToBeUsed, 'base64').equals(Buffer.concat([Buffer.from('0414', 'hex'), ski(p256)])), 'euiccCiPKIdToBeUsed: the signing CI');
      assert.ok(parseCertificate(Buffer.from(auth.smdpCertificate, 'base64')).authorityKeyIdentifier?.equals(ski(brainpool)), 'CERT.DPpb under the CI of CERT.DPauth');
    });

    it('the other way round: a brainpool chain, P-256 SM-DP+ certificates', async () => {
      const euicc = new EuiccSimulator(brainpool, [ski(brainpool)], [ski(p256)]);
      const { init } = await download(h, euicc, await order(h));
      assert.ok(Buffer.from(init.euiccCiPKIdToBeUsed, 'base64').subarray(2).equals(ski(brainpool)));
    });

    it('prefers the same CI for both lists when the eUICC offers it', async () => {
      const euicc = new EuiccSimulator(brainpool, [ski(brainpool)], [ski(p256), ski(brainpool)]);
      const init = (await initiate(h, euicc)).body as unknown as InitiateAuthenticationOk;
      assert.ok(parseCertificate(Buffer.from(init.serverCertificate, 'base64')).authorityKeyIdentifier?.equals(ski(brainpool)));
    });

    it('an eUICC chain under a CI the SM-DP+ knows but holds no credential under is verified with that CI, in its notifications too', async () => {
      const euicc = new EuiccSimulator(knownOnly, [ski(knownOnly)], [ski(p256)]);
      const { init, iccid } = await download(h, euicc, await order(h));
      assert.ok(Buffer.from(init.euiccCiPKIdToBeUsed, 'base64').subarray(2).equals(ski(knownOnly)));
      // An enable notification (no session: the chain is verified against the CIs the SM-DP+ knows) is recorded.
      const r = await h.call('handleNotification', { pendingNotification: b64(euicc.otherNotification(NotificationEvent.notificationEnable, SMDP_ADDRESS, iccid)) });
      assert.equal(r.status, 204);
      const recorded = await h.store.db.selectFrom('smdp_notifications').select('operation').where('eid', '=', knownOnly.eid).execute();
      assert.deepEqual(recorded.map((n) => n.operation), ['enable'], JSON.stringify(h.notifications.at(-1)));
    });

    it('no CI of the verification list known to the SM-DP+: 8.8.2/3.1', async () => {
      assertFailed(await initiate(h, new EuiccSimulator(p256, [ski(p256)], [Buffer.alloc(20, 0x42)])), '8.8.2', '3.1');
    });

    it('no CI of the signing list known to the SM-DP+: 8.8.2/3.1', async () => {
      assertFailed(await initiate(h, new EuiccSimulator(p256, [Buffer.alloc(20, 0x42)], [ski(p256)])), '8.8.2', '3.1');
    });

    it('a verification CI the SM-DP+ knows but holds no CERT.DPauth under: 8.8.4/3.7', async () => {
      assertFailed(await initiate(h, new EuiccSimulator(p256, [ski(p256)], [Buffer.alloc(20, 0x42), ski(knownOnly)])), '8.8.4', '3.7');
    });

    it('the eUICC\'s chain must end at euiccCiPKIdToBeUsed, not at another CI the SM-DP+ knows: 8.11.1/3.9', async () => {
      // The eUICC names the knownOnly CI for signing but presents its P-256 chain.
      const euicc = new EuiccSimulator(p256, [ski(knownOnly)], [ski(p256)]);
      const { auth } = await authenticate(h, euicc, await order(h));
      assertFailed(auth, '8.11.1', '3.9');
    });

    it('a request whose euiccInfo1 lists are empty: 8.8.2/3.1, no session', async () => {
      const euicc = new EuiccSimulator(p256);
      const info = encode(EUICCInfo1, { svn: euicc.svn, euiccCiPKIdListForVerification: [], euiccCiPKIdListForSigning: [] });
      assertFailed(await initiate(h, euicc, info), '8.8.2', '3.1');
    });
  });

  describe('eUICC certificate chain faults name the certificate', () => {
    const cases: { name: string; code: [string, string]; make: (pki: TestPki) => TestPki }[] = [
      {
        name: 'EUM certificate invalid (signature)',
        code: ['8.1.2', '6.1'],
        make: (pki) => {
          const child = sibling(pki);
          return { ...child, eum: tampered(pki.eum) };
        },
      },
      {
        name: 'EUM certificate invalid (not a CA: no keyCertSign)',
        code: ['8.1.2', '6.1'],
        make: (pki) => {
          const eum = issueTestCertificate('eum', pki.ci, {
            notBefore: new Date(Date.now() - HOUR),
            eidPrefix: '89049032',
            adjust: (t) => ({ ...t, extensions: t.extensions.map((e) => (e.oid === X509_OID.keyUsage ? extensions.keyUsage(['digitalSignature']) : e)) }),
          });
          return sibling(pki, eum);
        },
      },
      {
        name: 'EUM certificate expired',
        code: ['8.1.2', '6.3'],
        make: (pki) => {
          const eum = issueTestCertificate('eum', pki.ci, { notBefore: new Date(Date.now() - 48 * HOUR), notAfter: new Date(Date.now() - 24 * HOUR), eidPrefix: '89049032' });
          const eid = freshEid();
          return { ...pki, eid, eum, euicc: issueTestCertificate('euicc', eum, { eid, notBefore: new Date(Date.now() - 47 * HOUR) }) };
        },
      },
      {
        name: 'eUICC certificate invalid (signature)',
        code: ['8.1.3', '6.1'],
        make: (pki) => {
          const child = sibling(pki);
          return { ...child, euicc: tampered(child.euicc) };
        },
      },
      {
        name: 'eUICC certificate expired',
        code: ['8.1.3', '6.3'],
        make: (pki) => {
          const eid = freshEid();
          return { ...pki, eid, euicc: issueTestCertificate('euicc', pki.eum, { eid, notBefore: new Date(Date.now() - 48 * HOUR), notAfter: new Date(Date.now() - 24 * HOUR) }) };
        },
      },
      {
        name: 'eUICC certificate not yet valid',
        code: ['8.1.3', '6.3'],
        make: (pki) => {
          const eid = freshEid();
          return { ...pki, eid, euicc: issueTestCertificate('euicc', pki.eum, { eid, notBefore: new Date(Date.now() + 24 * HOUR) }) };
        },
      },
      {
        name: 'EID outside the EUM\'s permitted range',
        code: ['8.1.3', '6.1'],
        make: (pki) => {
          const eid = makeEid('89049033', Array.from({ length: 22 }, () => randomInt(10)).join(''));
          return { ...pki, eid, euicc: issueTestCertificate('euicc', pki.eum, { eid, notBefore: new Date(Date.now() - HOUR) }) };
        },
      },
      {
        name: 'chain under a CI the SM-DP+ does not know (the eUICC claims a known one)',
        code: ['8.11.1', '3.9'],
        make: () => issueTestPki({ curve: 'P-256', eid: freshEid(), notBefore: new Date(Date.now() - HOUR) }),
      },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.code.join('/')}`, async () => {
        const pki = c.make(p256);
        const euicc = new EuiccSimulator(pki, [ski(p256)]);
        const matchingId = await order(h);
        const { init, auth } = await authenticate(h, euicc, matchingId);
        assertFailed(auth, ...c.code);
        assert.equal((await h.store.sessions.get(init.transactionId))?.state, 'failed', 'the session is not bound: it has ended');
        assert.equal((await h.store.orders.get(matchingId))?.state, 'released');
      });
    }
  });

  describe('orders for an EID without a matching ID (default SM-DP+, SM-DS)', () => {
    async function eidOnlyOrder(eid: string, profile = PROFILE): Promise<string> {
      const r = await importProfile(h.store, profile, { eid }, h.now);
      assert.equal(r.matchingId, undefined);
      return r.iccid;
    }

    it('no matchingId: the released order of the authenticated EID is downloaded', async () => {
      const euicc = new EuiccSimulator(sibling(p256));
      const iccid = await eidOnlyOrder(euicc.eid);
      const { init, iccid: delivered } = await download(h, euicc, undefined);
      assert.ok(delivered.equals(encodeIccid(iccid)));
      const key = (await h.store.sessions.get(init.transactionId))?.matchingId;
      const o = await h.store.orders.get(key!);
      assert.equal(o?.eidOnly, true);
      assert.equal(o?.state, 'downloaded');
      assert.equal(o?.deliveredEid, euicc.eid);
    });

    it('an empty matchingId is the same as none', async () => {
      const euicc = new EuiccSimulator(sibling(brainpool));
      await eidOnlyOrder(euicc.eid);
      await download(h, euicc, '');
    });

    it('no matchingId and no order for the EID: 8.1.1/3.8, even when an order with a matching ID is bound to the EID', async () => {
      const euicc = new EuiccSimulator(sibling(p256));
      const matchingId = await order(h, { eid: euicc.eid });
      assertFailed((await authenticate(h, euicc, undefined)).auth, '8.1.1', '3.8');
      assertFailed((await authenticate(h, euicc, '')).auth, '8.1.1', '3.8');
      assert.equal((await h.store.orders.get(matchingId))?.state, 'released');
    });

    it('no matchingId: an order for another EID is not found (8.1.1/3.8)', async () => {
      const other = new EuiccSimulator(sibling(p256));
      await eidOnlyOrder(other.eid);
      assertFailed((await authenticate(h, new EuiccSimulator(sibling(p256)), undefined)).auth, '8.1.1', '3.8');
    });

    it('the internal key of an EID-only order presented as matchingId is unknown: 8.2.6/3.8', async () => {
      const euicc = new EuiccSimulator(sibling(p256));
      await eidOnlyOrder(euicc.eid);
      const { init } = await authenticate(h, euicc, undefined);
      const key = (await h.store.sessions.get(init.transactionId))?.matchingId;
      assert.match(key ?? '', /^eid-only:/);
      assertFailed((await authenticate(h, euicc, key)).auth, '8.2.6', '3.8');
    });

    it('an SM-DS event ID is a matching ID: the order registered under it is downloaded', async () => {
      const euicc = new EuiccSimulator(sibling(p256));
      const eventId = `EVENT-${Date.now()}-${randomInt(1_000_000)}-SMDS`;
      await importProfile(h.store, PROFILE, { matchingId: eventId, eid: euicc.eid }, h.now);
      await download(h, euicc, eventId);
      assert.equal((await h.store.orders.get(eventId))?.state, 'downloaded');
    });

    it('several orders for one EID: the oldest first, then the next', async () => {
      const euicc = new EuiccSimulator(sibling(p256));
      const first = await eidOnlyOrder(euicc.eid);
      h.now += 1;
      const second = await eidOnlyOrder(euicc.eid, OTHER_PROFILE);
      assert.notEqual(first, second);
      assert.ok((await download(h, euicc, undefined)).iccid.equals(encodeIccid(first)));
      assert.ok((await download(h, euicc, undefined, OTHER_PROFILE)).iccid.equals(encodeIccid(second)));
      assertFailed((await authenticate(h, euicc, undefined)).auth, '8.1.1', '3.8');
    });
  });
});
