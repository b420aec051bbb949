// The AuC HTTP API (src/auc/server.ts) through fastify inject and one real loopback listen: bearer token on every route,
// subscribers without secrets, EPS/5G vectors, RES* confirmation, resync, SUCI; hostile input gets a typed error and writes
// nothing; the OpenAPI document lists every route; no secret reaches a log line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { deriveResStar, servingNetworkName } from '../../src/crypto/keyDerivation5g.js';
import { Milenage } from '../../src/crypto/milenage.js';
import { SqnFreshnessState, sqnFromNumber } from '../../src/crypto/sqnFreshness.js';
import { hnPublicKeyOf } from '../../src/crypto/suci.js';
import { usimAuthenticate } from '../../src/crypto/usimAuthenticate.js';
import { McimError } from '../../src/errors.js';
import { AUC_ROUTES, BODY_LIMIT, createAucServer } from '../../src/auc/server.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';
import { captureLogger, type LogCapture } from '../helpers/logCapture.js';
import { milenageRecord, openTestAuc, type TestAuc } from './harness.js';

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const K = '90dca4eda45b53cf0f12d7c9c3bc6a89';
const OPC = 'cb9cccc4b9258e6dca4760379fb82581';
const SNN = servingNetworkName('001', '01');
const IMSI = '001010000000101';

interface SuciSet { type: string; suci: string; protection_scheme: string; hn_key_id: number; hn_private_key?: string; expected_supi?: string; expect_reject: boolean }
const suciSets = readJsonFixture<{ sets: SuciSet[] }>('vectors', 'suci-33501.json').sets.filter((s) => s.type === 'suci');

