// ESipa abuse bounds (src/eim/esipaLimits.ts) on the eIM's server, both bindings: a source's (N+1)th request in the window answered HTTP 429 (ASN.1:
// no body; JSON: a Failed header, 1.2 / 4.4) with Retry-After, before the store is asked; another source admitted (an IPv6 /64 counts as one source);
// requests beyond the concurrency cap answered HTTP 503; GetEimPackage's answer to an unknown EID with hideUnknownEids.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EimPackageError, EsipaMessageFromIpaToEim, GetEimPackageResponse } from '../../src/asn1/definitions/sgp32.js';
import { decode, encode } from '../../src/asn1/schema.js';
import { eimServeLimits } from '../../src/cli/commands/fleet.js';
import { McimError } from '../../src/errors.js';
import { DEFAULT_ESIPA_LIMITS, ESIPA_LIMITED_STATUS, esipaLimits } from '../../src/eim/esipaLimits.js';
import { ASN1_CONTENT_TYPE, createEimServer, ESIPA_ASN1_PATH, ESIPA_JSON_PATH, type EimServer } from '../../src/eim/server.js';
import { ADMIN_PROTOCOL } from '../../src/http/jsonBinding.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { openTestEim, type TestEimServer } from './harness.js';

const UNKNOWN = makeEid('89049032', '5'.repeat(22));
const tls = (() => {
  const pki = issueTestPki({ smdpAddress: 'eim.example.com' });
  return { key: pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(pki.dpTls.der) };
})();

type Binding = 'asn1' | 'json';

/** One GetEimPackage of `eid` from `remoteAddress`, through the server's routing and hooks. */
function poll(server: EimServer, binding: Binding, remoteAddress: string, eid = UNKNOWN) {
  return binding === 'asn1'
    ? server.app.inject({
        method: 'POST',
        url: ESIPA_ASN1_PATH,
        remoteAddress,
        headers: { 'content-type': ASN1_CONTENT_TYPE, 'x-admin-protocol': ADMIN_PROTOCOL },
        payload: encode(EsipaMessageFromIpaToEim, { type: 'getEimPackageRequest', value: { eidValue: Buffer.from(eid, 'hex') } }),
      })
    : server.app.inject({
        method: 'POST',
        url: `${ESIPA_JSON_PATH}/getEimPackage`,
        remoteAddress,
        headers: { 'content-type': 'application/json', 'x-admin-protocol': ADMIN_PROTOCOL },
        payload: { header: { functionRequesterIdentifier: 'ipa', functionCallIdentifier: 'poll' }, eidValue: eid },
      });
}

/** The eimPackageError a GetEimPackage answer carries. */
function packageError(binding: Binding, body: Buffer): number | undefined {
  if (binding === 'json') return (JSON.parse(body.toString()) as { eimPackageError?: number }).eimPackageError;
  const answer = decode(GetEimPackageResponse, body);
  return answer.type === 'eimPackageError' ? answer.value : undefined;
}

