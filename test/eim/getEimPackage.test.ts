// SGP.32 v1.2 5.14.7 GetEimPackage (src/eim/getEimPackage.ts) on both engines: repeated polls record the device's last contact once per contact
// interval (the conditional UPDATE changes no row in between), a notifyStateChange is always recorded; hideUnknownEids answers an unknown EID as
// a registered one without a package.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EimPackageError } from '../../src/asn1/definitions/sgp32.js';
import { eimContext } from '../../src/eim/context.js';
import { getEimPackage } from '../../src/eim/getEimPackage.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { makeEid } from '../../src/pki/eid.js';
import { issueTestPki } from '../../src/pki/testPki.js';
import { ENGINES, openTestEim } from './harness.js';

for (const engine of ENGINES) {
  describe(`GetEimPackage on ${engine}`, () => {
    it('repeated polls write the last contact once per interval; a state change is written at once', async () => {
      const pki = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        let now = Date.now();
        const ctx = eimContext({ eimId: eim.ctx.eimId, keyring: eim.ctx.keys, trustedCis: [pki.ci.der], store: eim.store, now: () => now, contactIntervalMs: 60_000 });
        await registerDevice(ctx, { euiccCertificate: pki.euicc.der, eumCertificate: pki.eum.der, associationToken: 1 });
        const eidValue = Buffer.from(pki.eid, 'hex');
        const contact = async (): Promise<number | undefined> => (await eim.store.getDevice(pki.eid))!.lastContactAt;
        assert.equal(await contact(), undefined);
        assert.deepEqual(await getEimPackage(ctx, { eidValue }), { eimPackageError: EimPackageError.noEimPackageAvailable });
        const first = now;
        assert.equal(await contact(), first);
        // Polls within the interval: the row keeps the first contact (and the store says it wrote nothing).
        for (let i = 0; i < 5; i++) {
          now += 10_000;
          await getEimPackage(ctx, { eidValue });
          assert.equal(await contact(), first);
        }
        assert.equal(await eim.store.touch(pki.eid, now, 60_000), false);
        now = first + 60_000;
        await getEimPackage(ctx, { eidValue });
        assert.equal(await contact(), now);
        assert.equal(await eim.store.touch(pki.eid, now + 1, 60_000), false);
        // A state change is recorded within the interval.
        now += 1_000;
        await getEimPackage(ctx, { eidValue, notifyStateChange: null, stateChangeCause: 2 });
        assert.equal(await contact(), now);
        // Interval 0: every poll writes.
        const every = eimContext({ eimId: eim.ctx.eimId, keyring: eim.ctx.keys, trustedCis: [pki.ci.der], store: eim.store, now: () => now, contactIntervalMs: 0 });
        now += 1;
        await getEimPackage(every, { eidValue });
        assert.equal(await contact(), now);
        assert.throws(() => eimContext({ eimId: 'x', keyring: eim.ctx.keys, trustedCis: [pki.ci.der], store: eim.store, contactIntervalMs: -1 }), /contact interval/);
      } finally {
        await eim.close();
      }
    });

    it('hideUnknownEids: an unknown EID answered noEimPackageAvailable; by default eidNotFound', async () => {
      const pki = issueTestPki();
      const eim = await openTestEim(engine, [pki.ci.der]);
      try {
        const eidValue = Buffer.from(makeEid('89049032', '7'.repeat(22)), 'hex');
        assert.deepEqual(await getEimPackage(eim.ctx, { eidValue }), { eimPackageError: EimPackageError.eidNotFound });
        const hiding = eimContext({ eimId: eim.ctx.eimId, keyring: eim.ctx.keys, trustedCis: [pki.ci.der], store: eim.store, hideUnknownEids: true });
        assert.deepEqual(await getEimPackage(hiding, { eidValue }), { eimPackageError: EimPackageError.noEimPackageAvailable });
      } finally {
        await eim.close();
      }
    });
  });
}
