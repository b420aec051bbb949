// The AuC under test: a store on a fresh SQLite file or PostgreSQL schema, a context whose RANDs can be given in advance.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAucContext, type AucContext, type AucOptions } from '../../src/auc/context.js';
import { AucStore } from '../../src/store/aucStore.js';
import { openDatabase, type Database, type DatabaseConfig } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { PG_URL, dropSchema } from '../helpers/postgres.js';

export interface TestAuc {
  readonly db: Database;
  readonly store: AucStore;
  readonly ctx: AucContext;
  readonly kek: Buffer;
  /** RANDs (and other random values) handed out next, before any fresh random bytes. */
  readonly nextRandom: Buffer[];
  close(): Promise<void>;
}

export type Engine = 'SQLite' | 'PostgreSQL';
export const ENGINES: readonly Engine[] = ['SQLite', 'PostgreSQL'];

/** A fresh database of the engine (a tmp file, or a new schema): `config` for a second connection to the same one. */
export function freshDatabase(engine: Engine): { config: DatabaseConfig; drop(): Promise<void> } {
  if (engine === 'SQLite') {
    const dir = mkdtempSync(join(tmpdir(), 'mcim-auc-'));
    return { config: { engine: 'sqlite', file: join(dir, 'auc.sqlite') }, drop: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
  }
  const schema = `mcim_auc_${process.pid}_${randomBytes(4).toString('hex')}`;
  return { config: { engine: 'postgres', connectionString: PG_URL, schema }, drop: () => dropSchema(schema) };
}

export async function openTestAuc(engine: Engine, options: AucOptions = {}, kek: Buffer = randomBytes(32)): Promise<TestAuc> {
  const fresh = freshDatabase(engine);
  const db = await openDatabase(fresh.config);
  const store = new AucStore(db, new SecretBox(kek));
  const nextRandom: Buffer[] = [];
  const ctx = createAucContext(store, { random: (n) => (nextRandom.length > 0 ? nextRandom.shift()!.subarray(0, n) : randomBytes(n)), ...options });
  return {
    db,
    store,
    ctx,
    kek,
    nextRandom,
    async close() {
      await db.destroy();
      await fresh.drop();
    },
  };
}

/** A Milenage subscriber record in the export format. */
export function milenageRecord(imsi: string, k: string, opc: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { imsi, operator: 'op1', algorithm: 'milenage', k, opc, amf: '8000', sqn: '000000000000', ...extra };
}
