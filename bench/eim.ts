// The eIM (issue 10): (a) signed eUICC Packages issued per second (counter allocated, package signed and queued in one transaction) in one and in
// two processes on one database, beside ECDSA P-256 signs per second by `openssl speed` on as many cores; (b) GetEimPackage polls served per second
// over TLS with keep-alive (ASN.1 binding, 8 clients in a worker thread) on SQLite and PostgreSQL, beside a bare node:https server answering the same
// requests (bench/bareTlsServer.ts); (c) a fleet operation end to end with simulated devices (MCIM_BENCH_FLEET, default 1,000): eUICCs created and
// associated, registered with the eIM, a package issued to each, every device polling, executing and reporting over its own TLS connection; time,
// devices per second and memory per simulated device.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { Worker } from 'node:worker_threads';
import { execFileSync } from 'node:child_process';
import { EsipaMessageFromIpaToEim } from '../src/asn1/definitions/sgp32.js';
import { encode } from '../src/asn1/schema.js';
import { generateKeyPair } from '../src/crypto/ecdsa.js';
import { issueEuiccPackages, MAX_PACKAGES_PER_BATCH } from '../src/eim/euiccPackageRequest.js';
import { registerDevice } from '../src/eim/registerDevice.js';
import { createEimServer } from '../src/eim/server.js';
import { certificateToPem } from '../src/pki/certificate.js';
import { makeEid } from '../src/pki/eid.js';
import { issueTestPki, writeTestPki } from '../src/pki/testPki.js';
import { pkiPassphrase } from '../src/cli/commands/pki.js';
import { openDatabase, type DatabaseConfig } from '../src/store/database.js';
import { EimStore } from '../src/store/eimStore.js';
import { opensslEcdsa, report } from './lib.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const ISSUER_SCRIPT = fileURLToPath(new URL('./eimIssuer.js', import.meta.url));
const FLEET_SCRIPT = fileURLToPath(new URL('./eimFleet.js', import.meta.url));
const BARE_SERVER_SCRIPT = fileURLToPath(new URL('./bareTlsServer.js', import.meta.url));
/** Devices each issuing process signs for; packages per measurement at most. */
const ISSUE_DEVICES = 500;
const MAX_PACKAGES = 200_000;
const POLL_DEVICES = 256;
const POLL_CLIENTS = 8;
const MAX_POLLS = 500_000;
const FLEET_CONCURRENCY = 32;

/** ECDSA P-256 signs and verifies per second on `cores` cores at once (`openssl speed -multi`). */
function opensslEcdsaMulti(cores: number): { sign: number; verify: number } {
  if (cores === 1) return opensslEcdsa('P-256');
  const out = execFileSync('openssl', ['speed', '-multi', String(cores), '-mr', '-seconds', '1', 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 });
  const m = /^\+F4:\d+:\d+:([\d.]+):([\d.]+)/m.exec(out);
  if (!m) throw new Error(`unexpected openssl speed output: ${out}`);
  return { sign: Number(m[1]), verify: Number(m[2]) };
}

function eids(n: number, salt: number): string[] {
  return Array.from({ length: n }, (_, i) => makeEid('89049032', `${String(salt).padStart(4, '0')}${String(i).padStart(18, '0')}`));
}

async function registerBare(store: EimStore, list: readonly string[]): Promise<void> {
  const cert = Buffer.alloc(16);
  for (const eid of list) await store.registerDevice({ eid, eimId: 'bench-eim', euiccCertificate: cert, eumCertificate: cert, ciKeyId: '00', associationToken: 1 }, Date.now());
}

function child<T>(c: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    c.once('message', (m: T | { error: string }) => (typeof m === 'object' && m !== null && 'error' in m ? reject(new Error(m.error)) : resolve(m as T)));
    c.once('exit', (code) => reject(new Error(`child exited with ${String(code)}`)));
  });
}

/**
 * (a) in `processes` processes at once: packages per second over all of them, beside the limit measured around it by
 * the same processes signing the same bytes the same way (batched: their signer threads, `threads` each), all at once,
 * before and after the issuing (the mean of the two: the machine may change under the run).
 */
