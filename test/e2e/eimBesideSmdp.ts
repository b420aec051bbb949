// The eIM end-to-end tests' setup: a data-directory SM-DP+ on loopback and an eIM (its own SQLite store) that trusts the SM-DP+'s test CI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { openDatabase, type Database } from '../../src/store/database.js';
import { EimStore } from '../../src/store/eimStore.js';
import { startEimServer, type RunningEim } from '../eim/harness.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';

export interface EimBesideSmdp {
  readonly smdp: DataDirSmdp;
  readonly eim: RunningEim;
  readonly db: Database;
  readonly store: EimStore;
  close(): Promise<void>;
}

/** Starts both; the eIM's id is 'eim-1', its packages signed with `signingKey`. */
export async function startEimBesideSmdp(prefix: string, address: string, signingKey: KeyObject): Promise<EimBesideSmdp> {
  const smdp = await startDataDirSmdp(prefix, address);
  const db = await openDatabase({ engine: 'sqlite', file: join(smdp.tmp, 'eim.sqlite') });
  const store = new EimStore(db);
  const eim = await startEimServer({ eimId: 'eim-1', signingKey, trustedCis: [readFileSync(join(smdp.data.pkiDirs.p256!, 'ci.der'))], store });
  return {
    smdp,
    eim,
    db,
    store,
    async close() {
      await eim.close();
      await db.destroy();
      await smdp.close();
    },
  };
}
