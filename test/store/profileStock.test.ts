// Profile stock (src/store/profileStock.ts, src/smdpp/generateProfiles.ts) on SQLite and PostgreSQL: envelope encryption
// (nothing readable without the KEK, a wrong KEK is KEK_MISMATCH), profile types, batched stock with conflicts refused
// before or rolled back within a batch, counts without secrets, the atomic claim under concurrent claimers, paged export.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { McimError } from '../../src/errors.js';
import { addProfileType } from '../../src/smdpp/addProfileType.js';
import { generateStock, type SubscriberSecrets } from '../../src/smdpp/generateProfiles.js';
import { readPersonalizedContents } from '../../src/smdpp/personalizeProfile.js';
import { openDatabase, type Database, type DatabaseConfig } from '../../src/store/database.js';
import { ProfileStock } from '../../src/store/profileStock.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { readFixture } from '../helpers/fixtures.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

const NOW = 1_700_000_000_000;
const OP = '63bfa50ee6523365ff14c1f45f88737d';
const TEMPLATE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const dir = mkdtempSync(join(tmpdir(), 'mcim-stock-'));
const pgSchema = `mcim_stock_${process.pid}_${randomBytes(4).toString('hex')}`;

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

const ENGINES: readonly { name: string; config: DatabaseConfig }[] = [
  { name: 'SQLite', config: { engine: 'sqlite', file: join(dir, 'stock.sqlite') } },
  { name: 'PostgreSQL', config: { engine: 'postgres', connectionString: PG_URL, schema: pgSchema } },
];

function code(c: string): (e: unknown) => boolean {
  return (e) => e instanceof McimError && e.code === c;
}

