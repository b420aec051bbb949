// The fleet store's leases (src/store/eimFleetStore.ts claimDue, issue 10) on SQLite and PostgreSQL: due targets leased in rounds of a bounded size, each target to one claimer, by primary key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { makeEid } from '../../src/pki/eid.js';
import { openDatabase } from '../../src/store/database.js';
import { EimFleetStore } from '../../src/store/eimFleetStore.js';
import { EimStore } from '../../src/store/eimStore.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { ENGINES, freshDatabase } from '../auc/harness.js';

for (const engine of ENGINES) {
  describe(`eIM fleet store on ${engine}`, () => {
    it('claimDue leases 250 due targets of two operations in rounds of at most 100, each once, two claimers at once never sharing one; none again until the leases lapse', async () => {
      const fresh = freshDatabase(engine);
      const db = await openDatabase(fresh.config);
      const db2 = await openDatabase(fresh.config);
      try {
        const devices = new EimStore(db);
        const cert = Buffer.alloc(16);
        const eids = Array.from({ length: 125 }, (_, i) => makeEid('89049032', String(i).padStart(22, '0')));
        for (const eid of eids) await devices.registerDevice({ eid, eimId: 'eim', euiccCertificate: cert, eumCertificate: cert, ciKeyId: '00', associationToken: 1 }, 0);
        const box = new SecretBox(randomBytes(32));
        const kind = engine === 'SQLite' ? 'sqlite' : 'postgres';
        const fleet = new EimFleetStore(db, box, kind);
        const other = new EimFleetStore(db2, box, kind);
        await fleet.createOperation('listProfiles', {}, eids, 10);
        await fleet.createOperation('listProfiles', {}, eids.slice(0, 125), 10);
        const seen = new Set<string>();
        let claims = 0;
        for (;;) {
          const [a, b] = await Promise.all([fleet.claimDue(20, 100, 60_000), other.claimDue(20, 100, 60_000)]);
          assert.ok(a.length <= 100 && b.length <= 100);
          if (a.length + b.length === 0) break;
          for (const t of [...a, ...b]) {
            const key = `${t.operationId}:${t.eid}`;
            assert.ok(!seen.has(key), `${key} leased twice`);
            seen.add(key);
          }
          assert.ok(++claims <= 3, 'at most 3 rounds of 2 claims for 250 targets');
        }
        assert.equal(seen.size, 250);
        // The leases hold: nothing is due again before they lapse, everything is once they have.
        assert.equal((await fleet.claimDue(30, 100, 60_000)).length, 0);
        assert.equal((await fleet.claimDue(60_021, 300, 60_000)).length, 250);
      } finally {
        await db.destroy();
        await db2.destroy();
        await fresh.drop();
      }
    });
  });
}
