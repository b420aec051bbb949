// The SM-DP+ store on SQLite (temp file, WAL) and PostgreSQL (127.0.0.1:5432/test, one schema per run): states, sealing, atomic counters.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { McimError } from '../../src/errors.js';
import { openDatabase, type DatabaseConfig, type McimTables, type OrderState } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrations.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore, type NewOrder } from '../../src/store/smdpStore.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

const NOW = 1_700_000_000_000;

function newOrder(matchingId: string, extra: Partial<NewOrder> = {}): NewOrder {
  return {
    matchingId,
    iccid: '8949449999999990049',
    profileName: 'Test',
    serviceProviderName: 'mcim',
    profileClass: 2,
    profilePackage: Buffer.from('a0 secret K and OPc'.repeat(20)),
    ...extra,
  };
}

async function session(store: SmdpStore, id: string, expiresAt = NOW + 60_000): Promise<void> {
  await store.sessions.create({ transactionId: id, curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt }, NOW);
}

interface Engine {
  readonly name: string;
  open(): Promise<{ store: SmdpStore; dispose: () => Promise<void> }>;
}

const dir = mkdtempSync(join(tmpdir(), 'mcim-store-'));
const box = SecretBox.fromKeyFile(join(dir, 'secret.key'));
const pgSchema = `mcim_test_${process.pid}_${randomBytes(4).toString('hex')}`;

const ENGINES: Engine[] = [
  {
    name: 'SQLite',
    async open() {
      const file = join(dir, 'store.sqlite');
      const store = new SmdpStore(await openDatabase({ engine: 'sqlite', file }), box);
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const config: DatabaseConfig = { engine: 'postgres', connectionString: PG_URL, schema: pgSchema, maxConnections: 8 };
      const store = new SmdpStore(await openDatabase(config), box);
      return { store, dispose: () => store.close() };
    },
  },
];

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