/** Every byte of every stored row, as hex, to look for secrets in. */
async function rawRows(db: Database): Promise<string> {
  const parts: string[] = [];
  for (const table of ['stock_data_keys', 'stock_profile_types', 'stock_profiles']) {
    const rows = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(table)}`.execute(db)).rows;
    for (const r of rows) for (const v of Object.values(r)) parts.push(Buffer.isBuffer(v) ? v.toString('hex') : Buffer.from(String(v)).toString('hex'));
  }
  return parts.join('|');
}

for (const engine of ENGINES) {
  describe(`profile stock on ${engine.name}`, () => {
    const kek = new SecretBox(randomBytes(32));
    let db: Database;

    it('a profile type is stored with its template and secret rules sealed; its name is unique', async () => {
      db = await openDatabase(engine.config);
      const stock = new ProfileStock(db, kek);
      const added = await addProfileType(stock, { name: 'iot-m', operator: 'op1', template: TEMPLATE, rules: { op: OP, iccidPrefix: '8988', imsiPrefix: '00101', codes: { adm1: '13572468' } } }, NOW);
      assert.equal(added.rules.algorithm, 'milenage');
      await assert.rejects(addProfileType(stock, { name: 'iot-m', operator: 'op1', template: TEMPLATE, rules: { op: OP } }, NOW), code('PROFILE_TYPE_EXISTS'));
      await assert.rejects(addProfileType(stock, { name: 'bad name!', operator: 'op1', template: TEMPLATE, rules: { op: OP } }, NOW), code('INVALID_ARGUMENT'));
      const listed = await stock.listTypes();
      assert.deepEqual(listed.map((t) => t.name), ['iot-m']);
      assert.ok(!JSON.stringify(listed).includes(OP) && !JSON.stringify(listed).includes('13572468'), 'listing shows no OP and no fixed code');
      const opened = await stock.openType('iot-m');
      assert.equal((JSON.parse(opened.secretRules) as { op: string }).op, OP);
      const raw = await rawRows(db);
      assert.ok(!raw.includes(Buffer.from(OP).toString('hex')) && !raw.includes(OP), 'the OP is sealed');
      assert.ok(!raw.includes(TEMPLATE.subarray(200, 260).toString('hex')), 'the template is sealed');
      await assert.rejects(stock.openType('nope'), code('NOT_FOUND'));
    });

    it('generates profiles in batches with progress, all sealed; the stock shows counts only', async () => {
      const stock = new ProfileStock(db, kek);
      const progress: number[] = [];
      const r = await generateStock(stock, 'iot-m', { count: 120, iccidStart: '898800000000000100', imsiStart: '001010000000100' }, NOW, (p) => progress.push(p.done));
      assert.equal(r.count, 120);
      assert.deepEqual(progress, [120]);
      assert.deepEqual(await stock.counts(), [{ profileType: 'iot-m', operator: 'op1', state: 'available', count: 120 }]);
      const subscribers = [];
      for await (const s of stock.subscribers('op1')) subscribers.push({ ...s, x: JSON.parse(s.secrets.toString()) as SubscriberSecrets });
      assert.equal(subscribers.length, 120);
      assert.equal(subscribers[0]!.iccid, r.firstIccid);
      const raw = await rawRows(db);
      for (const s of subscribers.slice(0, 20)) {
        assert.ok(!raw.includes(s.x.k) && !raw.includes(Buffer.from(s.x.k).toString('hex')), 'K is sealed');
        assert.ok(!raw.includes(s.x.opc), 'OPc is sealed');
        assert.equal(s.x.codes.adm1, '13572468');
      }
    });

    it('ranges overlapping the stock are refused before anything is written; a duplicate inside a batch rolls the batch back', async () => {
      const stock = new ProfileStock(db, kek);
      await assert.rejects(generateStock(stock, 'iot-m', { count: 10, iccidStart: '898800000000000210', imsiStart: '001010000000900' }, NOW), code('STOCK_CONFLICT'));
      await assert.rejects(generateStock(stock, 'iot-m', { count: 10, iccidStart: '898800000000009000', imsiStart: '001010000000210' }, NOW), code('STOCK_CONFLICT'));
      const pkg = { package: Buffer.from('p'), secrets: Buffer.from('{}') };
      await assert.rejects(
        stock.addProfiles('iot-m', 'op1', [{ iccid: '1', imsi: '001019999999991', ...pkg }, { iccid: '2', imsi: '001010000000100', ...pkg }], NOW),
        code('STOCK_CONFLICT'),
      );
      assert.equal((await stock.counts())[0]!.count, 120);
    });

    it('without the right KEK nothing opens: KEK_MISMATCH', async () => {
      const wrong = new ProfileStock(db, new SecretBox(randomBytes(32)));
      await assert.rejects(wrong.openType('iot-m'), code('KEK_MISMATCH'));
      await assert.rejects(wrong.claim('iot-m', NOW), code('KEK_MISMATCH'));
      await assert.rejects(wrong.claim('nope', NOW), code('NOT_FOUND'));
      await assert.rejects(async () => {
        for await (const s of wrong.subscribers('op1')) assert.fail(`opened ${s.iccid}`);
      }, code('KEK_MISMATCH'));
      await assert.rejects(generateStock(wrong, 'iot-m', { count: 1, iccidStart: '898800000000090000', imsiStart: '001010000090000' }, NOW), code('KEK_MISMATCH'));
    });

    it('claims take each available profile once, lowest ICCID first, even from concurrent claimers on separate connections', async () => {
      const claimers = await Promise.all([0, 1, 2].map(() => openDatabase(engine.config)));
      try {
        const first = await new ProfileStock(db, kek).claim('iot-m', NOW);
        assert.equal(first?.iccid, '8988000000000001006', 'the lowest ICCID, not taken by the claimer with the wrong KEK');
        const back = readPersonalizedContents(first!.package);
        assert.equal(back.iccid, first!.iccid);
        assert.equal(back.imsi, first!.imsi);
        const stocks = claimers.map((c) => new ProfileStock(c, kek));
        const results = await Promise.all(Array.from({ length: 150 }, (_, i) => stocks[i % 3]!.claim('iot-m', NOW)));
        const taken = results.filter((r) => r !== undefined).map((r) => r.iccid);
        assert.equal(taken.length, 119);
        assert.equal(new Set(taken).size, 119, 'no profile is claimed twice');
        assert.ok(!taken.includes(first!.iccid));
        assert.deepEqual(await new ProfileStock(db, kek).counts(), [{ profileType: 'iot-m', operator: 'op1', state: 'allocated', count: 120 }]);
        assert.equal(await stocks[0]!.claim('iot-m', NOW), undefined);
      } finally {
        await Promise.all(claimers.map((c) => c.destroy()));
      }
    });

    it("a sealed value moved to another row does not open: TAMPERED", async () => {
      const stock = new ProfileStock(db, kek);
      await addProfileType(stock, { name: 'swap', operator: 'op3', template: TEMPLATE, rules: { op: OP } }, NOW);
      const row = (iccid: string, imsi: string): { iccid: string; imsi: string; package: Buffer; secrets: Buffer } => ({ iccid, imsi, package: Buffer.from(`package ${iccid}`), secrets: Buffer.from(`{"k":"${iccid}"}`) });
      await stock.addProfiles('swap', 'op3', [row('7000000000000000001', '777770000000001'), row('7000000000000000002', '777770000000002')], NOW);
      const first = await db.withTables<{ stock_profiles: { iccid: string; secrets_sealed: Buffer } }>().selectFrom('stock_profiles').select('secrets_sealed').where('iccid', '=', '7000000000000000001').executeTakeFirstOrThrow();
      await db.withTables<{ stock_profiles: { iccid: string; secrets_sealed: Buffer } }>().updateTable('stock_profiles').set({ secrets_sealed: first.secrets_sealed }).where('iccid', '=', '7000000000000000002').execute();
      await assert.rejects(async () => {
        for await (const s of stock.subscribers('op3')) assert.equal(s.secrets.toString(), `{"k":"${s.iccid}"}`);
      }, code('TAMPERED'));
    });

    it('the export reads pages: more subscribers than one page, in ICCID order', async () => {
      const stock = new ProfileStock(db, kek);
      await addProfileType(stock, { name: 'bulk', operator: 'op2', template: TEMPLATE, rules: { op: OP } }, NOW);
      const rows = Array.from({ length: 1100 }, (_, i) => ({ iccid: `9${String(i).padStart(18, '0')}`, imsi: `99999${String(i).padStart(10, '0')}`, package: Buffer.from('x'), secrets: Buffer.from(`{"n":${i}}`) }));
      await stock.addProfiles('bulk', 'op2', rows, NOW);
      let n = 0;
      for await (const s of stock.subscribers('op2')) {
        assert.equal(s.iccid, rows[n]!.iccid);
        assert.equal(JSON.parse(s.secrets.toString()).n, n);
        n++;
      }
      assert.equal(n, 1100);
      await db.destroy();
    });
  });
}
