// The subscriber export (JSON Lines) read by the AuC: bounded lines and count, a bad line named by its number, nothing written
// on any error; random input gives typed errors only (property); and the `mcim auc` commands over a SQLite file.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { generateAuts } from '../../src/crypto/authenticationVector.js';
import { deriveResStar } from '../../src/crypto/keyDerivation5g.js';
import { Milenage } from '../../src/crypto/milenage.js';
import { sqnFromNumber } from '../../src/crypto/sqnFreshness.js';
import { concealSuci } from '../../src/crypto/suci.js';
import { importSubscribers, parseSubscriberExport } from '../../src/auc/importSubscribers.js';
import { McimError } from '../../src/errors.js';
import { milenageRecord, openTestAuc } from './harness.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const TUAK = { imsi: '001010000000002', iccid: '89882110000000000027', operator: 'op1', algorithm: 'tuak', k: 'ab'.repeat(32), topc: 'cd'.repeat(32), macLength: 8, resLength: 8, ckLength: 16, ikLength: 16, keccakIterations: 1, amf: '8000', sqn: '000000000040' };
const lines = (...records: unknown[]): string => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
const code = (c: string, text?: RegExp) => (e: unknown) => e instanceof McimError && e.code === c && (text === undefined || text.test(e.message));

describe('subscriber export (JSON Lines)', () => {
  it('reads Milenage and TUAK lines, skipping blank ones; SQN becomes SEQ_HE', () => {
    const list = parseSubscriberExport(`${lines(milenageRecord('001010000000001', K, OPC, { iccid: '8988211000000000001' }), '', TUAK)}\n\n`);
    assert.deepEqual(list.map((s) => [s.imsi, s.secrets.algorithm, s.seqHe]), [['001010000000001', 'milenage', 0], ['001010000000002', 'tuak', 2]]);
    assert.deepEqual(list[1]!.secrets.tuak, { macLength: 8, resLength: 8, ckLength: 16, ikLength: 16, keccakIterations: 1 });
  });

  it('names the bad line and never quotes a secret', () => {
    const bad = [
      [milenageRecord('001010000000003', K, `${OPC}00`), /line 2: "opc" must be 16 bytes/],
      [{ ...milenageRecord('001010000000003', K, OPC), topc: 'cd'.repeat(32) }, /line 2: "topc" is a TUAK field/],
      [{ ...TUAK, imsi: '001010000000003', opc: OPC }, /line 2: "opc" is a Milenage field/],
      [{ ...TUAK, imsi: '001010000000003', macLength: 12 }, /line 2: "macLength" must be one of 8, 16, 32/],
      [milenageRecord('0010', K, OPC), /line 2: "imsi"/],
      ['{"imsi": "001010000000003",', /line 2: not valid JSON/],
      ['[1,2]', /line 2: not a JSON object/],
      [{ ...milenageRecord('001010000000003', K, OPC), algorithm: 'comp128' }, /line 2: "algorithm"/],
      [milenageRecord('001010000000001', K, OPC), /line 2: IMSI 001010000000001 is already on line 1/],
    ] as const;
    for (const [record, message] of bad) {
      assert.throws(() => parseSubscriberExport(lines(milenageRecord('001010000000001', K, OPC), record)), (e: unknown) => {
        assert.ok(e instanceof McimError && e.code === 'INVALID_ARGUMENT', String(e));
        assert.match(e.message, message);
        assert.ok(!e.message.includes(K) && !e.message.includes(OPC));
        return true;
      });
    }
  });

  it('bounds the line length, the number of lines and the size', () => {
    const long = JSON.stringify({ ...milenageRecord('001010000000004', K, OPC), iccid: '8'.repeat(5000) });
    assert.throws(() => parseSubscriberExport(lines(milenageRecord('001010000000001', K, OPC), long)), code('INPUT_TOO_LARGE', /line 2: longer than 4096 bytes/));
    const three = lines(...['1', '2', '3'].map((n) => milenageRecord(`00101000000000${n}`, K, OPC)));
    assert.throws(() => parseSubscriberExport(three, { maxLines: 2 }), code('INPUT_TOO_LARGE'));
    assert.equal(parseSubscriberExport(three, { maxLines: 3 }).length, 3);
    assert.throws(() => parseSubscriberExport(three, { maxBytes: three.length - 1 }), code('INPUT_TOO_LARGE', /larger than/));
  });

  it('random input: a list or a typed error, never anything else (property)', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc.record({ imsi: fc.string(), operator: fc.constant('op1'), algorithm: fc.constantFrom('milenage', 'tuak', 'x'), k: fc.string(), opc: fc.string() }).map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 5 }), (ls) => {
        try {
          parseSubscriberExport(ls.join('\n'));
        } catch (e) {
          assert.ok(e instanceof McimError, String(e));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an import with a bad line writes nothing; a good one writes every line in one transaction', async () => {
    const auc = await openTestAuc('SQLite');
    try {
      await assert.rejects(importSubscribers(auc.ctx, lines(milenageRecord('001010000000001', K, OPC), TUAK, '{')), code('INVALID_ARGUMENT', /line 3/));
      assert.deepEqual(await auc.store.listSubscribers(), []);
      assert.equal(await importSubscribers(auc.ctx, lines(milenageRecord('001010000000001', K, OPC), TUAK)), 2);
      await assert.rejects(importSubscribers(auc.ctx, lines(milenageRecord('001010000000005', K, OPC), TUAK)), code('SUBSCRIBER_EXISTS'));
      assert.equal((await auc.store.listSubscribers()).length, 2);
    } finally {
      await auc.close();
    }
  });
});

