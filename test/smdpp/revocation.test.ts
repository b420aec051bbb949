// SGP.22 4.6 revocation on the SM-DP+ (RFC 5280 6.3): a revoked EUM (CI's CRL) is 8.1.2/6.1, a revoked eUICC (EUM's CRL) 8.1.3/6.1
// in AuthenticateClient; forged and stale CRLs; CRLs fetched in the background from a loopback distribution point.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crlToPem, issueCrl, type RevocationEntry } from '../../src/pki/crl.js';
import { makeEid } from '../../src/pki/eid.js';
import { PkiError } from '../../src/pki/errors.js';
import { extensions } from '../../src/pki/issue.js';
import { issueTestCertificate, type IssuedCertificate, type TestPki } from '../../src/pki/testPki.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { RevocationStore, type RevocationEvent } from '../../src/smdpp/revocation.js';
import { readFixture } from '../helpers/fixtures.js';
import { EuiccSimulator, type InitiateAuthenticationOk } from './euiccSimulator.js';
import { SMDP_ADDRESS, startHarness, testPkis, type Es9Response, type Harness } from './harness.js';

const PROFILE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let counter = 0;

function b64(b: Buffer): string {
  return b.toString('base64');
}

function freshEid(): string {
  return makeEid('89049032', Array.from({ length: 22 }, () => randomInt(10)).join(''));
}

function issuedAgo(): Date {
  return new Date(Math.floor((Date.now() - HOUR) / 1000) * 1000);
}

/** A new eUICC of `eum` (optionally pointing at a CRL distribution point). */
function euiccOf(pki: TestPki, eum: IssuedCertificate, crlUrl?: string): TestPki {
  const eid = freshEid();
  const euicc = issueTestCertificate('euicc', eum, {
    eid,
    notBefore: issuedAgo(),
    ...(crlUrl !== undefined ? { adjust: (t) => ({ ...t, extensions: [...t.extensions, extensions.crlDistributionPoints([crlUrl])] }) } : {}),
  });
  return { ...pki, eid, eum, euicc };
}

function crlOf(issuer: IssuedCertificate, revoked: IssuedCertificate[], o: { number?: bigint; thisUpdate?: Date; nextUpdate?: Date } = {}): Buffer {
  const thisUpdate = o.thisUpdate ?? issuedAgo();
  const entries: RevocationEntry[] = revoked.map((c) => ({ serialNumber: c.certificate.serialNumber, revocationDate: thisUpdate }));
  return issueCrl({ issuer: issuer.certificate, thisUpdate, nextUpdate: o.nextUpdate ?? new Date(thisUpdate.getTime() + 30 * DAY), crlNumber: o.number ?? 1n, revoked: entries }, issuer.privateKey);
}

function forged(der: Buffer): Buffer {
  const out = Buffer.from(der);
  out[out.length - 1]! ^= 0x01;
  return out;
}

function status(r: Es9Response): [string | undefined, string | undefined] | 'success' {
  const s = r.body.header?.functionExecutionStatus;
  if (s?.status === 'Executed-Success') return 'success';
  return [s?.statusCodeData?.subjectCode, s?.statusCodeData?.reasonCode];
}

async function authenticateClient(h: Harness, pki: TestPki): Promise<Es9Response> {
  const matchingId = `CRL-MATCHING-ID-${++counter}-${Date.now()}`;
  await importProfile(h.store, PROFILE, { matchingId }, h.now);
  const euicc = new EuiccSimulator(pki);
  euicc.newSession();
  const r = await h.call('initiateAuthentication', { euiccChallenge: b64(euicc.euiccChallenge), euiccInfo1: b64(euicc.euiccInfo1()), smdpAddress: SMDP_ADDRESS });
  const init = r.body as unknown as InitiateAuthenticationOk;
  return h.call('authenticateClient', { transactionId: init.transactionId, authenticateServerResponse: b64(euicc.authenticateServer(init, matchingId)) });
}

