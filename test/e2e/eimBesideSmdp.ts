// The eIM end-to-end tests' setup: a data-directory SM-DP+ on loopback and an eIM (its own SQLite store) that trusts the SM-DP+'s test CI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { deviceInit, withDevice } from '../../src/cli/commands/device.js';
import { registerDevice } from '../../src/eim/registerDevice.js';
import { addInitialEim } from '../../src/ipa/es10b/addInitialEim.js';
import { getCerts } from '../../src/ipa/es10b/getCerts.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { EimStore } from '../../src/store/eimStore.js';
import type { EimOptions } from '../../src/eim/context.js';
import type { EimServerOptions } from '../../src/eim/server.js';
import type { NotificationResult } from '../../src/smdpp/es9plus/handleNotification.js';
import { EIM_HOST, startEimServer, type RunningEim } from '../eim/harness.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';

export interface EimBesideSmdp {
  readonly smdp: DataDirSmdp;
  readonly eim: RunningEim;
  readonly db: Database;
  readonly store: EimStore;
  close(): Promise<void>;
}

/** What a test may add: the eIM's ES9+ relay (built on its database, beside the SM-DP+), observers. */
export interface BesideOptions {
  readonly relay?: (db: Database, smdp: DataDirSmdp) => NonNullable<EimOptions['relay']>;
  readonly onRelayed?: EimServerOptions['onRelayed'];
  readonly onNotification?: (n: NotificationResult) => void;
}

/** Starts both; the eIM's id is 'eim-1', its packages signed with `signingKey`. */
export async function startEimBesideSmdp(prefix: string, address: string, signingKey: KeyObject, o: BesideOptions = {}): Promise<EimBesideSmdp> {
  const smdp = await startDataDirSmdp(prefix, address, o.onNotification);
  const db = await openDatabase({ engine: 'sqlite', file: join(smdp.tmp, 'eim.sqlite') });
  const store = new EimStore(db);
  const eim = await startEimServer({
    eimId: 'eim-1',
    signingKey,
    trustedCis: [readFileSync(join(smdp.data.pkiDirs.p256!, 'ci.der'))],
    store,
    ...(o.relay === undefined ? {} : { relay: o.relay(db, smdp) }),
    ...(o.onRelayed === undefined ? {} : { onRelayed: o.onRelayed }),
  });
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

/**
 * A new device beside `smdp` (its state file named `name`), its eUICC associated with the eIM 'eim-1' (AddInitialEim, a
 * factory step, with `eimPublicKey`) and registered with its certificates (and `tags`, if any).
 */
export async function associatedDevice(smdp: DataDirSmdp, eim: RunningEim, eimPublicKey: KeyObject, name: string, tags?: readonly string[]): Promise<{ state: string; eid: string }> {
  const state = join(smdp.tmp, `${name}.state`);
  const { eid } = deviceInit({ state, pki: smdp.data.pkiDirs.p256 });
  const spki = eimPublicKey.export({ type: 'spki', format: 'der' });
  const { token, certs } = await withDevice({ state }, async (es10) => {
    const [t] = await addInitialEim(es10, [{ eimId: 'eim-1', eimFqdn: EIM_HOST, eimPublicKeyData: { type: 'eimPublicKey', value: spki } }]);
    return { token: t!, certs: await getCerts(es10) };
  });
  await registerDevice(eim.server.context, { euiccCertificate: certs.euiccCertificate, eumCertificate: certs.eumCertificate, associationToken: token, eid, ...(tags === undefined ? {} : { tags: [...tags] }) });
  return { state, eid };
}
