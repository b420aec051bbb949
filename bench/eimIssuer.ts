// One eIM process issuing signed eUICC Packages (getRAT) to its own devices, one per transaction or a batch to all of them per transaction, on a shared database, for bench/eim.ts: started with fork(),
// told the database and devices, it answers 'ready', issues on 'go' until the time or the count runs out, and answers its rate and CPU time.
import { issueEuiccPackages, issuePsmos } from '../src/eim/euiccPackageRequest.js';
import { eimContext } from '../src/eim/context.js';
import { generateKeyPair } from '../src/crypto/ecdsa.js';
import { openDatabase, type DatabaseConfig } from '../src/store/database.js';
import { EimStore } from '../src/store/eimStore.js';
import { issueTestPki } from '../src/pki/testPki.js';

interface Start {
  readonly config: DatabaseConfig;
  readonly eids: readonly string[];
  readonly seconds: number;
  readonly max: number;
  /** One package per transaction, or one transaction for a package to each of the process's devices. */
  readonly batch: boolean;
}

process.once('message', (start: Start) => {
  void (async () => {
    const db = await openDatabase(start.config);
    const ctx = eimContext({ eimId: 'bench-eim', signingKey: generateKeyPair('P-256').privateKey, trustedCis: [issueTestPki().ci.der], store: new EimStore(db) });
    const perCall = start.batch ? start.eids.length : 1;
    const issue = async (i: number): Promise<void> => {
      if (start.batch) await issueEuiccPackages(ctx, start.eids, { type: 'psmoList', value: [{ type: 'getRAT', value: {} }] });
      else await issuePsmos(ctx, start.eids[i % start.eids.length]!, [{ type: 'getRAT', value: {} }]);
    };
    for (let i = 0; i < (start.batch ? 2 : 50); i++) await issue(i);
    process.send!('ready');
    process.once('message', () => {
      void (async () => {
        const cpu = process.cpuUsage();
        const begin = performance.now();
        const deadline = begin + start.seconds * 1000;
        let done = 0;
        // Two in flight: one signs while the other waits for the database.
        await Promise.all([0, 1].map(async () => {
          while (done < start.max && performance.now() < deadline) {
            const i = done;
            done += perCall;
            await issue(i);
          }
        }));
        const elapsed = (performance.now() - begin) / 1000;
        const used = process.cpuUsage(cpu);
        process.send!({ done, elapsed, cpuS: (used.user + used.system) / 1e6 });
        await db.destroy();
        process.disconnect();
      })();
    });
  })().catch((e: unknown) => {
    process.send!({ error: String(e) });
    process.disconnect();
  });
});