describe('AuC HTTP API', () => {
  let auc: TestAuc;
  let app: FastifyInstance;
  let logs: LogCapture;
  const call = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = AUTH) => {
    const r = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    // The answer as JSON.parse reads it: the assertions below check its shape.
    const body = r.body === '' ? undefined : JSON.parse(r.body);
    return { status: r.statusCode, body };
  };
  const count = async (): Promise<number> => (await auc.store.listSubscribers({ limit: 1000 })).length;

  before(async () => {
    auc = await openTestAuc('SQLite');
    logs = captureLogger('info');
    app = await createAucServer(auc.ctx, { token: TOKEN, logger: logs.logger });
    for (const s of suciSets) {
      const profile = s.protection_scheme === '1' ? 'A' : s.protection_scheme === '2' ? 'B' : undefined;
      if (profile !== undefined && s.hn_private_key !== undefined) await auc.store.putHnKey(profile, s.hn_key_id, hex(s.hn_private_key), hnPublicKeyOf(profile, hex(s.hn_private_key)));
    }
  });
  after(async () => {
    await app.close();
    await auc.close();
  });

  it('refuses every route without the bearer token or with another one (401 UNAUTHORIZED), the OpenAPI document too', async () => {
    for (const [method, url] of [...AUC_ROUTES, ['GET', '/openapi.json']] as const) {
      const path = url.replace('{imsi}', IMSI);
      for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }, { authorization: 'Basic dXNlcjpwYXNz' }]) {
        const r = await call(method as 'GET', path, method === 'GET' || method === 'DELETE' ? undefined : {}, headers);
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.body!['error'].code, 'UNAUTHORIZED');
      }
    }
    await assert.rejects(createAucServer(auc.ctx, { token: 'short' }), (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT');
  });

  it('creates, shows, lists, restricts, suspends, resumes and deletes subscribers; no K or OPc in any answer', async () => {
    const created = await call('POST', '/subscribers', milenageRecord(IMSI, K, OPC, { iccid: '89882110000000001010' }));
    assert.equal(created.status, 201);
    assert.equal(created.body!['imsi'], IMSI);
    const shown = await call('GET', `/subscribers/${IMSI}`);
    const listed = await call('GET', '/subscribers?limit=10');
    assert.equal(listed.body!['subscribers'].length, 1);
    for (const r of [created, shown, listed]) {
      const text = JSON.stringify(r.body);
      assert.ok(!text.includes(K) && !text.includes(OPC) && !/"(k|opc|topc)"/i.test(text), text);
    }
    const restricted = await call('PUT', `/subscribers/${IMSI}/restrictions`, { dataOnly: true, volumeCapBytes: 5000 });
    assert.deepEqual(restricted.body!['restrictions'], { dataOnly: true, volumeCapBytes: 5000 });
    assert.equal((await call('POST', `/subscribers/${IMSI}/suspend`)).body!['state'], 'suspended');
    const refused = await call('POST', '/vectors/eps', { imsi: IMSI, mcc: '001', mnc: '01' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body!['error'].code, 'SUBSCRIBER_SUSPENDED');
    assert.equal((await call('POST', `/subscribers/${IMSI}/resume`)).body!['state'], 'active');
    const imported = await call('POST', '/subscribers/import', { subscribers: [milenageRecord('001010000000102', K, OPC), milenageRecord('001010000000103', K, OPC)] });
    assert.deepEqual(imported.body, { imported: 2 });
    const page = await call('GET', '/subscribers?limit=2');
    assert.equal(page.body!['next'], '001010000000102');
    assert.deepEqual((await call('GET', `/subscribers?after=${page.body!['next']}`)).body!['subscribers'].map((s: { imsi: string }) => s.imsi), ['001010000000103']);
    assert.equal((await call('DELETE', '/subscribers/001010000000103')).status, 204);
    assert.equal((await call('DELETE', '/subscribers/001010000000103')).body!['error'].code, 'SUBSCRIBER_NOT_FOUND');
  });

  it('EPS and 5G vectors the USIM accepts, the 5G one confirmed by RES*; resync from AUTS gives a vector the USIM accepts', async () => {
    const alg = new Milenage(hex(K), hex(OPC));
    const usim = new SqnFreshnessState();
    const eps = await call('POST', '/vectors/eps', { imsi: IMSI, mcc: '001', mnc: '01' });
    assert.equal(eps.status, 200);
    assert.deepEqual(eps.body!['restrictions'], { dataOnly: true, volumeCapBytes: 5000 });
    const a = usimAuthenticate(alg, usim, hex(eps.body!['rand']), hex(eps.body!['autn']));
    assert.ok(a.status === 'success' && a.res.toString('hex') === eps.body!['xres']);
    const g = await call('POST', '/vectors/5g', { imsi: IMSI, servingNetworkName: SNN });
    const b = usimAuthenticate(alg, usim, hex(g.body!['rand']), hex(g.body!['autn']));
    assert.equal(b.status, 'success');
    if (b.status !== 'success') return;
    const resStar = deriveResStar(b.ck, b.ik, SNN, hex(g.body!['rand']), b.res).toString('hex');
    const wrong = await call('POST', '/vectors/5g/confirm', { authCtxId: g.body!['authCtxId'], resStar: '00'.repeat(16) });
    assert.deepEqual([wrong.status, wrong.body!['error'].code], [403, 'RES_STAR_MISMATCH']);
    const g2 = await call('POST', '/vectors/5g', { imsi: IMSI, servingNetworkName: SNN });
    const c = usimAuthenticate(alg, usim, hex(g2.body!['rand']), hex(g2.body!['autn']));
    assert.ok(c.status === 'success');
    const ok = await call('POST', '/vectors/5g/confirm', { authCtxId: g2.body!['authCtxId'], resStar: deriveResStar(c.ck, c.ik, SNN, hex(g2.body!['rand']), c.res).toString('hex') });
    assert.deepEqual(ok.body, { supi: `imsi-${IMSI}`, servingNetworkName: SNN });
    assert.equal(resStar.length, 32);

    for (let ind = 0; ind < 32; ind++) usim.verify(sqnFromNumber(500 * 32 + ind));
    const stale = await call('POST', '/vectors/eps', { imsi: IMSI, mcc: '001', mnc: '01' });
    const failure = usimAuthenticate(alg, usim, hex(stale.body!['rand']), hex(stale.body!['autn']));
    assert.equal(failure.status, 'sync_failure');
    if (failure.status !== 'sync_failure') return;
    const badMac = await call('POST', '/vectors/5g/resync', { imsi: IMSI, servingNetworkName: SNN, rand: stale.body!['rand'], auts: '00'.repeat(14) });
    assert.deepEqual([badMac.status, badMac.body!['error'].code], [403, 'MAC_FAILURE']);
    const resync = await call('POST', '/vectors/5g/resync', { imsi: IMSI, servingNetworkName: SNN, rand: stale.body!['rand'], auts: failure.auts.toString('hex') });
    assert.equal(resync.body!['sqnMs'], failure.sqnMs.toString('hex'));
    assert.equal(usimAuthenticate(alg, usim, hex(resync.body!['vector'].rand), hex(resync.body!['vector'].autn)).status, 'success');
    const epsResync = await call('POST', '/vectors/eps/resync', { imsi: IMSI, mcc: '001', mnc: '01', rand: stale.body!['rand'], auts: failure.auts.toString('hex') });
    assert.equal(epsResync.status, 200);
    assert.equal(typeof epsResync.body!['vector'].kasme, 'string');
  });

  it('de-conceals the SUCIs of the test data (null-scheme, profile A, profile B) and refuses the malformed one', async () => {
    for (const s of suciSets) {
      const r = await call('POST', '/suci/deconceal', { suci: s.suci });
      if (s.expect_reject) {
        assert.equal(r.status, 400, s.suci);
        assert.equal(typeof r.body!['error'].code, 'string');
      } else {
        assert.equal(r.body!['supi'], s.expected_supi, s.suci);
      }
    }
    const unknownKey = await call('POST', '/suci/deconceal', { suci: suciSets[1]!.suci.replace('-1-1-', '-1-9-') });
    assert.deepEqual([unknownKey.status, unknownKey.body!['error'].code], [404, 'NOT_FOUND']);
  });

  it('hostile input: typed errors, nothing written', async () => {
    const before = await count();
    const seqBefore = (await auc.store.getSubscriber(IMSI)).seqHe;
    const cases: [string, 'POST' | 'PUT' | 'GET', string, unknown, number, string][] = [
      ['oversize body', 'POST', '/subscribers', { ...milenageRecord('001010000000200', K, OPC), iccid: '8'.repeat(BODY_LIMIT) }, 413, 'INPUT_TOO_LARGE'],
      ['bad hex K', 'POST', '/subscribers', milenageRecord('001010000000201', 'zz'.repeat(16), OPC), 400, 'INVALID_ARGUMENT'],
      ['short OPc', 'POST', '/subscribers', milenageRecord('001010000000202', K, OPC.slice(2)), 400, 'INVALID_ARGUMENT'],
      ['unknown field', 'POST', '/subscribers', { ...milenageRecord('001010000000203', K, OPC), ki: K }, 400, 'INVALID_ARGUMENT'],
      ['TUAK without TOPc', 'POST', '/subscribers', { imsi: '001010000000204', operator: 'op1', algorithm: 'tuak', k: K }, 400, 'INVALID_ARGUMENT'],
      ['duplicate IMSI', 'POST', '/subscribers', milenageRecord(IMSI, K, OPC), 409, 'SUBSCRIBER_EXISTS'],
      ['import with one bad record', 'POST', '/subscribers/import', { subscribers: [milenageRecord('001010000000205', K, OPC), milenageRecord('001010000000206', K, OPC, { amf: '80' })] }, 400, 'INVALID_ARGUMENT'],
      ['import with a duplicate', 'POST', '/subscribers/import', { subscribers: [milenageRecord('001010000000207', K, OPC), milenageRecord('001010000000207', K, OPC)] }, 409, 'SUBSCRIBER_EXISTS'],
      ['unknown IMSI', 'POST', '/vectors/eps', { imsi: '001019999999999', mcc: '001', mnc: '01' }, 404, 'SUBSCRIBER_NOT_FOUND'],
      ['bad MCC', 'POST', '/vectors/eps', { imsi: IMSI, mcc: '1', mnc: '01' }, 400, 'INVALID_ARGUMENT'],
      ['bad serving network name', 'POST', '/vectors/5g', { imsi: IMSI, servingNetworkName: '5G:evil' }, 400, 'INVALID_ARGUMENT'],
      ['unknown authCtxId', 'POST', '/vectors/5g/confirm', { authCtxId: '0'.repeat(32), resStar: '0'.repeat(32) }, 404, 'AUTHENTICATION_NOT_FOUND'],
      ['AUTS of a wrong length', 'POST', '/vectors/eps/resync', { imsi: IMSI, mcc: '001', mnc: '01', rand: '0'.repeat(32), auts: '0'.repeat(30) }, 400, 'INVALID_ARGUMENT'],
      ['oversize SUCI', 'POST', '/suci/deconceal', { suci: `suci-0-001-01-0-1-1-${'a'.repeat(600)}` }, 400, 'INVALID_ARGUMENT'],
      ['malformed SUCI', 'POST', '/suci/deconceal', { suci: 'suci-0-001' }, 400, 'INVALID_SUCI'],
      ['bad limit', 'GET', '/subscribers?limit=0', undefined, 400, 'INVALID_ARGUMENT'],
      ['unknown route', 'GET', '/subscribers/1/keys', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [name, method, url, payload, status, errorCode] of cases) {
      const r = await call(method, url, payload);
      assert.deepEqual([r.status, r.body?.['error']?.code], [status, errorCode], name);
    }
    for (const raw of ['{"imsi":', 'null', '[]', '"x"', '{"imsi":"001010000000300","k":1e400}']) {
      const r = await app.inject({ method: 'POST', url: '/subscribers', headers: { ...AUTH, 'content-type': 'application/json' }, payload: raw });
      assert.equal(r.statusCode, 400, raw);
      assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'INVALID_ARGUMENT');
    }
    const text = await app.inject({ method: 'POST', url: '/vectors/eps', headers: { ...AUTH, 'content-type': 'text/plain' }, payload: 'imsi' });
    assert.equal(text.statusCode, 400, 'a text body is not a JSON object');
    assert.equal(await count(), before, 'no subscriber written');
    assert.equal((await auc.store.getSubscriber(IMSI)).seqHe, seqBefore, 'no SEQ allocated');
  });

  it('random JSON bodies on every POST route: a 4xx with a typed error or a 200, never a 500 (property)', async () => {
    const routes = AUC_ROUTES.filter(([m, u]) => m === 'POST' && !u.includes('{imsi}')).map(([, u]) => u);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 3 }), async (url, value) => {
        const r = await app.inject({ method: 'POST', url, headers: { ...AUTH, 'content-type': 'application/json' }, payload: JSON.stringify(value) });
        assert.ok(r.statusCode < 500, `${url} ${r.statusCode} ${r.body}`);
        if (r.statusCode >= 400) assert.match((JSON.parse(r.body) as { error: { code: string } }).error.code, /^[A-Z_]+$/);
      }),
      { numRuns: 150 },
    );
  });

  it('the OpenAPI document lists every route with its schemas and the bearer scheme', async () => {
    const doc = (await call('GET', '/openapi.json')).body!;
    assert.equal(doc['openapi'], '3.0.3');
    assert.deepEqual(doc['components'].securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } });
    const listed = Object.entries(doc['paths'] as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    assert.deepEqual(listed.sort(), AUC_ROUTES.map(([m, u]) => `${m} ${u}`).sort());
    const eps = doc['paths']['/vectors/eps'].post;
    assert.ok(eps.requestBody.content['application/json'].schema.properties.imsi);
    assert.ok(eps.responses['200'] && eps.responses['404']);
  });

  it('serves on a real loopback socket', async () => {
    const other = await createAucServer(auc.ctx, { token: TOKEN });
    try {
      await other.listen({ host: '127.0.0.1', port: 0 });
      const address = other.server.address() as { port: number };
      const r = await fetch(`http://127.0.0.1:${address.port}/subscribers/${IMSI}`, { headers: AUTH });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { imsi: string }).imsi, IMSI);
      const denied = await fetch(`http://127.0.0.1:${address.port}/subscribers/${IMSI}`);
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get('www-authenticate'), 'Bearer');
    } finally {
      await other.close();
    }
  });

  it('serves over TLS (for an address beyond loopback) with the same token rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcim-auc-tls-'));
    try {
      const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=auc', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const tls = await createAucServer(auc.ctx, { token: TOKEN, tls: { key: readFileSync(key), cert: readFileSync(cert) } });
      try {
        await tls.listen({ host: '127.0.0.1', port: 0 });
        const { port } = tls.server.address() as { port: number };
        const get = (headers: Record<string, string>): Promise<[number, string]> =>
          new Promise((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port, path: `/subscribers/${IMSI}`, ca: readFileSync(cert), headers }, (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve([res.statusCode!, body]));
            });
            req.on('error', reject);
            req.end();
          });
        const [status, body] = await get(AUTH);
        assert.equal(status, 200);
        assert.equal((JSON.parse(body) as { imsi: string }).imsi, IMSI);
        assert.equal((await get({}))[0], 401);
      } finally {
        await tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs one line per request and never a secret, a token or a key', () => {
    const text = logs.text();
    assert.ok(logs.lines().some((l) => l['msg'] === 'AuC request' && l['route'] === '/vectors/eps'));
    for (const secret of [K, OPC, TOKEN, K.toUpperCase()]) assert.ok(!text.includes(secret), 'a secret in the logs');
    assert.ok(!/kasme|kausf|kseaf|xres/i.test(text));
  });
});