interface IssueFigures {
  readonly issued: number;
  readonly limit: number;
  /** CPU (all threads of the eIM processes) per package issued, per signature of the sign phases. */
  readonly issueCpuUs: number;
  readonly signCpuUs: number;
  /** Batched only: the store's part alone (signatures left out): packages per second and CPU per package. */
  readonly store?: { readonly rate: number; readonly cpuUs: number };
}

async function issueRate(config: DatabaseConfig, processes: number, batch: boolean, salt: number, seconds: number, threads: number): Promise<IssueFigures> {
  const db = await openDatabase(config);
  const store = new EimStore(db);
  const groups = Array.from({ length: processes }, (_, p) => eids(ISSUE_DEVICES, salt + p));
  for (const g of groups) await registerBare(store, g);
  await db.destroy();
  const children = groups.map(() => fork(ISSUER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  try {
    const ready = children.map((c) => child<string>(c));
    children.forEach((c, i) => c.send({ config, eids: groups[i], seconds, batch, threads, max: Math.floor(MAX_PACKAGES / processes) }));
    await Promise.all(ready);
    const phase = async (name: 'sign' | 'issue' | 'store'): Promise<{ rate: number; cpuS: number; done: number }> => {
      const results = children.map((c) => child<{ done: number; elapsed: number; cpuS: number }>(c));
      for (const c of children) c.send(name);
      const r = await Promise.all(results);
      return { rate: r.reduce((sum, x) => sum + x.done / x.elapsed, 0), cpuS: r.reduce((sum, x) => sum + x.cpuS, 0), done: r.reduce((sum, x) => sum + x.done, 0) };
    };
    const before = await phase('sign');
    const issued = await phase('issue');
    const after = await phase('sign');
    const store = batch ? await phase('store') : undefined;
    for (const c of children) c.send('end');
    return {
      issued: issued.rate,
      limit: (before.rate + after.rate) / 2,
      issueCpuUs: (issued.cpuS / issued.done) * 1e6,
      signCpuUs: ((before.cpuS + after.cpuS) / (before.done + after.done)) * 1e6,
      ...(store === undefined ? {} : { store: { rate: store.rate, cpuUs: (store.cpuS / store.done) * 1e6 } }),
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.connected) await once(c, 'exit');
  }
}

/** Keep-alive HTTPS clients in a worker thread: POST `body` to /gsma/rsp2/asn1 until the time or the count runs out. */
const POLLER = `
const { Agent, request } = require('node:https');
const { parentPort, workerData: w } = require('node:worker_threads');
const agent = new Agent({ keepAlive: true, maxSockets: w.clients, rejectUnauthorized: false });
const headers = { 'content-type': 'application/x-gsma-rsp-asn1', 'x-admin-protocol': 'gsma/rsp/v2.5.0', accept: 'application/x-gsma-rsp-asn1' };
const post = (body) => new Promise((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port: w.port, path: '/gsma/rsp2/asn1', method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 || res.statusCode === 204 ? resolve() : reject(new Error('answered ' + res.statusCode))));
  });
  req.on('error', reject);
  req.end(body);
});
(async () => {
  const bodies = w.bodies.map((b) => Buffer.from(b));
  for (let i = 0; i < 100; i++) await post(bodies[i % bodies.length]);
  let done = 0;
  const start = performance.now();
  const deadline = start + w.seconds * 1000;
  await Promise.all(Array.from({ length: w.clients }, async () => {
    while (done < w.max && performance.now() < deadline) await post(bodies[done++ % bodies.length]);
  }));
  parentPort.postMessage({ rate: done / ((performance.now() - start) / 1000) });
  agent.destroy();
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

async function pollRate(port: number, bodies: readonly Buffer[], seconds: number): Promise<number> {
  const worker = new Worker(POLLER, { eval: true, workerData: { port, bodies: bodies.map((b) => new Uint8Array(b)), clients: POLL_CLIENTS, seconds, max: MAX_POLLS } });
  const [result] = (await once(worker, 'message')) as [{ rate: number } | { error: string }];
  await worker.terminate();
  if ('error' in result) throw new Error(result.error);
  return result.rate;
}

/** The bare TLS floor: bench/bareTlsServer.ts in its own process (a 204 to every poll, no eIM, no database). */
async function floorRate(bodies: readonly Buffer[], seconds: number): Promise<number> {
  const server = spawn(process.execPath, [BARE_SERVER_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(server.stdout, 'data')) as [Buffer];
    const port = Number(line.toString().split(' ')[1]);
    return await pollRate(port, bodies, seconds);
  } finally {
    server.kill('SIGTERM');
  }
}

/** One source address for every client of the bench: no per-source rate, the default cap on requests in progress. */
const BENCH_ESIPA_LIMITS = { maxRequestsPerSource: 0 } as const;

/** (b) on one engine. */
async function pollBench(label: string, config: DatabaseConfig, seconds: number, floor: number): Promise<void> {
  const db = await openDatabase(config);
  const store = new EimStore(db);
  const list = eids(POLL_DEVICES, 9000);
  await registerBare(store, list);
  const tls = issueTestPki({ smdpAddress: 'eim.example.com' });
  const server = createEimServer({
    eimId: 'bench-eim',
    signingKey: generateKeyPair('P-256').privateKey,
    trustedCis: [tls.ci.der],
    store,
    tls: { key: tls.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(tls.dpTls.der) },
    // Every simulated device polls from 127.0.0.1: the per-source rate limit (src/eim/esipaLimits.ts) is off here.
    esipaLimits: BENCH_ESIPA_LIMITS,
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const bodies = list.map((eid) => encode(EsipaMessageFromIpaToEim, { type: 'getEimPackageRequest', value: { eidValue: Buffer.from(eid, 'hex') } }));
    const rate = await pollRate((server.app.server.address() as AddressInfo).port, bodies, seconds);
    report({ name: `GetEimPackage polls, TLS keep-alive (${label})`, value: rate, unit: 'polls/s', limitName: 'bare node:https, same client', limit: floor });
  } finally {
    await server.app.close();
    await db.destroy();
  }
}

/** (c) the fleet operation end to end. */
async function fleetBench(dir: string, count: number): Promise<void> {
  const pkiDir = join(dir, 'pki');
  const { passphrase } = pkiPassphrase(pkiDir, join(dir, 'pki.passphrase'), { create: true, required: true })!;
  writeTestPki(issueTestPki(), pkiDir, { passphrase, passphraseSource: 'pki-passphrase' });
  const db = await openDatabase({ engine: 'sqlite', file: join(dir, 'fleet.sqlite') });
  const store = new EimStore(db);
  const eimKey = generateKeyPair('P-256');
  const tls = issueTestPki({ smdpAddress: 'eim.example.com' });
  const server = createEimServer({
    eimId: 'bench-eim',
    signingKey: eimKey.privateKey,
    trustedCis: [readFileSync(join(pkiDir, 'ci.der'))],
    store,
    tls: { key: tls.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }), cert: certificateToPem(tls.dpTls.der) },
    // Every simulated device polls from 127.0.0.1: the per-source rate limit (src/eim/esipaLimits.ts) is off here.
    esipaLimits: BENCH_ESIPA_LIMITS,
  });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const devices = fork(FLEET_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
  try {
    const registrations = join(dir, 'fleet.jsonl');
    const created = child<{ elapsed: number; sealedBytes: number; memory: { rss: number; heapUsed: number; baseline: number } }>(devices);
    devices.send({
      op: 'create',
      setup: {
        count,
        pki: pkiDir,
        keyPassphraseFile: join(dir, 'pki.passphrase'),
        eim: 'https://eim.example.com',
        eimId: 'bench-eim',
        eimPublicKeyPem: eimKey.publicKey.export({ type: 'spki', format: 'pem' }),
        ca: certificateToPem(tls.ci.der),
        port: (server.app.server.address() as AddressInfo).port,
        concurrency: FLEET_CONCURRENCY,
        registrations,
      },
    });
    const c = await created;
    console.log(`fleet: ${count} eUICCs created and associated (AddInitialEim) in ${c.elapsed.toFixed(1)} s (${(count / c.elapsed).toFixed(0)}/s)`);

    let begin = performance.now();
    // Line by line: the file of 100,000 devices is hundreds of MB.
    for await (const line of createInterface({ input: createReadStream(registrations), crlfDelay: Infinity })) {
      if (line === '') continue;
      const r = JSON.parse(line) as { eid: string; c: string; m: string; t: number };
      await registerDevice(server.context, { eid: r.eid, euiccCertificate: Buffer.from(r.c, 'base64'), eumCertificate: Buffer.from(r.m, 'base64'), associationToken: r.t });
    }
    const registerS = (performance.now() - begin) / 1000;
    console.log(`fleet: ${count} devices registered (chain validated) in ${registerS.toFixed(1)} s (${(count / registerS).toFixed(0)}/s)`);

    begin = performance.now();
    const all = await store.listDevices({ limit: 10_000 });
    let after: string | undefined;
    let issued = 0;
    for (let page = all; page.length > 0; page = await store.listDevices({ after: after!, limit: 10_000 })) {
      for (let i = 0; i < page.length; i += MAX_PACKAGES_PER_BATCH) {
        await issueEuiccPackages(server.context, page.slice(i, i + MAX_PACKAGES_PER_BATCH).map((d) => d.eid), { type: 'psmoList', value: [{ type: 'listProfileInfo', value: {} }] });
      }
      issued += page.length;
      after = page.at(-1)!.eid;
    }
    const issueS = (performance.now() - begin) / 1000;
    const ran = child<{ report: { idle: number; outcomes: Record<string, number>; failures: Record<string, number>; elapsedMs: number }; cpuS: number; memory: { rss: number; heapUsed: number; baseline: number } }>(devices);
    devices.send({ op: 'round' });
    const r = await ran;
    const roundS = r.report.elapsedMs / 1000;
    const done = (await sql<{ n: number }>`SELECT count(*) AS n FROM eim_packages WHERE state = 'done'`.execute(db)).rows[0]!.n;
    const endToEnd = issueS + roundS;
    console.log(
      `fleet operation (listProfileInfo to every device): ${issued} packages issued in ${issueS.toFixed(1)} s; devices polled, executed and reported in ${roundS.toFixed(1)} s ` +
        `(${FLEET_CONCURRENCY} at once, one TLS connection each; device CPU ${((r.cpuS / count) * 1000).toFixed(2)} ms/device); ${Number(done)} done, ` +
        `outcomes ${JSON.stringify(r.report.outcomes)}, failures ${JSON.stringify(r.report.failures)}`,
    );
    const eimRss = process.memoryUsage().rss;
    console.log(`fleet eIM process (this one, SQLite): ${(eimRss / 1048576).toFixed(0)} MiB resident after the round (${(eimRss / count / 1024).toFixed(1)} KiB per device, fixed costs included)`);
    const perDevice = (c.memory.rss - c.memory.baseline) / count;
    console.log(
      `fleet memory: device process ${(c.memory.rss / 1048576).toFixed(0)} MiB resident after creation (${(c.memory.baseline / 1048576).toFixed(0)} MiB before), ` +
        `${(r.memory.rss / 1048576).toFixed(0)} MiB after the round; heap ${(c.memory.heapUsed / 1048576).toFixed(0)} MiB: ${(perDevice / 1024).toFixed(1)} KiB per simulated device`,
    );
    const signs = opensslEcdsaMulti(2);
    // One device's cryptography at openssl speed on both cores: package sign, eUICC verify + sign, eIM verify; the TLS handshake's
    // signature, its verification and the certificate chain's (2), the ECDHE on both sides (priced as 2 verifies).
    const perDeviceS = 3 / signs.sign + 6 / signs.verify;
    report({ name: `fleet operation end to end (${count} devices)`, value: count / endToEnd, unit: 'devices/s', limitName: 'its ECDSA/ECDHE at openssl speed, 2 cores', limit: 1 / perDeviceS });
    report({ name: 'fleet memory per simulated device (resident)', value: perDevice / 1024, unit: 'KiB', limitName: 'its sealed state', limit: c.sealedBytes / count / 1024 });
  } finally {
    devices.kill();
    await server.app.close();
    await db.destroy();
  }
}

export async function benchEim(seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-eim-'));
  const schema = `mcim_bench_eim_${process.pid}`;
  try {
    const parts = new Set((process.env['MCIM_BENCH_EIM'] ?? 'issue,poll,fleet').split(','));
    const devices = Number(process.env['MCIM_BENCH_FLEET'] ?? '1000');
    if (!Number.isInteger(devices) || devices < 1) throw new Error(`MCIM_BENCH_FLEET (--devices) must be a whole number of devices, not ${process.env['MCIM_BENCH_FLEET']}`);
    if (parts.has('issue')) await issueBench(dir, schema, seconds);
    if (parts.has('poll')) await pollBenches(dir, schema, seconds);
    if (parts.has('fleet')) await fleetBench(dir, devices);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const pgm = await import('pg');
    const c = new pgm.default.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS ${schema}_poll CASCADE`);
    await c.end();
  }
}

