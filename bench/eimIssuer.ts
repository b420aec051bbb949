// One eIM process issuing signed eUICC Packages (getRAT) to its own devices, one per transaction or a batch to all of them per transaction, on a shared database, for bench/eim.ts: started with fork(),
// told the database and devices, it answers 'ready'; then each phase message runs until the time or the count runs out and answers its count: 'issue' issues, 'sign' only signs the same
// bytes the same way (batched: on the same signer threads, in the same jobs; one by one: on this thread), the limit the issuing is measured against; 'store' (batched) issues with the
// signatures left out (64 zero bytes each, not valid: a measurement of the store's part alone, never a package to send).
import { randomBytes } from 'node:crypto';
import { generateKeyPair, signPlain } from '../src/crypto/ecdsa.js';
import { SignerPool } from '../src/crypto/signerPool.js';
import { eimContext } from '../src/eim/context.js';
import { eidBytes, issueEuiccPackages, issuePsmos } from '../src/eim/euiccPackageRequest.js';
import { EuiccPackageTemplate } from '../src/eim/euiccPackageTemplate.js';
import { issueTestPki } from '../src/pki/testPki.js';
import { openDatabase, type DatabaseConfig } from '../src/store/database.js';
import { EimStore } from '../src/store/eimStore.js';
import type { EuiccPackage } from '../src/asn1/definitions/sgp32.js';

interface Start {
  readonly config: DatabaseConfig;
  readonly eids: readonly string[];
  readonly seconds: number;
  readonly max: number;
  /** One package per transaction, or one transaction for a package to each of the process's devices. */
  readonly batch: boolean;
  /** Signer threads of a batching process (0: it signs on its own thread). */
  readonly threads: number;
}

type Phase = 'issue' | 'sign' | 'store' | 'end';

/** Signing jobs of the 'sign' phase, as issueEuiccPackages makes them. */
const JOB = 64;
const PACKAGE: EuiccPackage = { type: 'psmoList', value: [{ type: 'getRAT', value: {} }] };

process.once('message', (start: Start) => {
  void (async () => {
    const db = await openDatabase(start.config);
    const key = generateKeyPair('P-256').privateKey;
    const signer = start.batch && start.threads > 0 ? new SignerPool(start.threads) : undefined;
    const ctx = eimContext({ eimId: 'bench-eim', signingKey: key, trustedCis: [issueTestPki().ci.der], store: new EimStore(db), ...(signer === undefined ? {} : { signer }) });
    // The 'store' phase's stand-in for the signer threads: no signature made.
    const unsigned = { threads: 1, sign: (items: readonly unknown[]) => Promise.resolve(items.map(() => Buffer.alloc(64))) } as unknown as SignerPool;
    const storeOnly = eimContext({ eimId: 'bench-eim', signingKey: key, trustedCis: ctx.trustedCis.map((c) => c.der), store: ctx.store, signer: unsigned });
    const template = new EuiccPackageTemplate('bench-eim', PACKAGE);
    const toBeSigned = start.eids.map((eid, i) => template.toBeSigned(eidBytes(eid), 1000 + i, randomBytes(16), 1).data);
    const perCall = start.batch ? start.eids.length : 1;
    const issue = async (i: number, unsignedOnly = false): Promise<void> => {
      if (start.batch) await issueEuiccPackages(unsignedOnly ? storeOnly : ctx, start.eids, PACKAGE);
      else await issuePsmos(ctx, start.eids[i % start.eids.length]!, [{ type: 'getRAT', value: {} }]);
    };
    const signOnly = async (deadline: number): Promise<number> => {
      let done = 0;
      if (signer === undefined) {
        while (done < start.max && performance.now() < deadline) signPlain(key, toBeSigned[done++ % toBeSigned.length]!);
        return done;
      }
      // Two jobs per thread in flight, as a batch keeps them.
      await Promise.all(Array.from({ length: 2 * signer.threads }, async (_, lane) => {
        for (let at = lane * JOB; done < start.max && performance.now() < deadline; at += 2 * signer.threads * JOB) {
          const from = at % toBeSigned.length;
          const part = toBeSigned.slice(from, from + JOB).map((data) => ({ key, data }));
          done += (await signer.sign(part)).length;
        }
      }));
      return done;
    };
    for (let i = 0; i < (start.batch ? 2 : 50); i++) await issue(i);
    await signOnly(performance.now() + 200);
    process.send!('ready');
    process.on('message', (phase: Phase) => {
      void (async () => {
        if (phase === 'end') {
          await signer?.close();
          await db.destroy();
          process.disconnect();
          return;
        }
        const cpu = process.cpuUsage();
        const begin = performance.now();
        const deadline = begin + start.seconds * 1000;
        let done = 0;
        if (phase === 'sign') done = await signOnly(deadline);
        else {
          // Two in flight: one signs while the other waits for the database.
          await Promise.all([0, 1].map(async () => {
            while (done < start.max && performance.now() < deadline) {
              const i = done;
              done += perCall;
              await issue(i, phase === 'store');
            }
          }));
        }
        const elapsed = (performance.now() - begin) / 1000;
        const used = process.cpuUsage(cpu);
        process.send!({ done, elapsed, cpuS: (used.user + used.system) / 1e6 });
      })().catch((e: unknown) => process.send!({ error: String(e) }));
    });
  })().catch((e: unknown) => {
    process.send!({ error: String(e) });
    process.disconnect();
  });
});
