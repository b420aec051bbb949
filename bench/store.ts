// The SM-DP+ store calls of one complete download session (SGP.22 3.1.2/3.1.3/3.5) on SQLite, in this process: CPU per
// session of the data layer alone (kysely compile, statement preparation, SQLite execution, sealing), and per call.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { SecretBox } from '../src/store/secretBox.js';
import { SmdpStore } from '../src/store/smdpStore.js';

const SESSIONS = 2000;
const WARM_UP = 100;

const perCall = new Map<string, number>();

async function timed<T>(name: string, call: () => Promise<T>): Promise<T> {
  const t = process.cpuUsage();
  const result = await call();
  const d = process.cpuUsage(t);
  perCall.set(name, (perCall.get(name) ?? 0) + d.user + d.system);
  return result;
}

/** The store calls one download session makes, in the order the ES9+ functions make them (src/smdpp/es9plus). */
async function session(store: SmdpStore, matchingId: string, now: number): Promise<void> {
  const transactionId = randomBytes(16).toString('hex').toUpperCase();
  const eid = `890490321234512345${transactionId.slice(0, 14)}`;
  const source = '127.0.0.1';
  const session = { transactionId, curve: 'P-256', ciKeyId: 'f54172bdf98a95d65cbeb88a38a1c11d800a85c3', euiccChallenge: randomBytes(16), serverChallenge: randomBytes(16), expiresAt: now + 300_000, source };
  const authentication = { eid, euiccCertificate: randomBytes(560), matchingId, smdpSignature2: randomBytes(64) };
  // initiateAuthentication: the session, within the source's open-session limit and unless its authentications are locked out
  await timed('createSession', () => store.sessions.create(session, now, { maxOpen: 64, unlessLocked: `auth:${source}` }));
  // authenticateClient
  await timed('claimSession', () => store.sessions.claim(transactionId, now));
  await timed('getOrderUnlessLocked', () => store.orders.getByMatchingIdUnlessLocked(matchingId, [`eid:${eid}`, `source:${source}`], now));
  await timed('authenticateSession', () => store.sessions.authenticate(transactionId, authentication, now));
  // getBoundProfilePackage: the binding's secrets (about 180 bytes) retained for a retry
  await timed('getSession', () => store.sessions.get(transactionId));
  const found = await timed('getOrderWithPackage', () => store.orders.getWithPackage(matchingId));
  found!.openProfilePackage();
  if (!(await timed('deliver', () => store.sessions.deliver(transactionId, matchingId, now, { secrets: randomBytes(180), euiccOtpk: randomBytes(65) })))) throw new Error('not delivered');
  // handleNotification
  await timed('getSession', () => store.sessions.get(transactionId));
  const outcome = await timed('recordInstallationResult', () => store.notifications.recordInstallationResult(transactionId, eid, 1, '8949449999999990023', true, now));
  if (outcome !== 'recorded') throw new Error('not recorded');
}

export async function benchStore(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-store-'));
  try {
    const db = await openDatabase({ engine: 'sqlite', file: join(dir, 'mcim.sqlite') });
    const store = new SmdpStore(db, new SecretBox(randomBytes(32)));
    const now = Date.now();
    const profile = randomBytes(Number(process.env["BENCH_PROFILE_BYTES"] ?? 12 * 1024));
    for (let i = 0; i < SESSIONS + WARM_UP; i++) {
      await store.orders.insert({ matchingId: `B-${i}`, iccid: '8949449999999990023', profileName: 'p', serviceProviderName: 's', profileClass: 2, profilePackage: profile }, now);
    }
    for (let i = 0; i < WARM_UP; i++) await session(store, `B-${SESSIONS + i}`, now);
    perCall.clear();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < SESSIONS; i++) await session(store, `B-${i}`, now);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `SM-DP+ store calls of one download session (SQLite, ${SESSIONS} sessions): ${((cpuMs * 1000) / SESSIONS).toFixed(0)} µs CPU/session ` +
        `(${((cpu.system / 1000 / cpuMs) * 100).toFixed(0)}% sys), ${((wall * 1000) / SESSIONS).toFixed(0)} µs wall/session`,
    );
    console.log(`  per session, µs CPU: ${[...perCall].map(([name, us]) => `${name} ${(us / SESSIONS).toFixed(0)}`).join(', ')}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