/** (a) on both engines, one per commit and batched, in one process and in two. */
async function issueBench(dir: string, schema: string, seconds: number): Promise<void> {
    const one = opensslEcdsaMulti(1);
    const two = opensslEcdsaMulti(2);
    console.log(`openssl speed ecdsap256 sign: ${Math.round(one.sign).toLocaleString('en-US')}/s on 1 core, ${Math.round(two.sign).toLocaleString('en-US')}/s on 2 cores (for reference)`);
    const sqlite: DatabaseConfig = { engine: 'sqlite', file: join(dir, 'issue.sqlite') };
    const pg = { engine: 'postgres', connectionString: PG_URL, schema } as const;
    const issued = async (label: string, config: DatabaseConfig, processes: 1 | 2, batch: boolean, salt: number): Promise<void> => {
      // Batched, signer threads on both cores (2 in one process, 1 in each of 2); one by one, each process signs on its own thread.
      const threads = batch ? 2 / processes : 0;
      const r = await issueRate(config, processes, batch, salt, seconds, threads);
      const signer = batch ? `${threads * processes} signer threads` : `${processes} thread${processes === 2 ? 's' : ''}`;
      report({ name: `signed packages issued, ${label}`, value: r.issued, unit: 'packages/s', limitName: `node:crypto P-256 sign of the same bytes, ${signer}, same run`, limit: r.limit });
      const cpu = `  CPU of the eIM process${processes === 2 ? 'es' : ''} (all threads): ${r.issueCpuUs.toFixed(1)} us per package issued, ${r.signCpuUs.toFixed(1)} us per signature alone`;
      if (r.store === undefined) console.log(cpu);
      else {
        // With every core busy the rate is at most cores / (sign + store) CPU per package: the best ratio to the sign limit is sign / (sign + store).
        console.log(
          `${cpu}; the store's part alone (signatures left out) ${Math.round(r.store.rate).toLocaleString('en-US')} packages/s at ${r.store.cpuUs.toFixed(1)} us CPU per package: ` +
            `the best ratio both cores allow is ${r.signCpuUs.toFixed(1)} / (${r.signCpuUs.toFixed(1)} + ${r.store.cpuUs.toFixed(1)}) = ${(r.signCpuUs / (r.signCpuUs + r.store.cpuUs)).toFixed(2)}`,
        );
      }
    };
    await issued('one per commit (SQLite)', sqlite, 1, false, 1000);
    await issued(`${ISSUE_DEVICES} per commit (SQLite)`, sqlite, 1, true, 2000);
    await issued(`${ISSUE_DEVICES}/commit, 2 processes (SQLite)`, sqlite, 2, true, 3000);
    await issued('one per commit, 2 processes (PostgreSQL)', pg, 2, false, 4000);
    await issued(`${ISSUE_DEVICES}/commit (PostgreSQL)`, { ...pg, maxConnections: 4 }, 1, true, 5000);
    await issued(`${ISSUE_DEVICES}/commit, 2 processes (PostgreSQL)`, pg, 2, true, 6000);

}

/** (b) on both engines, beside the bare TLS floor. */
async function pollBenches(dir: string, schema: string, seconds: number): Promise<void> {
    const pg = { engine: 'postgres', connectionString: PG_URL, schema } as const;
    const bodies = eids(POLL_DEVICES, 9000).map((eid) => encode(EsipaMessageFromIpaToEim, { type: 'getEimPackageRequest', value: { eidValue: Buffer.from(eid, 'hex') } }));
    const floor = await floorRate(bodies, seconds);
    await pollBench('SQLite', { engine: 'sqlite', file: join(dir, 'poll.sqlite') }, seconds, floor);
    await pollBench('PostgreSQL', { ...pg, schema: `${schema}_poll` }, seconds, floor);

}