describe('SecretBox', () => {
  it('creates a 32-byte key file with mode 600 and rejects altered data or another row', () => {
    const path = join(dir, 'box.key');
    const a = SecretBox.fromKeyFile(path);
    assert.equal(readFileSync(path).length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const sealed = a.seal(Buffer.from('K and OPc'), 'row-1');
    assert.equal(SecretBox.fromKeyFile(path).open(sealed, 'row-1').toString(), 'K and OPc');
    assert.throws(() => a.open(sealed, 'row-2'), (e: unknown) => e instanceof McimError && e.code === 'TAMPERED');
    sealed[20]! ^= 1;
    assert.throws(() => a.open(sealed, 'row-1'), (e: unknown) => e instanceof McimError && e.code === 'TAMPERED');
    // The same key written as hex (as `--at-rest-key-file` accepts it) opens what the raw file sealed; a short file is refused.
    const hexPath = join(dir, 'box-hex.key');
    writeFileSync(hexPath, `${readFileSync(path).toString('hex')}\n`);
    assert.equal(SecretBox.fromKeyFile(hexPath).open(a.seal(Buffer.from('OPc'), 'row-3'), 'row-3').toString(), 'OPc');
    writeFileSync(hexPath, 'short');
    assert.throws(() => SecretBox.fromKeyFile(hexPath), (e: unknown) => e instanceof McimError && e.code === 'INVALID_KEY_FILE');
  });
});

/** The schema holds kysely's migration tables and every table of the store. */
async function assertMigrated(client: pg.Client, schema: string): Promise<void> {
  const tables = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
  assert.deepEqual(
    tables.rows.map((r: { table_name: string }) => r.table_name),
    ['auc_data_keys', 'auc_hn_keys', 'auc_pending_authentications', 'auc_subscribers', 'eim_device_tags', 'eim_devices', 'eim_fleet_operations', 'eim_fleet_targets', 'eim_forwards', 'eim_keys', 'eim_packages', 'eim_received', 'eim_relays', 'es2_operator_certificates', 'es2_operators', 'es2_progress_outbox', 'kysely_migration', 'kysely_migration_lock', 'smdp_audit_log', 'smdp_lockouts', 'smdp_notifications', 'smdp_order_packages', 'smdp_orders', 'smdp_sessions', 'stock_data_keys', 'stock_profile_types', 'stock_profiles'],
  );
}

describe('PostgreSQL schemas', () => {
  it('migrates a new schema while another schema already holds kysely\'s migration tables', async () => {
    const other = `${pgSchema}_other`;
    const mine = `${pgSchema}_mine`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${other}`);
      await client.query(`CREATE TABLE ${other}.kysely_migration (name text)`);
      await client.query(`CREATE TABLE ${other}.kysely_migration_lock (id text)`);
      const db = await openDatabase({ engine: 'postgres', connectionString: PG_URL, schema: mine });
      try {
        await assertMigrated(client, mine);
      } finally {
        await db.destroy();
      }
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${other} CASCADE`);
      await client.query(`DROP SCHEMA IF EXISTS ${mine} CASCADE`);
      await client.end();
    }
  });

  // Several servers (or a server and a CLI command) starting on one new schema: CREATE SCHEMA IF NOT EXISTS run at once
  // fails in all but one with a unique violation on pg_namespace. Five rounds of four pools, as four processes.
  it('four opens of one new schema at once all succeed, the migrations run once', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = `${pgSchema}_fresh${round}`;
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase({ engine: 'postgres', connectionString: PG_URL, schema, maxConnections: 2 })));
      try {
        assert.deepEqual(
          opened.flatMap((o) => (o.status === 'rejected' ? [String((o.reason as Error).message)] : [])),
          [],
        );
        const db = (opened[0] as PromiseFulfilledResult<Kysely<McimTables>>).value;
        const executed = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(schema)}.kysely_migration`.execute(db);
        assert.equal(Number(executed.rows[0]?.n), Object.keys(migrations('postgres')).length);
      } finally {
        await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.destroy() : undefined)));
        await dropSchema(schema);
      }
    }
  });
});

describe('PostgreSQL default schema', () => {
  it('migrates the connection\'s current schema while another schema holds kysely\'s migration tables', async () => {
    // A scratch database, so that its public schema is this test's alone.
    const database = `mcim_scratch_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      const url = PG_URL.replace(/\/test$/, `/${database}`);
      const tenant = await openDatabase({ engine: 'postgres', connectionString: url, schema: 'tenant_a' });
      await tenant.destroy();
      const db = await openDatabase({ engine: 'postgres', connectionString: url });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await assertMigrated(client, 'public');
      } finally {
        await client.end();
        await db.destroy();
      }
    } finally {
      // The pools' sockets close after destroy() resolves: wait for their backends to go instead of killing them.
      for (let i = 0; i < 100; i++) {
        const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [database]);
        if (rows[0]?.n === '0') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
    }
  });

  it('survives the server ending its idle connections: the pool reconnects, the process does not crash', async () => {
    const schema = `mcim_term_${process.pid}_${randomBytes(3).toString('hex')}`;
    const db = await openDatabase({ engine: 'postgres', connectionString: PG_URL, schema, maxConnections: 2 });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
      const pid = rows[0]!.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      for (let i = 0; i < 100; i++) {
        const alive = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
        if (alive.rowCount === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // Let the pool see the ended idle connection (its 'error' event), then query through a new one.
      await new Promise((r) => setTimeout(r, 50));
      const after = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
      assert.equal(after.rows[0]?.one, 1);
    } finally {
      await db.destroy();
      await admin.end();
      await dropSchema(schema);
    }
  });
});

describe('a new SQLite database opened by several processes at once', () => {
  // Each open has its own connection, as separate processes have; without the migration lock file they all run the
  // migrations and all but one fail (MIGRATION_FAILED at 0001: the table exists).
  it('four opens of one new file all succeed, the migrations run once', async () => {
    const file = join(dir, `fresh-${randomBytes(4).toString('hex')}.sqlite`);
    const dbs = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ engine: 'sqlite', file })));
    try {
      const executed = await sql<{ n: number }>`SELECT count(*) AS n FROM kysely_migration`.execute(dbs[0]!);
      assert.equal(Number(executed.rows[0]?.n), Object.keys(migrations('sqlite')).length);
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
    }
  });
});

