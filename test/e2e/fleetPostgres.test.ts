// End to end on PostgreSQL (issue 10 "Fleet operations"; SGP.32 v1.2 3.2.1, 3.4, 3.5): two eIM services (data directories copied from one, each its
// own database handle, engine and HTTPS port) on one PostgreSQL schema, started at once on the new schema. The fleet scenario of test/e2e/fleet.test.ts
// with the devices' IPAd cycles alternating between the two eIMs and both engines advancing the same operations: every device's packages issued
// once per step, counters strictly increasing, every one completed; two claimers lease disjoint targets and neither writes a target the other holds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initEimDataDir, type EimDataDir } from '../../src/eim/dataDir.js';
import { openEimService, type EimService } from '../../src/eim/service.js';
import { postgresConfig } from '../../src/store/database.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';
import { EIM_HOST, FleetScenario, SMDP_ADDRESS } from './fleetScenario.js';

const FLEET = 4;
const schema = `mcim_fleet_${process.pid}_${randomBytes(3).toString('hex')}`;

describe('fleet operations on PostgreSQL, two eIMs on one schema', () => {
  let smdp: DataDirSmdp;
  let eims: EimService[] = [];
  let fleet: FleetScenario;
  const internalErrors: unknown[] = [];

  before(async () => {
    smdp = await startDataDirSmdp('mcim-fleet-pg-', SMDP_ADDRESS);
    fleet = new FleetScenario(smdp);
    const first = initEimDataDir(join(smdp.tmp, 'eim-1'), { eimId: 'eim-fleet', address: EIM_HOST, cis: [join(smdp.data.pkiDirs.p256!, 'ci.der')] });
    cpSync(first.dir, join(smdp.tmp, 'eim-2'), { recursive: true });
    const dirs: EimDataDir[] = [first, initEimDataDir(join(smdp.tmp, 'eim-2'))];
    const database = postgresConfig(`${PG_URL}?schema=${schema}`);
    // Both at once on the new schema: one migrates it, one makes the first eIM key.
    eims = await Promise.all(
      dirs.map((data) => openEimService({ data, database, engine: { intervalMs: 20, backoffMs: 20, maxAttempts: 3 }, onInternalError: (e) => internalErrors.push(e) })),
    );
    const ports = await Promise.all(eims.map((svc) => svc.listen('127.0.0.1', 0)));
    const ca = readFileSync(first.tlsCaFile, 'utf8');
    fleet.svc = eims[0]!;
    fleet.client = { api: `https://${EIM_HOST}`, token: first.token, ca, connect: { host: '127.0.0.1', port: ports[0]! } };
    fleet.eimHttp = ports.map((port) => ({ ca: [ca], connect: { host: '127.0.0.1', port } }));
  });

  after(async () => {
    for (const svc of eims) await svc.close();
    await smdp.close();
    await dropSchema(schema);
    assert.deepEqual(internalErrors, []);
  });

  it('both eIMs hold the same one first key', async () => {
    const keys = await Promise.all(eims.map(async (svc) => (await svc.fleet.keys()).map((k) => k.generation)));
    assert.deepEqual(keys, [[1], [1]]);
    assert.deepEqual(eims.map((svc) => svc.ctx.keys.publicKey(1).spki.toString('hex')), [0, 0].map(() => eims[0]!.ctx.keys.publicKey(1).spki.toString('hex')));
  });

  for (const [binding, format] of [
    ['asn1', 'jsonl'],
    ['json', 'csv'],
  ] as const) {
    it(`${binding} binding: ${FLEET} devices registered, provisioned with A, listed, switched to B with rollback, A deleted, eIM key rotated, over both eIMs`, async () => {
      await fleet.provisionSwitchRotate(binding, format, FLEET, `pg-${binding}`);
    });
  }

  it('two claimers at once lease disjoint targets; a target leased by one is not written by the other', async () => {
    for (const svc of eims) await svc.engine.stop();
    const [a, b] = eims.map((svc) => svc.fleet) as [EimService['fleet'], EimService['fleet']];
    const eids = await a.eidsWithTag('pg-asn1');
    const now = Date.now();
    const op = await a.createOperation('listProfiles', {}, eids, now);
    const [mine, theirs] = await Promise.all([a.claimDue(now, 3, 60_000), b.claimDue(now, 3, 60_000)]);
    const leased = [...mine!, ...theirs!].filter((t) => t.operationId === op.id).map((t) => t.eid);
    assert.deepEqual([...leased].sort(), [...eids].sort(), 'every target leased once');
    const [held, other] = mine!.length > 0 ? [mine!, b] : [theirs!, a];
    const stolen = { ...held[0]!, leaseToken: 'f'.repeat(24) };
    assert.equal(await other.saveTarget(stolen, { state: 'done', step: 1, data: {}, eimTransactionId: undefined, attempts: 0, nextAt: now }, now, 60_000), false);
    assert.equal(await other.saveTarget(held[0]!, { state: 'running', step: 0, data: {}, eimTransactionId: undefined, attempts: 0, nextAt: now + 60_000 }, now, 60_000), true);
    assert.deepEqual(await b.claimDue(now, 10, 60_000), [], 'nothing is due while the leases hold');
  });
});
