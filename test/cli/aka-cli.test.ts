// `mcim aka milenage|tuak`: the action functions against the official vectors, errors, and the built binary.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatAkaResult, parseHexArg, runAkaMilenage, runAkaTuak } from '../../src/cli/commands/aka.js';
import { McimError } from '../../src/errors.js';
import { ROOT, hex, readJsonFixture } from '../helpers/fixtures.js';

interface MilenageSet {
  k: string;
  op: string;
  opc: string;
  rand: string;
  sqn: string;
  amf: string;
  f1: string;
  f1star: string;
  f2: string;
  f3: string;
  f4: string;
  f5: string;
  f5star: string;
}

interface AutsSet {
  k: string;
  opc: string;
  rand: string;
  auts: string;
  expect_valid: boolean;
  sqn_ms?: string;
}

interface TuakSet extends MilenageSet {
  top: string;
  topc: string;
  keccak_iterations: number;
}

const M = readJsonFixture<{ sets: MilenageSet[] }>('vectors', 'milenage-35207.json').sets[0]!;
const AUTS = readJsonFixture<{ sets: AutsSet[] }>('vectors', 'milenage-auts.json').sets;
const T = readJsonFixture<{ sets: TuakSet[] }>('vectors', 'tuak-35233.json').sets;
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

const autnOf = (s: MilenageSet): string =>
  Buffer.from(hex(s.sqn).map((b, i) => b ^ hex(s.f5)[i]!)).toString('hex') + s.amf + s.f1;

function invalidArgument(text: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT' && e.message.includes(text);
}

describe('mcim aka milenage', () => {
  const args = { k: M.k, rand: M.rand, sqn: M.sqn, amf: M.amf };

  it('prints every output of TS 35.207 test set 1, from OP or from OPc', () => {
    for (const variant of [{ op: M.op }, { opc: M.opc }]) {
      const r = runAkaMilenage({ ...args, ...variant });
      assert.deepEqual(r, {
        algorithm: 'milenage',
        opc: M.opc,
        macA: M.f1,
        macS: M.f1star,
        res: M.f2,
        ck: M.f3,
        ik: M.f4,
        ak: M.f5,
        akStar: M.f5star,
        autn: autnOf(M),
      });
    }
  });

  it('--auts: recovers SQN_MS or reports the MAC-S failure', () => {
    for (const s of AUTS) {
      const r = runAkaMilenage({ k: s.k, opc: s.opc, rand: s.rand, sqn: '000000000000', amf: '8000', auts: s.auts });
      if (s.expect_valid) assert.deepEqual(r.auts, { valid: true, sqnMs: s.sqn_ms });
      else assert.equal(r.auts?.valid, false);
    }
  });

  it('text output has one line per value; JSON output parses back', () => {
    const r = runAkaMilenage({ ...args, opc: M.opc });
    const text = formatAkaResult(r, false);
    assert.match(text, new RegExp(`^OPc +${M.opc}$`, 'm'));
    assert.match(text, new RegExp(`^AK\\* +${M.f5star}$`, 'm'));
    assert.match(text, new RegExp(`^AUTN +${autnOf(M)}$`, 'm'));
    assert.deepEqual(JSON.parse(formatAkaResult(r, true)), r);
  });

  it('rejects bad hex, wrong lengths and OP/OPc given twice or not at all', () => {
    const opc = M.opc;
    assert.throws(() => runAkaMilenage({ ...args, k: 'xyz', opc }), invalidArgument('--k: not an even-length hex'));
    assert.throws(() => runAkaMilenage({ ...args, rand: M.rand.slice(2), opc }), invalidArgument('--rand: expected 16'));
    assert.throws(() => runAkaMilenage({ ...args, opc, auts: '00' }), invalidArgument('--auts: expected 14 bytes'));
    assert.throws(() => runAkaMilenage({ ...args, op: M.op, opc }), invalidArgument('exactly one of --op and --opc'));
    assert.throws(() => runAkaMilenage(args), invalidArgument('exactly one of --op and --opc'));
  });

  it('parseHexArg accepts either case and the listed lengths only', () => {
    assert.deepEqual(parseHexArg('--x', 'ABcd', 2), hex('abcd'));
    assert.throws(() => parseHexArg('--x', 'abc', 2), invalidArgument('--x'));
    assert.throws(() => parseHexArg('--x', 'abcd', 16, 32), invalidArgument('expected 16 or 32 bytes'));
  });
});

describe('mcim aka tuak', () => {
  for (const s of T) {
    it(`prints every output of ${(s as unknown as { name: string }).name}`, () => {
      const r = runAkaTuak({
        k: s.k,
        top: s.top,
        rand: s.rand,
        sqn: s.sqn,
        amf: s.amf,
        macLen: `${s.f1.length * 4}`,
        resLen: `${s.f2.length * 4}`,
        ckLen: `${s.f3.length * 4}`,
        ikLen: `${s.f4.length * 4}`,
        keccakIterations: `${s.keccak_iterations}`,
      });
      assert.deepEqual(r, {
        algorithm: 'tuak',
        topc: s.topc,
        macA: s.f1,
        macS: s.f1star,
        res: s.f2,
        ck: s.f3,
        ik: s.f4,
        ak: s.f5,
        akStar: s.f5star,
        autn: autnOf(s),
      });
      assert.match(formatAkaResult(r, false), new RegExp(`^TOPc +${s.topc}$`, 'm'));
    });
  }

  it('rejects lengths and iteration counts outside the spec', () => {
    const s = T[0]!;
    const base = { k: s.k, topc: s.topc, rand: s.rand, sqn: s.sqn, amf: s.amf };
    const lengths = { macLen: '64', resLen: '32', ckLen: '128', ikLen: '128', keccakIterations: '1' };
    assert.throws(() => runAkaTuak({ ...base, ...lengths, macLen: '96' }), invalidArgument('--mac-len'));
    assert.throws(() => runAkaTuak({ ...base, ...lengths, keccakIterations: '0' }), invalidArgument('--keccak-iterations'));
    assert.throws(() => runAkaTuak({ ...base, ...lengths, k: s.k.slice(2) }), invalidArgument('--k'));
    assert.deepEqual(runAkaTuak({ ...base, ...lengths }).macA, s.f1);
  });
});

describe('mcim aka (built binary)', { skip: !existsSync(MAIN) && `${MAIN} not built` }, () => {
  const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [MAIN, 'aka', ...args], { encoding: 'utf8' });
  const base = ['milenage', '--k', M.k, '--opc', M.opc, '--rand', M.rand, '--sqn', M.sqn, '--amf', M.amf];

  it('prints the JSON result and exits 0', () => {
    const r = run(...base, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).autn, autnOf(M));
  });

  it('exits non-zero on a MAC-S failure', () => {
    const bad = AUTS.find((s) => !s.expect_valid)!;
    const keys = ['--k', bad.k, '--opc', bad.opc, '--rand', bad.rand];
    const r = run('milenage', ...keys, '--sqn', M.sqn, '--amf', M.amf, '--auts', bad.auts);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^AUTS +rejected/m);
  });

  it('exits 2 with "error: ..." on bad hex', () => {
    const r = run(...base.slice(0, -1), 'zz');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --amf/);
  });
});