function codeOf(f: () => void): string {
  try {
    f();
  } catch (e) {
    if (e instanceof PkiError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('SM-DP+ revocation in AuthenticateClient (SGP.22 4.6, 5.6.3)', () => {
  let h: Harness;
  let p256: TestPki;
  let dir: string;
  const events: RevocationEvent[] = [];
  let store: RevocationStore;
  let revokedEum: IssuedCertificate;
  let goodEum: IssuedCertificate;
  let revokedEuicc: TestPki;
  let goodEuicc: TestPki;

  before(async () => {
    p256 = testPkis().p256;
    dir = mkdtempSync(join(tmpdir(), 'mcim-crl-'));
    revokedEum = issueTestCertificate('eum', p256.ci, { notBefore: issuedAgo() });
    goodEum = issueTestCertificate('eum', p256.ci, { notBefore: issuedAgo() });
    revokedEuicc = euiccOf(p256, goodEum);
    goodEuicc = euiccOf(p256, goodEum);
    // The CI's CRL revokes one EUM (PEM file); the EUM's CRL revokes one of its eUICCs (DER file).
    writeFileSync(join(dir, 'ci.crl'), crlToPem(crlOf(p256.ci, [revokedEum])));
    writeFileSync(join(dir, 'eum.crl'), crlOf(goodEum, [revokedEuicc.euicc]));
    store = new RevocationStore({
      files: [join(dir, 'ci.crl'), join(dir, 'eum.crl')],
      trustedCis: [p256.ci.certificate],
      clock: () => h.now,
      onEvent: (e) => events.push(e),
    });
    h = await startHarness({ revocation: store });
    store.start();
  });
  after(async () => {
    store.stop();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an eUICC of an EUM the CI revoked: 8.1.2/6.1', async () => {
    assert.deepEqual(status(await authenticateClient(h, euiccOf(p256, revokedEum))), ['8.1.2', '6.1']);
    assert.ok(events.some((e) => e.event === 'certificate-revoked' && e.serial === revokedEum.certificate.serialNumber.toString('hex')));
  });

  it('an eUICC its EUM revoked: 8.1.3/6.1; its sibling is accepted', async () => {
    assert.deepEqual(status(await authenticateClient(h, revokedEuicc)), ['8.1.3', '6.1']);
    assert.equal(status(await authenticateClient(h, goodEuicc)), 'success');
    // The EUM's CRL waited for the EUM: verified on first use, then in effect.
    assert.ok(events.some((e) => e.event === 'crl-loaded' && e.source.endsWith('eum.crl')));
  });

  it('a forged CRL is refused with a typed error and logged; the CRL in effect stays', () => {
    const err = store.load(forged(crlOf(p256.ci, [goodEum], { number: 5n })), 'forged-ci');
    assert.equal(err?.code, 'CRL_BAD_SIGNATURE');
    assert.ok(events.some((e) => e.event === 'crl-rejected' && e.source === 'forged-ci' && e.code === 'CRL_BAD_SIGNATURE'));
    assert.equal(codeOf(() => store.check(goodEum.certificate, p256.ci.certificate)), 'accepted');
    assert.equal(codeOf(() => store.check(revokedEum.certificate, p256.ci.certificate)), 'REVOKED');
  });

  it("a forged EUM CRL is dropped when the EUM is validated; the EUM's genuine CRL stays in effect", async () => {
    assert.equal(store.load(forged(crlOf(goodEum, [goodEuicc.euicc], { number: 9n })), 'forged-eum'), undefined, 'an EUM CRL waits for its EUM');
    assert.equal(status(await authenticateClient(h, goodEuicc)), 'success');
    assert.ok(events.some((e) => e.event === 'crl-rejected' && e.source === 'forged-eum' && e.code === 'CRL_BAD_SIGNATURE'));
    assert.deepEqual(status(await authenticateClient(h, revokedEuicc)), ['8.1.3', '6.1']);
  });

  it('an older CRL does not replace a newer one', () => {
    const before = events.length;
    assert.equal(store.load(crlOf(p256.ci, [], { number: 0n }), 'older'), undefined);
    assert.ok(events.slice(before).some((e) => e.event === 'crl-older-ignored'));
    assert.equal(codeOf(() => store.check(revokedEum.certificate, p256.ci.certificate)), 'REVOKED');
  });

  it("a CRL from the future is refused; another CA's CRL leaves this CI's certificates alone", () => {
    const future = new Date(Date.now() + DAY);
    assert.equal(store.load(crlOf(p256.ci, [], { number: 50n, thisUpdate: future }), 'future')?.code, 'CRL_NOT_YET_VALID');
    const brainpool = testPkis().brainpool;
    // The brainpool CI is not among this store's CIs: its CRL waits; the p256 CI's check is unaffected.
    assert.equal(store.load(crlOf(brainpool.ci, [p256.eum]), 'other-ci'), undefined);
    assert.equal(codeOf(() => store.check(p256.eum.certificate, p256.ci.certificate)), 'accepted');
  });
});

describe('stale CRLs (nextUpdate passed): the policy decides', () => {
  const p256 = testPkis().p256;
  const eum = p256.eum;
  const listed = euiccOf(p256, eum);
  const unlisted = euiccOf(p256, eum);
  const thisUpdate = new Date(Math.floor((Date.now() - 10 * DAY) / 1000) * 1000);
  const stale = crlOf(eum, [listed.euicc], { thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + DAY) });

  it('fail-open (default): a listed certificate is still refused, an unlisted one accepted, the staleness logged', () => {
    const events: RevocationEvent[] = [];
    const store = new RevocationStore({ onEvent: (e) => events.push(e) });
    assert.equal(store.stalePolicy, 'fail-open');
    store.load(stale, 'stale');
    assert.equal(codeOf(() => store.check(listed.euicc.certificate, eum.certificate)), 'REVOKED');
    assert.equal(codeOf(() => store.check(unlisted.euicc.certificate, eum.certificate)), 'accepted');
    assert.ok(events.some((e) => e.event === 'crl-stale' && e.policy === 'fail-open'));
  });

  it('fail-closed: every certificate the stale CRL covers is refused (REVOCATION_UNKNOWN), 8.1.3/6.1 in AuthenticateClient', async () => {
    const store = new RevocationStore({ stalePolicy: 'fail-closed' });
    store.load(stale, 'stale');
    assert.equal(codeOf(() => store.check(unlisted.euicc.certificate, eum.certificate)), 'REVOCATION_UNKNOWN');
    const h = await startHarness({ revocation: store });
    try {
      assert.deepEqual(status(await authenticateClient(h, unlisted)), ['8.1.3', '6.1']);
    } finally {
      await h.close();
    }
    // A current CRL of the issuer ends it.
    store.load(crlOf(eum, [], { number: 2n }), 'fresh');
    assert.equal(codeOf(() => store.check(unlisted.euicc.certificate, eum.certificate)), 'accepted');
  });
});

describe('CRLs from distribution points (loopback), in the background', () => {
  let server: Server;
  let base: string;
  let body: Buffer = Buffer.alloc(0);
  let requests = 0;
  const p256 = testPkis().p256;

  before(async () => {
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/slow.crl') return; // never answers: the fetch times out
      if (req.url === '/huge.crl') {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' });
        res.end(Buffer.alloc(64 * 1024));
        return;
      }
      if (req.url === '/moved.crl') {
        res.writeHead(302, { location: '/eum.crl' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetched on first sight without blocking the check, refreshed, the last good CRL kept when a fetch fails', async () => {
    const eum = p256.eum;
    const target = euiccOf(p256, eum, `${base}/eum.crl`);
    body = crlOf(eum, [], { number: 1n });
    const events: RevocationEvent[] = [];
    const store = new RevocationStore({ fetch: true, onEvent: (e) => events.push(e), limits: { maxBytes: 16 * 1024, maxEntries: 100 } });
    // The first check knows no CRL: it does not wait for the fetch it starts.
    assert.equal(codeOf(() => store.check(target.euicc.certificate, eum.certificate)), 'accepted');
    assert.deepEqual(store.distributionPoints, [`${base}/eum.crl`]);
    await store.settled();
    assert.equal(requests, 1);
    // The EUM revokes the eUICC; the next refresh picks it up.
    body = crlOf(eum, [target.euicc], { number: 2n });
    await store.refresh();
    assert.equal(requests, 2);
    assert.equal(codeOf(() => store.check(target.euicc.certificate, eum.certificate)), 'REVOKED');
    // The distribution point now serves garbage: refused, the revocation stays in effect.
    body = Buffer.from('not a CRL');
    await store.refresh();
    assert.ok(events.some((e) => e.event === 'crl-rejected' && e.code === 'CRL_MALFORMED'));
    assert.equal(codeOf(() => store.check(target.euicc.certificate, eum.certificate)), 'REVOKED');
  });

  it('a distribution point that stalls, sends too much or redirects: CRL_FETCH_FAILED / CRL_TOO_LARGE events, bounded count', async () => {
    const eum = p256.eum;
    const events: RevocationEvent[] = [];
    const store = new RevocationStore({ fetch: true, fetchTimeoutMs: 300, maxDistributionPoints: 3, onEvent: (e) => events.push(e), limits: { maxBytes: 16 * 1024, maxEntries: 100 } });
    for (const path of ['slow', 'huge', 'moved', 'beyond-the-bound']) {
      store.check(euiccOf(p256, eum, `${base}/${path}.crl`).euicc.certificate, eum.certificate);
    }
    assert.equal(store.distributionPoints.length, 3, 'only maxDistributionPoints URLs are remembered');
    await store.settled();
    const failed = events.filter((e): e is Extract<RevocationEvent, { event: 'crl-fetch-failed' }> => e.event === 'crl-fetch-failed');
    assert.deepEqual(failed.map((e) => new URL(e.url).pathname).sort(), ['/huge.crl', '/moved.crl', '/slow.crl']);
    assert.match(failed.find((e) => e.url.endsWith('huge.crl'))!.message, /bytes/);
    assert.match(failed.find((e) => e.url.endsWith('moved.crl'))!.message, /HTTP 302/);
  });

  it('only http and https distribution points are fetched', async () => {
    const events: RevocationEvent[] = [];
    const store = new RevocationStore({ fetch: true, onEvent: (e) => events.push(e) });
    const ldap = issueTestCertificate('euicc', p256.eum, {
      eid: freshEid(),
      adjust: (t) => ({ ...t, extensions: [...t.extensions, extensions.crlDistributionPoints(['ldap://ldap.example/cn=crl'])] }),
    });
    store.check(ldap.certificate, p256.eum.certificate);
    await store.settled();
    assert.match((events[0] as { message: string }).message, /only http and https/);
    assert.deepEqual(store.distributionPoints, ['ldap://ldap.example/cn=crl']);
  });
});
