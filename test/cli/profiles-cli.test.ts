// `mcim profiles` (src/cli/commands/profiles.ts) through the built binary: type add, generate, stock, export in the three
// subscriber formats parsed back (osmo-hlr: imported into a database osmo-hlr-db-tool creates, when installed); no secret
// in listings or output; bad flags exit 2 with nothing written; a wrong KEK opens nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { parseSubscriberExport } from '../../src/auc/importSubscribers.js';
import { profilesExport, profilesGenerate, profilesTypeAdd } from '../../src/cli/commands/profiles.js';
import { computeOpc } from '../../src/crypto/milenage.js';
import { McimError } from '../../src/errors.js';
import { initSmdpDataDir } from '../../src/smdpp/dataDir.js';
import { luhnDigit } from '../../src/smdpp/generateProfiles.js';
import { fixturePath } from '../helpers/fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcim-profiles-cli-'));
const data = join(dir, 'data');
const TEMPLATE = fixturePath('ts48', 'TS48V3-SAIP2-3-BERTLV-UNIQUE.der');
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const TOP = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

function code(c: string): (e: unknown) => boolean {
  return (e) => e instanceof McimError && e.code === c;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function mcim(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['MCIM_DB'];
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

before(() => {
  initSmdpDataDir(data);
  writeFileSync(join(dir, 'op.hex'), `${OP}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** `mcim profiles export` to standard output, in process. */
async function exportToString(operator: string, format: 'mcim' | 'open5gs' | 'osmo-hlr'): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await profilesExport({ data, operator, format }, sink);
  return Buffer.concat(chunks).toString('utf8');
}

interface McimLine {
  imsi: string;
  iccid: string;
  operator: string;
  algorithm: string;
  k: string;
  opc?: string;
  topc?: string;
  amf: string;
  sqn: string;
}

describe('mcim profiles', () => {
  let milenage: McimLine[] = [];

  it('adds types, generates stock and lists it without secrets', async () => {
    // One after the other: the first migrates the new database (two processes migrating one SQLite file at once fail).
    const add = await mcim('profiles', 'type', 'add', '--data', data, '--type', 'iot-m', '--operator', 'op1', '--template', TEMPLATE, '--op-file', join(dir, 'op.hex'), '--imsi-prefix', '00101', '--iccid-prefix', '8988', '--amf', '9001', '--sqn-start', '000000000020', '--json');
    const tuak = await mcim('profiles', 'type', 'add', '--data', data, '--type', 'iot-t', '--operator', 'op2', '--template', TEMPLATE, '--algorithm', 'tuak', '--key-length', '32', '--op', TOP, '--mac-length', '16', '--keccak-iterations', '2', '--pin1', '1111');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(tuak.code, 0, tuak.stderr);
    const [gen, genT] = await Promise.all([
      mcim('profiles', 'generate', '--data', data, '--type', 'iot-m', '--count', '40', '--iccid-start', '898800000000000000', '--imsi-start', '001010000000001', '--json'),
      mcim('profiles', 'generate', '--data', data, '--type', 'iot-t', '--count', '20', '--iccid-start', '8988000000000010000', '--imsi-start', '001020000000001'),
    ]);
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal((JSON.parse(gen.stdout) as { count: number }).count, 40);
    assert.equal(genT.code, 0, genT.stderr);
    const stock = await mcim('profiles', 'stock', '--data', data, '--json');
    assert.equal(stock.code, 0, stock.stderr);
    const types = JSON.parse(stock.stdout) as { profileType: string; counts: { available: number } }[];
    assert.deepEqual(types.map((t) => [t.profileType, t.counts.available]), [['iot-m', 40], ['iot-t', 20]]);

    milenage = (await exportToString('op1', 'mcim')).trim().split('\n').map((l) => JSON.parse(l) as McimLine);
    assert.equal(milenage.length, 40);
    const everything = [add, tuak, gen, genT, stock].map((r) => r.stdout + r.stderr).join('\n');
    assert.ok(!everything.includes(OP) && !everything.includes(TOP), 'OP/TOP never printed');
    for (const s of milenage) assert.ok(!everything.includes(s.k) && !everything.includes(s.opc!), 'K and OPc never printed outside the export');
  });

  it('mcim format: exactly the AuC import fields, OPc from K and OP, consecutive ICCIDs with their Luhn digit', async () => {
    milenage.forEach((s, i) => {
      assert.deepEqual(Object.keys(s), ['imsi', 'iccid', 'operator', 'algorithm', 'k', 'opc', 'amf', 'sqn']);
      const body = (898800000000000000n + BigInt(i)).toString();
      assert.equal(s.iccid, body + luhnDigit(body));
      assert.equal(s.imsi, `00101${String(i + 1).padStart(10, '0')}`);
      assert.deepEqual([s.operator, s.algorithm, s.amf, s.sqn], ['op1', 'milenage', '9001', '000000000020']);
      assert.equal(s.opc, computeOpc(Buffer.from(s.k, 'hex'), Buffer.from(OP, 'hex')).toString('hex'));
    });
    assert.equal(new Set(milenage.map((s) => s.k)).size, 40);
    const lines = (await exportToString('op2', 'mcim')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 20);
    assert.deepEqual(Object.keys(lines[0]!), ['imsi', 'iccid', 'operator', 'algorithm', 'k', 'topc', 'macLength', 'resLength', 'ckLength', 'ikLength', 'keccakIterations', 'amf', 'sqn']);
    assert.match(String(lines[0]!['k']), /^[0-9a-f]{64}$/);
    assert.match(String(lines[0]!['topc']), /^[0-9a-f]{64}$/);
    assert.deepEqual([lines[0]!['macLength'], lines[0]!['resLength'], lines[0]!['ckLength'], lines[0]!['ikLength'], lines[0]!['keccakIterations']], [16, 8, 16, 16, 2]);
  });

  it("mcim format: the AuC's import parser reads both exports (Milenage and TUAK) as written", async () => {
    const read = parseSubscriberExport(await exportToString('op1', 'mcim'));
    assert.deepEqual(
      read.map((r) => [r.imsi, r.iccid, r.operatorId, r.secrets.algorithm, r.secrets.k.toString('hex'), r.secrets.opc.toString('hex'), r.amf.toString('hex')]),
      milenage.map((s) => [s.imsi, s.iccid, 'op1', 'milenage', s.k, s.opc, '9001']),
    );
    const tuak = parseSubscriberExport(await exportToString('op2', 'mcim'));
    assert.equal(tuak.length, 20);
    assert.ok(tuak.every((r) => r.secrets.algorithm === 'tuak' && r.secrets.k.length === 32 && r.secrets.opc.length === 32));
  });

  it('open5gs format: one subscriber document per line, to a new file of mode 0600', async () => {
    const out = join(dir, 'open5gs.json');
    const r = await mcim('profiles', 'export', '--data', data, '--operator', 'op1', '--format', 'open5gs', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const docs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { imsi: string; security: { k: string; opc: string; op: null; amf: string; sqn: { $numberLong: string } } });
    assert.equal(docs.length, 40);
    docs.forEach((d, i) => {
      assert.equal(d.imsi, milenage[i]!.imsi);
      assert.deepEqual(d.security, { k: milenage[i]!.k, op: null, opc: milenage[i]!.opc, amf: '9001', sqn: { $numberLong: '32' } });
    });
    await assert.rejects(profilesExport({ data, operator: 'op1', format: 'open5gs', out }), code('FILE_EXISTS'));
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 40, 'the existing file is untouched');
  });

  it('osmo-hlr format: imports into a database osmo-hlr-db-tool creates (skipped without osmo-hlr)', async (t) => {
    const out = join(dir, 'hlr.sql');
    const r = await mcim('profiles', 'export', '--data', data, '--operator', 'op1', '--format', 'osmo-hlr', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(profilesExport({ data, operator: 'op2', format: 'osmo-hlr', out: join(dir, 'tuak.sql') }), code('INVALID_ARGUMENT'));
    assert.ok(!existsSync(join(dir, 'tuak.sql')), 'nothing written for TUAK');
    const hlrDb = join(dir, 'hlr.db');
    const created = spawnSync('osmo-hlr-db-tool', ['-l', hlrDb, 'create'], { encoding: 'utf8' });
    if (created.error !== undefined || created.status !== 0 || !existsSync(hlrDb)) {
      t.skip(`osmo-hlr-db-tool is not installed (apt-get install osmo-hlr): ${created.error?.message ?? created.stderr}`);
      return;
    }
    const db = new BetterSqlite3(hlrDb);
    try {
      db.exec(readFileSync(out, 'utf8'));
      const rows = db.prepare('SELECT s.imsi, a.algo_id_3g, a.k, a.opc, a.sqn FROM subscriber s JOIN auc_3g a ON a.subscriber_id = s.id ORDER BY s.imsi').all() as { imsi: string; algo_id_3g: number; k: string; opc: string; sqn: number }[];
      assert.deepEqual(
        rows,
        milenage.map((s) => ({ imsi: s.imsi, algo_id_3g: 5, k: s.k, opc: s.opc, sqn: 32 })),
      );
    } finally {
      db.close();
    }
  });

  it('bad flags exit 2 and write nothing', async () => {
    const before = (await mcim('profiles', 'stock', '--data', data, '--json')).stdout;
    // Through the binary: usage errors (commander) and a refused value (McimError) alike exit 2.
    const spawned = await Promise.all([
      mcim('profiles', 'generate', '--data', data, '--type', 'iot-m', '--count', '0', '--iccid-start', '898800000000050000', '--imsi-start', '001010000050000'),
      mcim('profiles', 'generate', '--data', data, '--type', 'iot-m', '--count', '5'),
      mcim('profiles', 'export', '--data', data, '--operator', 'op1', '--format', 'csv'),
    ]);
    for (const r of spawned) assert.equal(r.code, 2, r.stderr);
    // The same refusals in process, each with its code.
    const gen = { data, type: 'iot-m', count: '5', iccidStart: '898800000000050000', imsiStart: '001010000050000' };
    await assert.rejects(profilesGenerate({ ...gen, count: 'ten' }), code('INVALID_ARGUMENT'));
    await assert.rejects(profilesGenerate({ ...gen, iccidStart: '898800000000000010' }), code('STOCK_CONFLICT'));
    await assert.rejects(profilesGenerate({ ...gen, type: 'nope' }), code('NOT_FOUND'));
    await assert.rejects(profilesGenerate({ ...gen, data: join(dir, 'no-such-dir') }), code('INVALID_ARGUMENT'));
    const type = { data, type: 'x1', operator: 'op1', template: TEMPLATE, op: OP };
    await assert.rejects(profilesTypeAdd({ ...type, op: 'abcd' }), code('INVALID_ARGUMENT'));
    await assert.rejects(profilesTypeAdd({ ...type, opFile: join(dir, 'op.hex') }), code('INVALID_ARGUMENT'));
    await assert.rejects(profilesTypeAdd({ ...type, template: join(dir, 'missing.der') }), code('INVALID_ARGUMENT'));
    await assert.rejects(profilesTypeAdd({ ...type, template: join(dir, 'op.hex') }), code('TEMPLATE_NOT_PATCHABLE'));
    await assert.rejects(profilesTypeAdd({ ...type, algorithm: 'xor' }), code('INVALID_ARGUMENT'));
    await assert.rejects(profilesTypeAdd({ ...type, type: 'iot-m' }), code('PROFILE_TYPE_EXISTS'));
    assert.equal((await mcim('profiles', 'stock', '--data', data, '--json')).stdout, before);
  });

  it('a wrong key-encryption key opens nothing: KEK_MISMATCH, exit 2', async () => {
    const wrong = join(dir, 'wrong.kek');
    writeFileSync(wrong, randomBytes(32).toString('hex'));
    const r = await mcim('profiles', 'export', '--data', data, '--operator', 'op1', '--format', 'mcim', '--kek-file', wrong);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /key-encryption key does not unwrap/);
    assert.equal(r.stdout, '');
    await assert.rejects(profilesGenerate({ data, type: 'iot-m', count: '1', iccidStart: '898800000000090000', imsiStart: '001010000090000', kekFile: wrong }), code('KEK_MISMATCH'));
    await assert.rejects(profilesGenerate({ data, type: 'iot-m', count: '1', iccidStart: '898800000000090000', imsiStart: '001010000090000', kekFile: join(dir, 'none.kek') }), code('NOT_FOUND'));
  });
});
