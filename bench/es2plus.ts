// ES2+ orders (DownloadOrder by profile type + ConfirmOrder released) per second on SQLite and PostgreSQL: through the
// ES2+ HTTPS API with mutual TLS (8 keep-alive clients in a worker thread, the server on this thread), beside the same
// two functions called in process on the same store (the most the API can reach), itself beside two write
// transactions on the same database, one of them a package-size row (the commits an order cannot do without).
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClientInfo } from '../src/http/server.js';
import { addProfileType } from '../src/smdpp/addProfileType.js';
import { confirmOrder } from '../src/smdpp/es2plus/confirmOrder.js';
import { DEFAULT_ORDER_LIMITS, type Es2plusContext } from '../src/smdpp/es2plus/context.js';
import { downloadOrder } from '../src/smdpp/es2plus/downloadOrder.js';
import { createEs2plusServer } from '../src/smdpp/es2plusServer.js';
import { generateStock } from '../src/smdpp/generateProfiles.js';
import { openDatabase, type DatabaseConfig } from '../src/store/database.js';
import { OperatorProfiles } from '../src/store/operatorProfiles.js';
import { OperatorTenants } from '../src/store/operatorTenants.js';
import { ProfileStock } from '../src/store/profileStock.js';
import { SecretBox } from '../src/store/secretBox.js';
import { SmdpStore } from '../src/store/smdpStore.js';
import { readFixture } from '../test/helpers/fixtures.js';
import { report } from './lib.js';
import { loopbackIdentity } from '../test/helpers/loopbackIdentity.js';

const TEMPLATE = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
const OP = '63bfa50ee6523365ff14c1f45f88737d';
const CLIENTS = 8;
/** Orders per measurement at most (each takes one profile of the stock). */
const MAX_ORDERS = 3_000;
const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';