describe('migration 0003 on an existing database', () => {
  it('backfills the delivery EID of delivered orders from their session', async () => {
    const file = join(dir, 'legacy.sqlite');
    const legacy = new Kysely<McimTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    const all = migrations('sqlite');
    const old = { '0001_smdp': all['0001_smdp']!, '0002_smdp_orders_transaction_id': all['0002_smdp_orders_transaction_id']! };
    const { error } = await new Migrator({ db: legacy, provider: { getMigrations: () => Promise.resolve(old) } }).migrateToLatest();
    assert.equal(error, undefined);
    const order = (id: string, state: OrderState, tx: string | null): Record<string, unknown> => ({
      matching_id: id, iccid: '8949000000000000033', eid: null, cc_hash: null, state, error_reason: null, profile_name: 'p',
      service_provider_name: 's', profile_class: 2, package_sealed: Buffer.alloc(1), transaction_id: tx, created_at: NOW, updated_at: NOW,
    });
    await sql`INSERT INTO smdp_sessions (transaction_id, state, curve, ci_key_id, euicc_challenge, server_challenge, eid, expires_at, created_at)
      VALUES ('TX1', 'delivered', 'P-256', 'aa', ${Buffer.alloc(16)}, ${Buffer.alloc(16)}, 'OWNER', ${NOW}, ${NOW})`.execute(legacy);
    for (const o of [order('M1', 'installed', 'TX1'), order('M2', 'released', null)]) {
      await legacy.insertInto('smdp_orders').values(o as never).execute();
    }
    await legacy.destroy();
    const store = new SmdpStore(await openDatabase({ engine: 'sqlite', file }), box);
    try {
      assert.equal((await store.orders.get('M1'))?.deliveredEid, 'OWNER');
      assert.equal((await store.orders.get('M2'))?.deliveredEid, undefined);
    } finally {
      await store.close();
    }
  });
});

describe('migration 0004 on an existing database', () => {
  it('keeps existing orders reachable by matching ID (not EID-only) and sessions under one CI', async () => {
    const file = join(dir, 'legacy-0003.sqlite');
    const legacy = new Kysely<McimTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    const all = migrations('sqlite');
    const old = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0004'));
    assert.equal(Object.keys(old).length, 3);
    const { error } = await new Migrator({ db: legacy, provider: { getMigrations: () => Promise.resolve(old) } }).migrateToLatest();
    assert.equal(error, undefined);
    await sql`INSERT INTO smdp_sessions (transaction_id, state, curve, ci_key_id, euicc_challenge, server_challenge, expires_at, created_at)
      VALUES ('TX0', 'initiated', 'P-256', 'cc', ${Buffer.alloc(16)}, ${Buffer.alloc(16)}, ${NOW}, ${NOW})`.execute(legacy);
    await sql`INSERT INTO smdp_orders (matching_id, iccid, eid, state, profile_name, service_provider_name, profile_class, package_sealed, created_at, updated_at)
      VALUES ('OLD-ORDER', '8949000000000000041', '89049032100000000000000000000041', 'released', 'p', 's', 2, ${Buffer.alloc(1)}, ${NOW}, ${NOW})`.execute(legacy);
    await legacy.destroy();
    const store = new SmdpStore(await openDatabase({ engine: 'sqlite', file }), box);
    try {
      assert.equal((await store.orders.getByMatchingId('OLD-ORDER'))?.eidOnly, false);
      assert.equal(await store.orders.getEidOnly('89049032100000000000000000000041'), undefined);
      assert.equal((await store.sessions.get('TX0'))?.euiccCiKeyId, 'cc');
    } finally {
      await store.close();
    }
  });
});

describe('migration 0008 on an existing database', () => {
  it('moves each sealed package to smdp_order_packages and forgets retained packages (a retry binds afresh)', async () => {
    const file = join(dir, 'legacy-0007.sqlite');
    const legacy = new Kysely<McimTables>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) });
    const all = migrations('sqlite');
    const old = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0008'));
    assert.equal(Object.keys(old).length, 7);
    const { error } = await new Migrator({ db: legacy, provider: { getMigrations: () => Promise.resolve(old) } }).migrateToLatest();
    assert.equal(error, undefined);
    const profile = Buffer.from('profile package of OLD-8');
    const sealed = box.seal(profile, 'mcim:smdp_orders:OLD-8:package');
    await sql`INSERT INTO smdp_orders (matching_id, iccid, eid, state, profile_name, service_provider_name, profile_class, package_sealed, delivered_eid, bpp_sealed, bpp_euicc_otpk, created_at, updated_at)
      VALUES ('OLD-8', '8949000000000000058', 'E8', 'released', 'p', 's', 2, ${sealed}, 'E8', ${Buffer.alloc(12000, 7)}, ${Buffer.alloc(65, 4)}, ${NOW}, ${NOW})`.execute(legacy);
    await legacy.destroy();
    const store = new SmdpStore(await openDatabase({ engine: 'sqlite', file }), box);
    try {
      assert.ok((await store.orders.openPackage('OLD-8')).equals(profile));
      const found = await store.orders.getWithPackage('OLD-8');
      assert.ok(found?.openProfilePackage().equals(profile));
      assert.equal(found?.order.bppEuiccOtpk, undefined, 'no retry key without retained secrets');
      assert.equal(await store.orders.retainedBinding('OLD-8', 'E8', Buffer.alloc(65, 4)), undefined);
    } finally {
      await store.close();
    }
  });
});