describe('mcim auc (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-auc-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const kek = join(dir, 'kek');
  writeFileSync(kek, randomBytes(32).toString('hex'));
  const db = join(dir, 'auc.sqlite');
  const mcim = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [MAIN, 'auc', ...args, '--db', db, '--kek-file', kek], (error, stdout, stderr) => resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }));
    });

  it('imports and lists without secrets, hands out a 5G vector and confirms it, resyncs from AUTS, suspends, de-conceals a SUCI; a bad import writes nothing', async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, lines(milenageRecord('001010000000001', K, OPC), { ...TUAK, k: 'xy' }));
    const refused = await mcim('subscribers', 'import', bad);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^error: line 2: "k" must be 16 or 32 bytes of hex\n$/);
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, `${lines(milenageRecord('001010000000001', K, OPC), TUAK)}\n`);
    assert.deepEqual(JSON.parse((await mcim('subscribers', 'import', good, '--json')).stdout), { imported: 2 });
    const list = await mcim('subscribers', 'list', '--json');
    assert.ok(!list.stdout.includes(K) && !list.stdout.includes(OPC) && !list.stdout.includes('cd'.repeat(32)) && !list.stdout.includes('ab'.repeat(32)), list.stdout);
    assert.deepEqual((JSON.parse(list.stdout) as { imsi: string; seqHe: number }[]).map((s) => [s.imsi, s.seqHe]), [['001010000000001', 0], ['001010000000002', 2]]);
    const snn = '5G:mnc001.mcc001.3gppnetwork.org';
    const v = JSON.parse((await mcim('vector', '5g', '--imsi', '001010000000001', '--snn', snn, '--json')).stdout) as { authCtxId: string; rand: string };
    const alg = new Milenage(Buffer.from(K, 'hex'), Buffer.from(OPC, 'hex'));
    const { res, ck, ik } = alg.f2345(Buffer.from(v.rand, 'hex'));
    const resStar = deriveResStar(ck, ik, snn, Buffer.from(v.rand, 'hex'), res).toString('hex');
    assert.deepEqual(JSON.parse((await mcim('vector', 'confirm', '--auth-ctx-id', v.authCtxId, '--res-star', resStar, '--json')).stdout), { supi: 'imsi-001010000000001', servingNetworkName: snn });
    const auts = generateAuts(alg, Buffer.from(v.rand, 'hex'), sqnFromNumber(90 * 32 + 4)).toString('hex');
    const resync = JSON.parse((await mcim('resync', '--imsi', '001010000000001', '--rand', v.rand, '--auts', auts, '--mcc', '001', '--mnc', '01', '--json')).stdout) as { sqnMs: string; vector: { kasme: string } };
    assert.equal(resync.sqnMs, sqnFromNumber(90 * 32 + 4).toString('hex'));
    assert.match(resync.vector.kasme, /^[0-9a-f]{64}$/);
    assert.equal((await mcim('subscribers', 'suspend', '001010000000001')).code, 0);
    const suspended = await mcim('vector', '5g', '--imsi', '001010000000001', '--snn', '5G:mnc001.mcc001.3gppnetwork.org');
    assert.deepEqual([suspended.code, suspended.stderr], [2, 'error: subscriber 001010000000001 is suspended\n']);
    const key = JSON.parse((await mcim('hn-keys', 'add', '--profile', 'A', '--id', '7', '--json')).stdout) as { publicKey: string };
    const suci = concealSuci({ mcc: '001', mnc: '01', msin: '0000000001', routingIndicator: '0', profile: 'A', hnKeyId: 7, hnPublicKey: Buffer.from(key.publicKey, 'hex') });
    assert.equal(JSON.parse((await mcim('suci', suci, '--json')).stdout).supi, 'imsi-001010000000001');
  });
});