describe('ESipa limits on the eIM server', () => {
  let local: TestEimServer;
  let now = 1_000_000;
  const limited: [string, string][] = [];

  before(async () => {
    local = await openTestEim('SQLite', [issueTestPki().ci.der]);
  });
  after(() => local.close());

  for (const binding of ['asn1', 'json'] as const) {
    it(`${binding}: the (N+1)th request of a source in the window is refused with 429 before any lookup; another source is admitted; the next window admits it again`, async () => {
      const s = createEimServer({
        eimId: local.ctx.eimId,
        keyring: local.ctx.keys,
        trustedCis: [issueTestPki().ci.der],
        store: local.store,
        tls,
        now: () => now,
        esipaLimits: { maxRequestsPerSource: 3, windowMs: 60_000 },
        onLimited: (by, source) => limited.push([by, source]),
      });
      let lookups = 0;
      const getDevice = local.store.getDevice.bind(local.store);
      local.store.getDevice = (eid) => {
        lookups++;
        return getDevice(eid);
      };
      try {
        limited.length = 0;
        for (let i = 0; i < 3; i++) {
          const r = await poll(s, binding, '192.0.2.7');
          assert.equal(r.statusCode, 200);
          assert.equal(packageError(binding, r.rawPayload), EimPackageError.eidNotFound);
        }
        const refused = await poll(s, binding, '192.0.2.7');
        assert.equal(refused.statusCode, 429);
        assert.equal(refused.headers['retry-after'], '60');
        assert.equal(refused.headers['x-admin-protocol'], ADMIN_PROTOCOL);
        if (binding === 'asn1') assert.equal(refused.rawPayload.length, 0);
        else {
          const status = (refused.json() as { header: { functionExecutionStatus: { status: string; statusCodeData: { subjectCode: string; reasonCode: string } } } }).header.functionExecutionStatus;
          assert.equal(status.status, 'Failed');
          assert.deepEqual([status.statusCodeData.subjectCode, status.statusCodeData.reasonCode], [ESIPA_LIMITED_STATUS.subjectCode, ESIPA_LIMITED_STATUS.reasonCode]);
        }
        assert.equal(lookups, 3, 'the refused request never reached the store');
        assert.deepEqual(limited, [['rate', '192.0.2.7']]);
        // Another source is admitted; two addresses of one IPv6 /64 are one source.
        assert.equal((await poll(s, binding, '192.0.2.8')).statusCode, 200);
        for (let i = 0; i < 3; i++) assert.equal((await poll(s, binding, `2001:db8:1:2::${i + 1}`)).statusCode, 200);
        assert.equal((await poll(s, binding, '2001:db8:1:2:ffff::9')).statusCode, 429);
        assert.equal((await poll(s, binding, '2001:db8:1:3::1')).statusCode, 200);
        now += 60_000;
        assert.equal((await poll(s, binding, '192.0.2.7')).statusCode, 200);
      } finally {
        local.store.getDevice = getDevice;
        await s.app.close();
      }
    });

    it(`${binding}: a request beyond the concurrency cap is answered 503; the place is free again once the first is answered`, async () => {
      const s = createEimServer({
        eimId: local.ctx.eimId,
        keyring: local.ctx.keys,
        trustedCis: [issueTestPki().ci.der],
        store: local.store,
        tls,
        esipaLimits: { maxConcurrentRequests: 1 },
      });
      const getDevice = local.store.getDevice.bind(local.store);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      local.store.getDevice = async (eid) => {
        entered();
        await held;
        return getDevice(eid);
      };
      try {
        const first = poll(s, binding, '192.0.2.20');
        await inside;
        const busy = await poll(s, binding, '192.0.2.21');
        assert.equal(busy.statusCode, 503);
        assert.equal(busy.headers['retry-after'], '1');
        release();
        assert.equal((await first).statusCode, 200);
        local.store.getDevice = getDevice;
        assert.equal((await poll(s, binding, '192.0.2.21')).statusCode, 200);
      } finally {
        local.store.getDevice = getDevice;
        await s.app.close();
      }
    });
  }

  it('hideUnknownEids: an unknown EID gets noEimPackageAvailable (1), as a registered one without a package; an EID that is not one is still invalidEid', async () => {
    const s = createEimServer({ eimId: local.ctx.eimId, keyring: local.ctx.keys, trustedCis: [issueTestPki().ci.der], store: local.store, tls, hideUnknownEids: true });
    try {
      for (const binding of ['asn1', 'json'] as const) {
        assert.equal(packageError(binding, (await poll(s, binding, '192.0.2.30')).rawPayload), EimPackageError.noEimPackageAvailable);
        assert.equal(packageError(binding, (await poll(s, binding, '192.0.2.30', '89049032123451234512345678901299')).rawPayload), EimPackageError.invalidEid);
      }
    } finally {
      await s.app.close();
    }
  });

  it('the limits: defaults, each given one replacing its default, out of range refused; `mcim eim serve` options parsed into them', () => {
    assert.deepEqual(esipaLimits(), DEFAULT_ESIPA_LIMITS);
    assert.deepEqual(esipaLimits({ windowMs: 1_000 }), { ...DEFAULT_ESIPA_LIMITS, windowMs: 1_000 });
    assert.throws(() => esipaLimits({ maxSources: 0 }), (e) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
    assert.deepEqual(eimServeLimits({}), { esipaLimits: {} });
    assert.deepEqual(
      eimServeLimits({ esipaRate: '10', esipaWindow: '1000', esipaSources: '50', esipaConcurrency: '0', contactInterval: '5000', hideUnknownEids: true }),
      { esipaLimits: { maxRequestsPerSource: 10, windowMs: 1_000, maxSources: 50, maxConcurrentRequests: 0 }, contactIntervalMs: 5_000, hideUnknownEids: true },
    );
    assert.throws(() => eimServeLimits({ esipaSources: '0' }), /--esipa-sources/);
    assert.throws(() => eimServeLimits({ contactInterval: 'soon' }), /--contact-interval/);
  });
});
