// Smoke run of the ASN.1 mutation fuzzer (fuzz/fuzzer.ts) in CI, and checks that its oracle reports what it must.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Asn1Error } from '../../src/asn1/errors.js';
import { RSP_MESSAGES } from '../../src/asn1/definitions/rsp.js';
import { SGP32_MESSAGES } from '../../src/asn1/definitions/sgp32.js';
import { Rng, runFuzz, type FuzzTarget } from '../../fuzz/fuzzer.js';

describe('fuzz smoke', () => {
  it('2,000 mutated inputs per parser: no finding', async () => {
    const report = await runFuzz({ seed: 20240601, iterations: 2000 });
    const names = report.parsers.map((p) => p.name);
    for (const expected of ['tlv.decodeTlv', 'tlv.decodeTlvList', 'saip.decodeProfilePackage', ...Object.keys(RSP_MESSAGES).map((n) => `rsp.${n}`), ...Object.keys(SGP32_MESSAGES).map((n) => `sgp32.${n}`)]) {
      assert.ok(names.includes(expected), expected);
    }
    const findings = report.parsers.flatMap((p) => p.findings);
    assert.deepStrictEqual(findings, []);
    for (const p of report.parsers) assert.equal(p.inputs, 2000, p.name);
    // The structure-aware mutations keep a good share of the inputs well-formed enough to decode.
    const accepted = report.parsers.reduce((n, p) => n + p.accepted, 0);
    assert.ok(accepted > 0.1 * 2000 * report.parsers.length, `only ${accepted} inputs accepted`);
    // The input budgets are reached: lists beyond their SIZE bound (flooded elements) and oversize strings.
    const sizeExceeded = report.parsers.filter((p) => p.name.startsWith('rsp.') && (p.refusals['SIZE_EXCEEDED'] ?? 0) > 0).map((p) => p.name);
    for (const name of ['rsp.EUICCInfo1', 'rsp.PrepareDownloadResponse', 'rsp.PendingNotification', 'rsp.CancelSessionResponse', 'rsp.BoundProfilePackage']) {
      assert.ok(sizeExceeded.includes(name), `${name} never refused an input with SIZE_EXCEEDED`);
    }
  });

  it('the oracle reports foreign exceptions and slow inputs, not Asn1Errors', async () => {
    const seeds = [Buffer.from('3003020101', 'hex')];
    const targets: FuzzTarget[] = [
      {
        name: 'type-error',
        seeds,
        parse: (b) => {
          if (b.length > 5) throw new TypeError('boom');
          throw new Asn1Error('INVALID_VALUE', 'fine');
        },
      },
      {
        name: 'slow',
        seeds,
        parse: () => {
          const end = performance.now() + 400;
          while (performance.now() < end);
        },
      },
      { name: 'strict', seeds, parse: () => { throw new Asn1Error('TRUNCATED', 'fine'); } },
    ];
    const report = await runFuzz({ seed: 1, iterations: 300, targets, slowMs: 200, maxFindings: 1 });
    const [typeError, slow, strict] = report.parsers;
    assert.equal(typeError!.findings[0]?.kind, 'exception');
    assert.match(typeError!.findings[0]!.error, /^TypeError: boom/);
    assert.ok(Buffer.from(typeError!.findings[0]!.inputHex, 'hex').length > 5);
    assert.equal(slow!.findings[0]?.kind, 'timeout');
    assert.deepStrictEqual(strict!.findings, []);
    assert.equal(strict!.inputs, 300);
  });

  it('the PRNG is deterministic for a seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 8 }, () => a.u32());
    assert.deepStrictEqual(xs, Array.from({ length: 8 }, () => b.u32()));
    assert.notDeepStrictEqual(xs, Array.from({ length: 8 }, () => c.u32()));
    for (let i = 0; i < 1000; i++) {
      const n = a.int(7);
      assert.ok(Number.isInteger(n) && n >= 0 && n < 7);
    }
  });
});