/** The operator's clients: each loop posts DownloadOrder then ConfirmOrder until the time or the orders run out. */
const CLIENT = `
const { Agent, request } = require('node:https');
const { parentPort, workerData: w } = require('node:worker_threads');
const agent = new Agent({ keepAlive: true, maxSockets: w.clients, cert: w.cert, key: w.key, ca: w.ca });
let call = 0;
const post = (fn, body) => new Promise((resolve, reject) => {
  const payload = JSON.stringify({ header: { functionRequesterIdentifier: 'bench', functionCallIdentifier: String(call++) }, ...body });
  const req = request({ host: '127.0.0.1', port: w.port, path: '/gsma/rsp2/es2plus/' + fn, method: 'POST', agent,
    headers: { 'content-type': 'application/json', 'x-admin-protocol': 'gsma/rsp/v2.5.0', 'content-length': Buffer.byteLength(payload) } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      const b = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (b.header.functionExecutionStatus.status !== 'Executed-Success') reject(new Error(fn + ': ' + JSON.stringify(b.header)));
      else resolve(b);
    });
  });
  req.on('error', reject);
  req.end(payload);
});
const order = async () => {
  const { iccid } = await post('downloadOrder', { profileType: 'bench' });
  await post('confirmOrder', { iccid, releaseFlag: true });
};
(async () => {
  for (let i = 0; i < 20; i++) await order();
  let done = 0;
  const start = performance.now();
  const deadline = start + w.seconds * 1000;
  await Promise.all(Array.from({ length: w.clients }, async () => {
    while (done < w.max && performance.now() < deadline) { done++; await order(); }
  }));
  parentPort.postMessage({ rate: done / ((performance.now() - start) / 1000) });
  agent.destroy();
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

function engineIsPostgres(config: DatabaseConfig): boolean {
  return config.engine === 'postgres';
}

async function benchEngine(label: string, config: DatabaseConfig, seconds: number): Promise<void> {
  const db = await openDatabase(config);
  const store = new SmdpStore(db, new SecretBox(randomBytes(32)), { purgeSessionsEvery: 0 });
  try {
    const now = Date.now();
    const stock = new ProfileStock(db, new SecretBox(randomBytes(32)));
    const tenants = new OperatorTenants(db);
    const operator = loopbackIdentity('bench-operator');
    const server = loopbackIdentity('bench-smdp');
    await tenants.add({ operator: 'bench', functionRequesterIdentifier: 'bench' }, now);
    await tenants.addCertificate('bench', { fingerprint: createHash('sha256').update(operator.der).digest('hex'), subject: 'CN=bench operator', notBefore: 0, notAfter: now + 3_600_000 }, now);
    await addProfileType(stock, { name: 'bench', operator: 'bench', template: TEMPLATE, rules: { op: OP, iccidPrefix: '8988', imsiPrefix: '00101' } }, now);
    await generateStock(stock, 'bench', { count: 2 * MAX_ORDERS + 100, iccidStart: '898800000000000000', imsiStart: '001010000000000' }, now);
    const ctx: Es2plusContext = { address: 'smdp.example.com', tenants, profiles: new OperatorProfiles(db, store.orders, stock), limits: DEFAULT_ORDER_LIMITS, now: Date.now };
    // In process: the same functions with the operator's certificate as the TLS layer would hand it over.
    const client: ClientInfo = { address: '127.0.0.1', notes: {}, header: { functionRequesterIdentifier: 'bench' }, peerCertificate: () => operator.der };
    const order = async (): Promise<void> => {
      const { iccid } = await downloadOrder(ctx, { profileType: 'bench' }, client);
      await confirmOrder(ctx, { iccid, releaseFlag: true }, client);
    };
    // The floor of an order: its two calls commit one write transaction each (DownloadOrder, ConfirmOrder), measured as
    // a one-row update committed, then a package-size row inserted and committed, on the same database; the package's
    // decryption and re-encryption and every read ride on top.
    const blob = engineIsPostgres(config) ? 'bytea' : 'blob';
    await sql`CREATE TABLE bench_floor (id integer PRIMARY KEY, body ${sql.raw(blob)} NOT NULL)`.execute(db);
    let floorDone = 0;
    const floorStart = performance.now();
    while (floorDone < MAX_ORDERS && performance.now() < floorStart + seconds * 1000) {
      floorDone++;
      await sql`UPDATE stock_profile_types SET created_at = created_at WHERE name = 'bench'`.execute(db);
      await sql`INSERT INTO bench_floor (id, body) VALUES (${floorDone}, ${TEMPLATE})`.execute(db);
    }
    const commitFloor = floorDone / ((performance.now() - floorStart) / 1000);
    for (let i = 0; i < 20; i++) await order();
    let done = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    while (done < MAX_ORDERS && performance.now() < deadline) {
      done++;
      await order();
    }
    const inProcess = done / ((performance.now() - start) / 1000);

    const app = createEs2plusServer({ tls: { key: server.key, cert: server.cert }, context: ctx });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      const worker = new Worker(CLIENT, { eval: true, workerData: { port, cert: operator.cert, key: operator.key, ca: server.cert, clients: CLIENTS, seconds, max: MAX_ORDERS } });
      const [result] = (await once(worker, 'message')) as [{ rate: number } | { error: string }];
      await worker.terminate();
      if ('error' in result) throw new Error(result.error);
      report({ name: `ES2+ order in process (${label})`, value: inProcess, unit: 'orders/s', limitName: 'two commits, one package-size', limit: commitFloor });
      report({ name: `ES2+ order over mTLS HTTPS (${label})`, value: result.rate, unit: 'orders/s', limitName: 'in process', limit: inProcess });
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}

export async function benchEs2plus(seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-es2-'));
  const schema = `mcim_bench_es2_${process.pid}`;
  try {
    await benchEngine('SQLite', { engine: 'sqlite', file: join(dir, 'es2.sqlite') }, seconds);
    await benchEngine('PostgreSQL', { engine: 'postgres', connectionString: PG_URL, schema }, seconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}
