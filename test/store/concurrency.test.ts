// Two processes writing to one SM-DP+ database at once (mcim serve --workers 2), on SQLite and PostgreSQL: no write fails
// ("database is locked"), counters and caps hold across processes (lockout failures, open sessions per source, PIRs
// recorded once, download attempts).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type DatabaseConfig } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore } from '../../src/store/smdpStore.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';
import type { WorkerPlan, WorkerReport } from './concurrencyWorker.js';

const WORKER = fileURLToPath(new URL('./concurrencyWorker.js', import.meta.url));
const NOW = 1_700_000_000_000;
const EID = '89049032123451234512345678901235';
const dir = mkdtempSync(join(tmpdir(), 'mcim-concurrency-'));
const keyFile = join(dir, 'secret.key');
const pgSchema = `mcim_conc_${process.pid}_${randomBytes(4).toString('hex')}`;

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(pgSchema);
});

function runWorker(plan: WorkerPlan): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [WORKER, JSON.stringify(plan)], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`worker ${plan.worker}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as WorkerReport);
    });
  });
}

const ENGINES: readonly { name: string; config: DatabaseConfig; exactCap: boolean }[] = [
  { name: 'SQLite', config: { engine: 'sqlite', file: join(dir, 'shared.sqlite') }, exactCap: true },
  { name: 'PostgreSQL', config: { engine: 'postgres', connectionString: PG_URL, schema: pgSchema, maxConnections: 8 }, exactCap: false },
];

for (const engine of ENGINES) {
  describe(`two processes on one ${engine.name} database`, () => {
    it('write concurrently without an error; counts and caps hold across the processes', { timeout: 90_000 }, async () => {
      const store = new SmdpStore(await openDatabase(engine.config), SecretBox.fromKeyFile(keyFile), { purgeSessionsEvery: 0 });
      const pirTransactions: string[] = [];
      const iccids: string[] = [];
      const ORDERS = 20;
      try {
        for (let i = 0; i < ORDERS; i++) {
          const matchingId = `CONC-${i}`;
          const iccid = `89494499999999${String(i).padStart(5, '0')}`;
          const transactionId = `TX-CONC-${i}`;
          await store.orders.insert({ matchingId, iccid, profileName: 'p', serviceProviderName: 'sp', profileClass: 2, profilePackage: Buffer.from('pkg') }, NOW);
          await store.sessions.create({ transactionId, curve: 'P-256', ciKeyId: 'aa', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: NOW + 60_000 }, NOW);
          await store.sessions.authenticate(transactionId, { eid: EID, euiccCertificate: Buffer.alloc(1), matchingId, smdpSignature2: Buffer.alloc(1) }, NOW);
          assert.equal(await store.sessions.deliver(transactionId, matchingId, NOW), true);
          pirTransactions.push(transactionId);
          iccids.push(iccid);
        }
        await store.orders.insert({ matchingId: 'CONC-LIMITED', iccid: '8949449999999999999', profileName: 'p', serviceProviderName: 'sp', profileClass: 2, profilePackage: Buffer.from('pkg'), maxDownloadAttempts: 7 }, NOW);
      } finally {
        await store.close();
      }
      const plan = (worker: number): WorkerPlan => ({
        config: engine.config,
        keyFile,
        worker,
        now: NOW,
        failures: 60,
        sessions: 40,
        sessionCap: 10,
        pirTransactions,
        eid: EID,
        iccids,
        notificationRounds: 15,
        limitedOrder: 'CONC-LIMITED',
        attempts: 10,
      });
      const reports = await Promise.all([runWorker(plan(0)), runWorker(plan(1))]);
      for (const r of reports) assert.deepEqual(r.errors, [], 'no write failed');
      const sum = (f: (r: WorkerReport) => number): number => reports.reduce((a, r) => a + f(r), 0);
      assert.equal(sum((r) => r.pirsRecorded), ORDERS, 'each PIR recorded once, the other a replay');
      assert.equal(sum((r) => r.notificationsRecorded), 2 * 15 * ORDERS, 'every notification recorded');
      assert.equal(sum((r) => r.attemptsCounted), 7, 'exactly the allowed download attempts');

      const check = new SmdpStore(await openDatabase(engine.config), SecretBox.fromKeyFile(keyFile), { purgeSessionsEvery: 0 });
      try {
        const [entry] = await check.lockouts.list(NOW);
        assert.equal(entry?.failures, 120, 'every failure counted once');
        const open = await check.db.selectFrom('smdp_sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'flood').executeTakeFirstOrThrow();
        assert.equal(Number(open.n), sum((r) => r.sessionsOpened));
        if (engine.exactCap) assert.equal(Number(open.n), 10, 'the cap holds across processes');
        // PostgreSQL (read committed): concurrent inserts may each miss the other's row, at most one per concurrent writer.
        else assert.ok(Number(open.n) >= 10 && Number(open.n) <= 10 + 2 * 8, `open sessions ${open.n}`);
        assert.equal((await check.orders.get('CONC-3'))?.state, 'installed');
      } finally {
        await check.close();
      }
    });
  });
}
