// Lockouts (src/store/lockouts.ts) on SQLite and PostgreSQL: failures within a window lock a key, the next lockout lasts
// twice as long (up to the maximum), a new window starts over, entries are purged once forgotten, the operator clears one;
// and `mcim smdpp lockouts` lists and clears them from a data directory.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smdppClearLockout, smdppLockouts } from '../../src/cli/commands/smdppLockouts.js';
import { McimError } from '../../src/errors.js';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { openDatabase, type DatabaseConfig } from '../../src/store/database.js';
import { Lockouts, lockoutDuration } from '../../src/store/lockouts.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const NOW = 1_700_000_000_000;
const MINUTE = 60_000;
const POLICY = { maxFailures: 3, windowMs: 10 * MINUTE, lockoutMs: MINUTE, maxLockoutMs: 5 * MINUTE };
const dir = mkdtempSync(join(tmpdir(), 'mcim-lockouts-'));
const pgSchema = `mcim_lock_${process.pid}_${randomBytes(4).toString('hex')}`;

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

const ENGINES: readonly { name: string; config: DatabaseConfig }[] = [
  { name: 'SQLite', config: { engine: 'sqlite', file: join(dir, 'lockouts.sqlite') } },
  { name: 'PostgreSQL', config: { engine: 'postgres', connectionString: PG_URL, schema: pgSchema } },
];

it('lockoutDuration doubles from the first lockout up to the maximum', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 100].map((n) => lockoutDuration(POLICY, n)), [MINUTE, 2 * MINUTE, 4 * MINUTE, 5 * MINUTE, 5 * MINUTE, 5 * MINUTE]);
});

for (const engine of ENGINES) {
  describe(`Lockouts on ${engine.name}`, () => {
    it('K failures within the window lock the key; the next lockout doubles; a late failure starts a new window; purge and clear', async () => {
      const db = await openDatabase(engine.config);
      try {
        const lockouts = new Lockouts(db);
        assert.deepEqual(await lockouts.locked(['eid:A'], NOW), []);
        assert.deepEqual(await lockouts.recordFailure('eid:A', POLICY, NOW), { failures: 1, lockedUntil: undefined, newlyLocked: false });
        await lockouts.recordFailure('eid:A', POLICY, NOW + 1);
        const third = await lockouts.recordFailure('eid:A', POLICY, NOW + 2);
        assert.deepEqual(third, { failures: 0, lockedUntil: NOW + 2 + MINUTE, newlyLocked: true });
        assert.deepEqual((await lockouts.locked(['eid:A', 'source:x'], NOW + 3)).map((e) => e.key), ['eid:A']);
        assert.deepEqual(await lockouts.locked(['eid:A'], NOW + 2 + MINUTE), [], 'the lock ends');

        const t = NOW + 2 * MINUTE;
        for (let i = 0; i < POLICY.maxFailures; i++) await lockouts.recordFailure('eid:A', POLICY, t);
        const [again] = await lockouts.locked(['eid:A'], t);
        assert.equal(again?.lockedUntil, t + 2 * MINUTE, 'twice as long');
        assert.equal(again?.lockouts, 2);

        // Failures further apart than the window never add up.
        for (let i = 0; i < 5; i++) assert.equal((await lockouts.recordFailure('source:slow', POLICY, NOW + i * (POLICY.windowMs + 1))).failures, 1);
        assert.deepEqual(await lockouts.locked(['source:slow'], NOW + 5 * POLICY.windowMs), []);

        const listed = await lockouts.list(t);
        assert.deepEqual(listed.map((e) => e.key), ['eid:A', 'source:slow'], 'locked first');
        const expiry = listed[0]!.expiresAt;
        assert.ok(expiry >= t + 2 * MINUTE + POLICY.maxLockoutMs, 'remembered after its lockout, for the next one to grow');
        assert.equal(await lockouts.purge(expiry), 0);
        assert.equal(await lockouts.purge(expiry + 1), 1, 'forgotten once expired');
        assert.deepEqual((await lockouts.list(t)).map((e) => e.key), ['source:slow']);
        assert.equal(await lockouts.clear('source:slow'), true);
        assert.equal(await lockouts.clear('source:slow'), false);
        assert.deepEqual(await lockouts.list(t), []);
      } finally {
        await db.destroy();
      }
    });
  });
}

function mcim(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }));
  });
}

describe('mcim smdpp lockouts', () => {
  it('lists the locked EIDs and sources and clears one', { timeout: 60_000 }, async () => {
    const data = join(dir, 'smdp');
    const store = await openSmdpStore(initSmdpDataDir(data));
    const now = Date.now();
    try {
      for (let i = 0; i < POLICY.maxFailures; i++) await store.lockouts.recordFailure('source:192.0.2.7', POLICY, now);
      await store.lockouts.recordFailure('eid:89049032123451234512345678901235', POLICY, now);
    } finally {
      await store.close();
    }
    const listed = await smdppLockouts(data);
    assert.deepEqual(listed.map((e) => [e.key, e.locked, e.failures]), [['source:192.0.2.7', true, 0], ['eid:89049032123451234512345678901235', false, 1]]);
    assert.equal(listed[0]!.lockedUntil, new Date(now + MINUTE).toISOString());

    const json = await mcim(['smdpp', 'lockouts', '--data', data, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), listed);
    const text = await mcim(['smdpp', 'lockouts', '--data', data]);
    assert.match(text.stdout, /^source:192\.0\.2\.7 {2}locked until /);

    const cleared = await mcim(['smdpp', 'lockouts', 'clear', 'source:192.0.2.7', '--data', data]);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.deepEqual((await smdppLockouts(data)).map((e) => e.key), ['eid:89049032123451234512345678901235']);
    await assert.rejects(smdppClearLockout(data, 'source:192.0.2.7'), (e: unknown) => e instanceof McimError && e.code === 'NOT_FOUND');
    const missing = await mcim(['smdpp', 'lockouts', 'clear', 'source:192.0.2.7', '--data', data]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no lockout entry 'source:192\.0\.2\.7'/);
  });
});
