// The eIM under test: a store on a fresh SQLite file or PostgreSQL schema, a context with its own signing key and CIs.
import type { KeyObject } from 'node:crypto';
import { eimContext, type EimContext } from '../../src/eim/context.js';
import { generateKeyPair, type EcCurve } from '../../src/crypto/ecdsa.js';
import { openDatabase, type Database, type DatabaseConfig } from '../../src/store/database.js';
import { EimStore } from '../../src/store/eimStore.js';
import { freshDatabase, type Engine } from '../auc/harness.js';

export { ENGINES, type Engine } from '../auc/harness.js';

export interface TestEimServer {
  readonly db: Database;
  readonly store: EimStore;
  readonly ctx: EimContext;
  readonly publicKey: KeyObject;
  /** The database, for a second connection (another eIM process). */
  readonly config: DatabaseConfig;
  close(): Promise<void>;
}

export async function openTestEim(engine: Engine, trustedCis: readonly Buffer[], o: { curve?: EcCurve; eimId?: string } = {}): Promise<TestEimServer> {
  const fresh = freshDatabase(engine);
  const db = await openDatabase(fresh.config);
  const store = new EimStore(db);
  const { privateKey, publicKey } = generateKeyPair(o.curve ?? 'P-256');
  const ctx = eimContext({ eimId: o.eimId ?? 'eim.example.com', signingKey: privateKey, trustedCis, store });
  return {
    db,
    store,
    ctx,
    publicKey,
    config: fresh.config,
    async close() {
      await db.destroy();
      await fresh.drop();
    },
  };
}
