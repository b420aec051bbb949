// The AuC (src/auc) on SQLite: EPS-AKA vectors per second through its HTTP API (loopback, keep-alive, 8 clients in a worker
// thread, the server on this one), beside the in-process AuC function on the same store (the most the API can reach),
// itself beside the bare vector computation without the store (Milenage f1..f5 and KASME).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAuthenticationVector } from '../src/crypto/authenticationVector.js';
import { deriveKasme, encodePlmnId } from '../src/crypto/keyDerivation5g.js';
import { Milenage } from '../src/crypto/milenage.js';
import { createAucContext } from '../src/auc/context.js';
import { generateEpsVector } from '../src/auc/generateEpsVector.js';
import { createAucServer } from '../src/auc/server.js';
import { parseSubscriberRecord } from '../src/auc/subscriberRecord.js';
import { AucStore } from '../src/store/aucStore.js';
import { openDatabase } from '../src/store/database.js';
import { SecretBox } from '../src/store/secretBox.js';
import { measure, report } from './lib.js';

const SUBSCRIBERS = 64;
const MAX_VECTORS = 20_000;
const CLIENTS = 8;
const TOKEN = randomBytes(24).toString('hex');

/**
 * The HTTP clients, in a worker thread (so they do not share the server's thread): `clients` keep-alive connections
 * POST /vectors/eps until `seconds` pass or `max` vectors are received; posts back the rate.
 */
const CLIENT = `
const { Agent, request } = require('node:http');
const { parentPort, workerData: w } = require('node:worker_threads');
const agent = new Agent({ keepAlive: true, maxSockets: w.clients });
const headers = { authorization: 'Bearer ' + w.token, 'content-type': 'application/json' };
const post = (imsi) => new Promise((resolve, reject) => {
  const req = request({ host: '127.0.0.1', port: w.port, path: '/vectors/eps', method: 'POST', agent, headers }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('AuC API answered ' + res.statusCode))));
  });
  req.on('error', reject);
  req.end(JSON.stringify({ imsi, mcc: '001', mnc: '01' }));
});
(async () => {
  for (let i = 0; i < 50; i++) await post(w.imsis[i % w.imsis.length]);
  let done = 0;
  const start = performance.now();
  const deadline = start + w.seconds * 1000;
  await Promise.all(Array.from({ length: w.clients }, async () => {
    while (done < w.max && performance.now() < deadline) await post(w.imsis[done++ % w.imsis.length]);
  }));
  parentPort.postMessage({ rate: done / ((performance.now() - start) / 1000) });
  agent.destroy();
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

/** Runs `one` from `clients` loops until `seconds` pass or `max` calls are made; returns calls per second. */
async function rate(seconds: number, max: number, clients: number, one: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < 50; i++) await one(i);
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (done < max && performance.now() < deadline) await one(done++);
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

export async function benchAuc(seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-bench-auc-'));
  const db = await openDatabase({ engine: 'sqlite', file: join(dir, 'auc.sqlite') });
  try {
    const store = new AucStore(db, new SecretBox(randomBytes(32)));
    const k = randomBytes(16).toString('hex');
    const opc = randomBytes(16).toString('hex');
    const imsis = Array.from({ length: SUBSCRIBERS }, (_, i) => `00101${String(i).padStart(10, '0')}`);
    await store.addSubscribers(imsis.map((imsi) => parseSubscriberRecord({ imsi, operator: 'bench', algorithm: 'milenage', k, opc }, imsi)));
    const ctx = createAucContext(store);
    const plmn = { mcc: '001', mnc: '01' };

    const milenage = new Milenage(Buffer.from(k, 'hex'), Buffer.from(opc, 'hex'));
    const plmnId = encodePlmnId('001', '01');
    const amf = Buffer.from('8000', 'hex');
    const bare = measure(() => {
      const v = generateAuthenticationVector(milenage, randomBytes(16), randomBytes(6), amf);
      deriveKasme(v.ck, v.ik, plmnId, v.autn.subarray(0, 6));
    }, seconds);
    const inProcess = await rate(seconds, MAX_VECTORS, 1, (i) => generateEpsVector(ctx, imsis[i % SUBSCRIBERS]!, plmn).then(() => undefined));
    report({ name: 'AuC EPS vector, in process (SQLite store)', value: inProcess, unit: 'vectors/s', limitName: 'Milenage + KASME, no store', limit: bare });

    const app = await createAucServer(ctx, { token: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as { port: number };
      const worker = new Worker(CLIENT, { eval: true, workerData: { port, token: TOKEN, imsis, clients: CLIENTS, seconds, max: MAX_VECTORS } });
      const [result] = (await once(worker, 'message')) as [{ rate: number } | { error: string }];
      await worker.terminate();
      if ('error' in result) throw new Error(result.error);
      const api = result.rate;
      report({ name: `AuC EPS vector, HTTP API (${CLIENTS} clients, 2 threads)`, value: api, unit: 'vectors/s', limitName: 'AuC in process', limit: inProcess });
    } finally {
      await app.close();
    }
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