for (const engine of ENGINES) {
  describe(`SmdpStore on ${engine.name}`, () => {
    let store: SmdpStore;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ store, dispose } = await engine.open());
    });
    after(async () => {
      await dispose();
    });

    it('stores orders with the package sealed at rest, refuses a duplicate matching ID', async () => {
      await store.orders.insert(newOrder('A1', { eid: '89049032100000000000000000000017', ccHash: Buffer.alloc(32, 1) }), NOW);
      const o = await store.orders.get('A1');
      assert.equal(o?.state, 'released');
      assert.equal(o?.eid, '89049032100000000000000000000017');
      assert.ok(o?.ccHash?.equals(Buffer.alloc(32, 1)));
      const raw = await store.db.selectFrom('smdp_order_packages').select('package_sealed').where('matching_id', '=', 'A1').executeTakeFirstOrThrow();
      assert.equal(Buffer.from(raw.package_sealed).includes(Buffer.from('OPc')), false);
      assert.ok((await store.orders.openPackage('A1')).equals(newOrder('A1').profilePackage));
      await assert.rejects(store.orders.insert(newOrder('A1'), NOW), (e: unknown) => e instanceof McimError && e.code === 'ORDER_EXISTS');
    });

    it('session life cycle: authenticate once, deliver once, PIR once', async () => {
      await store.orders.insert(newOrder('B1'), NOW);
      await session(store, 'T1');
      const auth = { eid: 'E', euiccCertificate: Buffer.from('cert'), matchingId: 'B1', smdpSignature2: Buffer.alloc(64) };
      assert.equal(await store.sessions.authenticate('T1', auth, NOW), true);
      assert.equal(await store.sessions.authenticate('T1', auth, NOW), false);
      assert.equal(await store.sessions.deliver('T1', 'B1', NOW), true);
      assert.equal(await store.sessions.deliver('T1', 'B1', NOW), false);
      assert.equal((await store.orders.get('B1'))?.state, 'downloaded');
      assert.equal(await store.notifications.recordInstallationResult('T1', 'E', 1, undefined, true, NOW), 'recorded');
      assert.equal(await store.notifications.recordInstallationResult('T1', 'E', 1, undefined, false, NOW), 'replayed');
      assert.equal((await store.orders.get('B1'))?.state, 'installed');
    });

    it('an expired session cannot be authenticated', async () => {
      await session(store, 'T2', NOW - 1);
      assert.equal(await store.sessions.authenticate('T2', { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'x', smdpSignature2: Buffer.alloc(1) }, NOW), false);
    });

    it('a failed delivery (order no longer released) rolls the session back', async () => {
      await store.orders.insert(newOrder('C1'), NOW);
      for (const id of ['T3', 'T4']) {
        await session(store, id);
        await store.sessions.authenticate(id, { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'C1', smdpSignature2: Buffer.alloc(1) }, NOW);
      }
      const results = await Promise.all([store.sessions.deliver('T3', 'C1', NOW), store.sessions.deliver('T4', 'C1', NOW)]);
      assert.deepEqual(results.filter(Boolean).length, 1, 'exactly one session delivers the profile');
      const states = [(await store.sessions.get('T3'))?.state, (await store.sessions.get('T4'))?.state].sort();
      assert.deepEqual(states, ['authenticated', 'delivered']);
    });

    it('confirmation code attempts are counted atomically under concurrency', async () => {
      await store.orders.insert(newOrder('D1', { ccHash: Buffer.alloc(32) }), NOW);
      const results = await Promise.all(Array.from({ length: 12 }, () => store.orders.recordCcFailure('D1', 3, NOW)));
      const counted = results.filter((r) => r !== undefined);
      assert.equal(counted.length, 3, 'only three failures are counted before the lock');
      assert.deepEqual(counted.map((r) => r!.attempts).sort(), [1, 2, 3]);
      assert.equal(counted.filter((r) => r!.locked).length, 1);
      const o = await store.orders.get('D1');
      assert.equal(o?.state, 'error');
      assert.equal(o?.ccAttempts, 3);
    });

    it('cancel keeps or fails the order by reason, once', async () => {
      await store.orders.insert(newOrder('E1'), NOW);
      await session(store, 'T5');
      await store.sessions.authenticate('T5', { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'E1', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.cancel('T5', 'error', 'rejected', NOW), true);
      assert.equal(await store.sessions.cancel('T5', 'error', 'rejected', NOW), false);
      assert.equal((await store.orders.get('E1'))?.state, 'error');
    });

    it('other notifications are recorded once; delete moves an installed order', async () => {
      await store.orders.insert(newOrder('F1', { iccid: '8949000000000000017' }), NOW);
      await store.db.updateTable('smdp_orders').set({ state: 'installed', delivered_eid: 'E9' }).where('matching_id', '=', 'F1').execute();
      assert.equal(await store.notifications.recordOther('E9', 7, 'delete', '8949000000000000017', NOW), 'recorded');
      assert.equal(await store.notifications.recordOther('E9', 7, 'delete', '8949000000000000017', NOW), 'replayed');
      assert.equal((await store.orders.get('F1'))?.state, 'deleted');
    });

    it('H2: delivery records the EID; notifications from another EID change and record nothing', async () => {
      await store.orders.insert(newOrder('G1', { iccid: '8949000000000000025' }), NOW);
      await session(store, 'T6');
      await store.sessions.authenticate('T6', { eid: 'OWNER', euiccCertificate: Buffer.alloc(1), matchingId: 'G1', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.deliver('T6', 'G1', NOW), true);
      assert.equal((await store.orders.get('G1'))?.deliveredEid, 'OWNER');
      assert.equal(await store.notifications.recordInstallationResult('T6', 'OWNER', 1, '8949000000000000025', true, NOW), 'recorded');
      assert.equal(await store.notifications.recordOther('THIEF', 1, 'delete', '8949000000000000025', NOW), 'foreign');
      assert.equal(await store.notifications.recordOther('THIEF', 2, 'disable', '8949000000000000025', NOW), 'foreign');
      assert.equal((await store.orders.get('G1'))?.state, 'installed');
      const recorded = await store.db.selectFrom('smdp_notifications').select('notification_key').where('eid', '=', 'THIEF').execute();
      assert.deepEqual(recorded, []);
      assert.equal(await store.notifications.recordOther('OWNER', 2, 'delete', '8949000000000000025', NOW), 'recorded');
      assert.equal((await store.orders.get('G1'))?.state, 'deleted');
    });

    it('H3: cancel after delivery re-releases the order bound to the delivering EID', async () => {
      await store.orders.insert(newOrder('H1'), NOW);
      await session(store, 'T7');
      await store.sessions.authenticate('T7', { eid: 'OWNER', euiccCertificate: Buffer.alloc(1), matchingId: 'H1', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.deliver('T7', 'H1', NOW), true);
      assert.equal(await store.sessions.cancel('T7', 'released', 'postponed', NOW), true);
      const o = await store.orders.get('H1');
      assert.deepEqual([o?.state, o?.eid], ['released', 'OWNER']);
      // Cancelled before delivery: released as it was, for any eUICC.
      await store.orders.insert(newOrder('H2'), NOW);
      await session(store, 'T8');
      await store.sessions.authenticate('T8', { eid: 'OWNER', euiccCertificate: Buffer.alloc(1), matchingId: 'H2', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.cancel('T8', 'released', 'postponed', NOW), true);
      const o2 = await store.orders.get('H2');
      assert.deepEqual([o2?.state, o2?.eid], ['released', undefined]);
    });

    it('M3: purgeSessions deletes expired sessions, keeps live ones and a delivering one awaiting its PIR; createSession purges every N', async () => {
      const later = NOW + 120_000;
      await store.orders.insert(newOrder('P1'), NOW);
      await session(store, 'P-DELIVERED');
      await store.sessions.authenticate('P-DELIVERED', { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'P1', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.deliver('P-DELIVERED', 'P1', NOW), true);
      await session(store, 'P-INITIATED');
      await session(store, 'P-CANCELLED');
      await store.sessions.setState('P-CANCELLED', ['initiated'], 'cancelled');
      await session(store, 'P-LIVE', later + 60_000);
      assert.ok((await store.sessions.purge(later)) >= 2);
      assert.equal(await store.sessions.get('P-INITIATED'), undefined);
      assert.equal(await store.sessions.get('P-CANCELLED'), undefined);
      assert.equal((await store.sessions.get('P-LIVE'))?.state, 'initiated');
      assert.equal((await store.sessions.get('P-DELIVERED'))?.state, 'delivered', 'the PIR is verified with this session');
      assert.equal(await store.notifications.recordInstallationResult('P-DELIVERED', 'E', 9, undefined, true, later), 'recorded');
      await store.sessions.purge(later);
      assert.equal(await store.sessions.get('P-DELIVERED'), undefined);
      assert.equal((await store.orders.get('P1'))?.deliveredEid, 'E');

      const frequent = new SmdpStore(store.db, box, { purgeSessionsEvery: 2 });
      await frequent.sessions.create({ transactionId: 'P-OLD', curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: NOW }, NOW);
      await frequent.sessions.create({ transactionId: 'P-NEW1', curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: later + 1 }, later);
      assert.equal(await store.sessions.get('P-OLD'), undefined, 'purged by the second insert');
      assert.equal((await store.sessions.get('P-NEW1'))?.state, 'initiated');
    });

    it('L6: the confirmation code hash is sealed at rest, bound to its order; a bare legacy hash stays readable', async () => {
      const cc = Buffer.alloc(32, 0x5a);
      await store.orders.insert(newOrder('L1', { ccHash: cc }), NOW);
      await store.orders.insert(newOrder('L2', { ccHash: cc }), NOW);
      const raw = async (id: string): Promise<string> =>
        (await store.db.selectFrom('smdp_orders').select('cc_hash').where('matching_id', '=', id).executeTakeFirstOrThrow()).cc_hash!;
      const sealed = await raw('L1');
      assert.equal(sealed.includes(cc.toString('hex')), false);
      assert.notEqual(sealed, await raw('L2'), 'no two orders store the same value for the same code');
      assert.ok((await store.orders.get('L1'))?.ccHash?.equals(cc));
      await store.db.updateTable('smdp_orders').set({ cc_hash: sealed }).where('matching_id', '=', 'L2').execute();
      await assert.rejects(store.orders.get('L2'), (e: unknown) => e instanceof McimError && e.code === 'TAMPERED');
      await store.db.updateTable('smdp_orders').set({ cc_hash: Buffer.alloc(32, 7).toString('hex') }).where('matching_id', '=', 'L2').execute();
      assert.ok((await store.orders.get('L2'))?.ccHash?.equals(Buffer.alloc(32, 7)));
    });

    it('an order looked up unless its EID or source is locked out: one statement, the lockout named, the order unread', async () => {
      const policy = { maxFailures: 1, windowMs: 60_000, lockoutMs: 60_000, maxLockoutMs: 600_000 };
      await store.orders.insert(newOrder('LOCK-ORDER'), NOW);
      const keys = ['eid:89049032100000000000000000000041', 'source:192.0.2.7'] as const;
      const open = await store.orders.getByMatchingIdUnlessLocked('LOCK-ORDER', keys, NOW);
      assert.equal(open.lockout, undefined);
      assert.equal(open.lockout === undefined ? open.order?.matchingId : undefined, 'LOCK-ORDER');
      const missing = await store.orders.getByMatchingIdUnlessLocked('NO-SUCH-ORDER', keys, NOW);
      assert.deepEqual(missing, { order: undefined });
      await store.lockouts.recordFailure('source:192.0.2.7', policy, NOW);
      const bySource = await store.orders.getByMatchingIdUnlessLocked('LOCK-ORDER', keys, NOW + 1);
      assert.deepEqual(bySource, { lockout: { key: 'source:192.0.2.7', lockedUntil: NOW + 60_000 } });
      await store.lockouts.recordFailure('eid:89049032100000000000000000000041', { ...policy, lockoutMs: 120_000 }, NOW + 2);
      const longest = await store.orders.getByMatchingIdUnlessLocked('NO-SUCH-ORDER', keys, NOW + 3);
      assert.deepEqual(longest, { lockout: { key: 'eid:89049032100000000000000000000041', lockedUntil: NOW + 2 + 120_000 } }, 'the longer lockout');
      const otherKeys = await store.orders.getByMatchingIdUnlessLocked('LOCK-ORDER', ['eid:89049032100000000000000000000058', 'source:192.0.2.8'], NOW + 3);
      assert.equal(otherKeys.lockout === undefined ? otherKeys.order?.matchingId : 'locked', 'LOCK-ORDER', 'other keys are not locked');
      const after = await store.orders.getByMatchingIdUnlessLocked('LOCK-ORDER', keys, NOW + 2 + 120_000);
      assert.equal(after.lockout, undefined, 'the lockouts end');
    });

    it('EID-only orders: found by EID (oldest released first), never by a presented matching ID; a matching ID never by EID', async () => {
      const eid = '89049032100000000000000000000025';
      await assert.rejects(store.orders.insert(newOrder('EO-NOEID', { eidOnly: true }), NOW), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
      assert.equal(await store.orders.get('EO-NOEID'), undefined);
      await store.orders.insert(newOrder('EO-WITH-MATCHING-ID', { eid }), NOW - 10);
      assert.equal(await store.orders.getEidOnly(eid), undefined, 'an order with a matching ID is not an EID-only order');
      await store.orders.insert(newOrder('eid-only:second', { eid, eidOnly: true }), NOW + 1);
      await store.orders.insert(newOrder('eid-only:first', { eid, eidOnly: true }), NOW);
      await store.orders.insert(newOrder('eid-only:other', { eid: '89049032100000000000000000000033', eidOnly: true }), NOW - 20);
      const first = await store.orders.getEidOnly(eid);
      assert.equal(first?.matchingId, 'eid-only:first');
      assert.equal(first?.eidOnly, true);
      assert.equal(await store.orders.getByMatchingId('eid-only:first'), undefined);
      assert.equal((await store.orders.getByMatchingId('EO-WITH-MATCHING-ID'))?.eidOnly, false);
      assert.equal((await store.orders.get('eid-only:first'))?.eid, eid);
      await session(store, 'EO-T1');
      await store.sessions.authenticate('EO-T1', { eid, euiccCertificate: Buffer.alloc(1), matchingId: 'eid-only:first', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.deliver('EO-T1', 'eid-only:first', NOW), true);
      assert.equal((await store.orders.getEidOnly(eid))?.matchingId, 'eid-only:second', 'a delivered order is no longer pending');
    });

    it('a session keeps its two CIs: the credential\'s and the eUICC chain\'s (euiccCiPKIdToBeUsed), the latter defaulting to the former', async () => {
      await store.sessions.create({ transactionId: 'CI-T1', curve: 'P-256', ciKeyId: 'aa', euiccCiKeyId: 'bb', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: NOW + 60_000 }, NOW);
      const s = await store.sessions.get('CI-T1');
      assert.deepEqual([s?.ciKeyId, s?.euiccCiKeyId], ['aa', 'bb']);
      await session(store, 'CI-T2');
      const t = await store.sessions.get('CI-T2');
      assert.deepEqual([t?.ciKeyId, t?.euiccCiKeyId], ['aa', 'aa']);
    });

    it('issue 7: order limits and StoreMetadata data round-trip; unreleased orders are released once', async () => {
      const owner = Buffer.from('8003 00f110'.replace(' ', ''), 'hex');
      await store.orders.insert(
        newOrder('I7-1', { released: false, expiresAt: NOW + 1000, maxDownloadAttempts: 2, profilePolicyRules: 0b110, profileOwner: owner, iconType: 1, icon: Buffer.from('png') }),
        NOW,
      );
      const o = await store.orders.get('I7-1');
      assert.deepEqual(
        [o?.state, o?.expiresAt, o?.maxDownloadAttempts, o?.downloadAttempts, o?.profilePolicyRules, o?.profileOwner, o?.iconType, o?.icon?.toString()],
        ['confirmed', NOW + 1000, 2, 0, 0b110, owner, 1, 'png'],
      );
      assert.equal(await store.orders.countDownloadAttempt('I7-1', NOW), 'unavailable', 'not counted before release');
      assert.equal(await store.orders.release('I7-1', NOW), true);
      assert.equal(await store.orders.release('I7-1', NOW), false);
      assert.equal(await store.orders.release('NO-SUCH', NOW), false);
      await store.orders.insert(newOrder('I7-2'), NOW);
      const plain = await store.orders.get('I7-2');
      assert.deepEqual([plain?.expiresAt, plain?.maxDownloadAttempts, plain?.profilePolicyRules, plain?.profileOwner, plain?.icon], [undefined, undefined, undefined, undefined, undefined]);
    });

    it('issue 7: download attempts are counted atomically under concurrency; the one past the limit puts the order in error', async () => {
      await store.orders.insert(newOrder('I7-3', { maxDownloadAttempts: 3 }), NOW);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.orders.countDownloadAttempt('I7-3', NOW)));
      assert.equal(results.filter((r) => r === 'counted').length, 3);
      assert.equal(results.filter((r) => r === 'exceeded').length, 1, 'exactly one attempt moves the order to error');
      const o = await store.orders.get('I7-3');
      assert.deepEqual([o?.state, o?.downloadAttempts, o?.errorReason], ['error', 3, 'maximum download attempts exceeded']);
      await store.orders.insert(newOrder('I7-4'), NOW);
      for (let i = 0; i < 5; i++) assert.equal(await store.orders.countDownloadAttempt('I7-4', NOW), 'counted', 'no limit set');
    });

    it('issue 7: the binding secrets are retained sealed for their one-time key only, kept on a kept cancel, dropped on error', async () => {
      const bpp = Buffer.from('binding secrets: shared secret, hostId, PPKs');
      const otpk = Buffer.alloc(65, 4);
      for (const [id, txid, orderState] of [['I7-R1', 'T20', 'released'], ['I7-R2', 'T21', 'error']] as const) {
        await store.orders.insert(newOrder(id), NOW);
        await session(store, txid);
        await store.sessions.authenticate(txid, { eid: 'E7', euiccCertificate: Buffer.alloc(1), matchingId: id, smdpSignature2: Buffer.alloc(1) }, NOW);
        assert.equal(await store.sessions.deliver(txid, id, NOW, { secrets: bpp, euiccOtpk: otpk }), true);
        const raw = await store.db.selectFrom('smdp_orders').select('binding_sealed').where('matching_id', '=', id).executeTakeFirstOrThrow();
        assert.equal(Buffer.from(raw.binding_sealed!).includes(Buffer.from('shared secret')), false, 'sealed at rest');
        assert.ok((await store.orders.get(id))?.bppEuiccOtpk?.equals(otpk));
        assert.ok((await store.orders.retainedBinding(id, 'E7', otpk))?.equals(bpp));
        assert.equal(await store.orders.retainedBinding(id, 'E7', Buffer.alloc(65, 5)), undefined, 'another one-time key gets nothing');
        assert.equal(await store.orders.retainedBinding(id, 'E8', otpk), undefined, 'another eUICC gets nothing');
        assert.equal(await store.sessions.cancel(txid, orderState, 'cancelled', NOW), true);
        const after = await store.orders.get(id);
        assert.equal(after?.state, orderState);
        if (orderState === 'released') {
          assert.ok((await store.orders.retainedBinding(id, 'E7', otpk))?.equals(bpp));
          assert.equal(after?.eid, 'E7');
        } else {
          assert.equal(after?.bppEuiccOtpk, undefined);
          assert.equal(await store.orders.retainedBinding(id, 'E7', otpk), undefined);
        }
      }
      // Delivered without binding secrets (nothing to retain): no retry key on the order.
      await store.orders.insert(newOrder('I7-R3'), NOW);
      await session(store, 'T22');
      await store.sessions.authenticate('T22', { eid: 'E7', euiccCertificate: Buffer.alloc(1), matchingId: 'I7-R3', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.sessions.deliver('T22', 'I7-R3', NOW), true);
      assert.equal((await store.orders.get('I7-R3'))?.bppEuiccOtpk, undefined);
    });

    it('reopening runs no migration twice', async () => {
      const again = await engine.open();
      await again.dispose();
    });
  });
}
