// The SM-DP+ store on SQLite (temp file, WAL) and PostgreSQL (127.0.0.1:5432/test, one schema per run): states, sealing, atomic counters.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { McimError } from '../../src/errors.js';
import { openDatabase, type DatabaseConfig } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore, type NewOrder } from '../../src/store/smdpStore.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
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
  await store.createSession({ transactionId: id, curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt }, NOW);
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
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  await client.end();
});

describe('SecretBox', () => {
  it('creates a 32-byte key file with mode 600 and rejects altered data or another row', () => {
    const path = join(dir, 'box.key');
    const a = SecretBox.fromKeyFile(path);
    assert.equal(readFileSync(path).length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const sealed = a.seal(Buffer.from('K and OPc'), 'row-1');
    assert.equal(SecretBox.fromKeyFile(path).open(sealed, 'row-1').toString(), 'K and OPc');
    assert.throws(() => a.open(sealed, 'row-2'), (e: unknown) => e instanceof McimError && e.code === 'SEALED_DATA_INVALID');
    sealed[20]! ^= 1;
    assert.throws(() => a.open(sealed, 'row-1'), (e: unknown) => e instanceof McimError && e.code === 'SEALED_DATA_INVALID');
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
      await store.insertOrder(newOrder('A1', { eid: '89049032100000000000000000000017', ccHash: Buffer.alloc(32, 1) }), NOW);
      const o = await store.getOrder('A1');
      assert.equal(o?.state, 'released');
      assert.equal(o?.eid, '89049032100000000000000000000017');
      assert.ok(o?.ccHash?.equals(Buffer.alloc(32, 1)));
      const raw = await store.db.selectFrom('smdp_orders').select('package_sealed').where('matching_id', '=', 'A1').executeTakeFirstOrThrow();
      assert.equal(Buffer.from(raw.package_sealed).includes(Buffer.from('OPc')), false);
      assert.ok((await store.openProfilePackage('A1')).equals(newOrder('A1').profilePackage));
      await assert.rejects(store.insertOrder(newOrder('A1'), NOW), (e: unknown) => e instanceof McimError && e.code === 'ORDER_EXISTS');
    });

    it('session life cycle: authenticate once, deliver once, PIR once', async () => {
      await store.insertOrder(newOrder('B1'), NOW);
      await session(store, 'T1');
      const auth = { eid: 'E', euiccCertificate: Buffer.from('cert'), matchingId: 'B1', smdpSignature2: Buffer.alloc(64) };
      assert.equal(await store.authenticateSession('T1', auth, NOW), true);
      assert.equal(await store.authenticateSession('T1', auth, NOW), false);
      assert.equal(await store.deliver('T1', 'B1', NOW), true);
      assert.equal(await store.deliver('T1', 'B1', NOW), false);
      assert.equal((await store.getOrder('B1'))?.state, 'downloaded');
      assert.equal(await store.recordInstallationResult('T1', 'E', 1, undefined, true, NOW), 'recorded');
      assert.equal(await store.recordInstallationResult('T1', 'E', 1, undefined, false, NOW), 'replayed');
      assert.equal((await store.getOrder('B1'))?.state, 'installed');
    });

    it('an expired session cannot be authenticated', async () => {
      await session(store, 'T2', NOW - 1);
      assert.equal(await store.authenticateSession('T2', { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'x', smdpSignature2: Buffer.alloc(1) }, NOW), false);
    });

    it('a failed delivery (order no longer released) rolls the session back', async () => {
      await store.insertOrder(newOrder('C1'), NOW);
      for (const id of ['T3', 'T4']) {
        await session(store, id);
        await store.authenticateSession(id, { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'C1', smdpSignature2: Buffer.alloc(1) }, NOW);
      }
      const results = await Promise.all([store.deliver('T3', 'C1', NOW), store.deliver('T4', 'C1', NOW)]);
      assert.deepEqual(results.filter(Boolean).length, 1, 'exactly one session delivers the profile');
      const states = [(await store.getSession('T3'))?.state, (await store.getSession('T4'))?.state].sort();
      assert.deepEqual(states, ['authenticated', 'delivered']);
    });

    it('confirmation code attempts are counted atomically under concurrency', async () => {
      await store.insertOrder(newOrder('D1', { ccHash: Buffer.alloc(32) }), NOW);
      const results = await Promise.all(Array.from({ length: 12 }, () => store.recordCcFailure('D1', 3, NOW)));
      const counted = results.filter((r) => r !== undefined);
      assert.equal(counted.length, 3, 'only three failures are counted before the lock');
      assert.deepEqual(counted.map((r) => r!.attempts).sort(), [1, 2, 3]);
      assert.equal(counted.filter((r) => r!.locked).length, 1);
      const o = await store.getOrder('D1');
      assert.equal(o?.state, 'error');
      assert.equal(o?.ccAttempts, 3);
    });

    it('cancel keeps or fails the order by reason, once', async () => {
      await store.insertOrder(newOrder('E1'), NOW);
      await session(store, 'T5');
      await store.authenticateSession('T5', { eid: 'E', euiccCertificate: Buffer.alloc(1), matchingId: 'E1', smdpSignature2: Buffer.alloc(1) }, NOW);
      assert.equal(await store.cancel('T5', 'error', 'rejected', NOW), true);
      assert.equal(await store.cancel('T5', 'error', 'rejected', NOW), false);
      assert.equal((await store.getOrder('E1'))?.state, 'error');
    });

    it('other notifications are recorded once; delete moves an installed order', async () => {
      await store.insertOrder(newOrder('F1', { iccid: '8949000000000000017' }), NOW);
      await store.db.updateTable('smdp_orders').set({ state: 'installed' }).where('matching_id', '=', 'F1').execute();
      assert.equal(await store.recordOtherNotification('E9', 7, 'delete', '8949000000000000017', NOW), 'recorded');
      assert.equal(await store.recordOtherNotification('E9', 7, 'delete', '8949000000000000017', NOW), 'replayed');
      assert.equal((await store.getOrder('F1'))?.state, 'deleted');
    });

    it('reopening runs no migration twice', async () => {
      const again = await engine.open();
      await again.dispose();
    });
  });
}
