// The ES9+ field declarations (SGP.22 6.6.1): one codec for both sides, strict and bounded.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ES9PLUS_FUNCTIONS,
  decodeFields,
  encodeFields,
  type FieldProblem,
  type FieldSpec,
  type FieldSpecs,
  type FieldValues,
} from '../../src/http/es9plusFunctions.js';

class FieldRefused extends Error {
  constructor(
    readonly field: string,
    readonly problem: FieldProblem,
    readonly subjectCode: string,
    message: string,
  ) {
    super(message);
  }
}

function refuse(name: string, spec: FieldSpec, problem: FieldProblem, message: string): Error {
  return new FieldRefused(name, problem, spec.subjectCode, message);
}

function refusal(specs: FieldSpecs, body: Record<string, unknown>): FieldRefused {
  try {
    decodeFields(specs, body, refuse);
  } catch (e) {
    assert.ok(e instanceof FieldRefused);
    return e;
  }
  assert.fail('the body was accepted');
}

/** A value of the spec's kind and at most its size. */
function arbitraryValue(spec: FieldSpec): fc.Arbitrary<string | Buffer> {
  if (spec.kind === 'string') return fc.string({ minLength: 1, maxLength: Math.min(spec.maxBytes, 64) });
  const max = Math.min(spec.maxBytes, 300);
  return fc.uint8Array({ minLength: 1, maxLength: max }).map((b) => Buffer.from(b));
}

function arbitraryValues(specs: FieldSpecs): fc.Arbitrary<Record<string, string | Buffer>> {
  const record: Record<string, fc.Arbitrary<string | Buffer>> = {};
  for (const [name, spec] of Object.entries(specs)) record[name] = arbitraryValue(spec);
  return fc.record(record);
}

describe('ES9+ field declarations', () => {
  for (const [fn, declaration] of Object.entries(ES9PLUS_FUNCTIONS)) {
    for (const side of ['request', 'response'] as const) {
      const specs: FieldSpecs = declaration[side];
      it(`${fn} ${side}: decode(encode(x)) = x through JSON`, () => {
        fc.assert(
          fc.property(arbitraryValues(specs), (values) => {
            const json = JSON.parse(JSON.stringify(encodeFields(specs, values as FieldValues<FieldSpecs>))) as Record<string, unknown>;
            assert.deepEqual(decodeFields(specs, json, refuse), { ...values });
          }),
          { numRuns: 50 },
        );
      });
    }
  }

  const specs = ES9PLUS_FUNCTIONS.getBoundProfilePackage.request;
  const valid = { transactionId: '0102030405060708090A0B0C0D0E0F10', prepareDownloadResponse: Buffer.from('bf2100', 'hex').toString('base64') };

  it('a missing field is reported as missing under its subject code (SGP.22 5.2.6 reason 2.2)', () => {
    const r = refusal(specs, { transactionId: valid.transactionId });
    assert.deepEqual([r.field, r.problem, r.subjectCode], ['prepareDownloadResponse', 'missing', '8.1']);
    const n = refusal(specs, { ...valid, transactionId: null });
    assert.deepEqual([n.field, n.problem, n.subjectCode], ['transactionId', 'missing', '8.10.1']);
  });

  it('a value of the wrong type, non-canonical or non-base64 text is malformed (reason 2.1)', () => {
    for (const bad of [42, ['AA=='], 'AB=C', 'A', '!!!!', 'AB==' + 'x', 'QR==']) {
      const r = refusal(specs, { ...valid, prepareDownloadResponse: bad });
      assert.deepEqual([r.field, r.problem], ['prepareDownloadResponse', 'malformed'], String(bad));
    }
  });

  it('base64 text is accepted exactly when it is the canonical encoding of its bytes (padding optional)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const text = fc
      .tuple(fc.array(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 12 }), fc.boolean())
      .map(([digits, padded]) => {
        const body = digits.map((d) => alphabet[d]).join('');
        return padded && body.length % 4 !== 0 ? body + '='.repeat(4 - (body.length % 4)) : body;
      });
    fc.assert(
      fc.property(text, (value) => {
        const unpadded = value.replace(/=+$/, '');
        const canonical = Buffer.from(value, 'base64').toString('base64').replace(/=+$/, '') === unpadded && unpadded.length % 4 !== 1;
        let accepted = true;
        try {
          decodeFields(specs, { ...valid, prepareDownloadResponse: value }, refuse);
        } catch {
          accepted = false;
        }
        assert.equal(accepted, canonical, value);
      }),
      { numRuns: 2000 },
    );
  });

  it('a transactionId longer than 16 bytes, odd or empty hex is malformed', () => {
    for (const bad of ['', '0', '00'.repeat(17), 'GG']) {
      const r = refusal(specs, { ...valid, transactionId: bad });
      assert.deepEqual([r.field, r.problem, r.subjectCode], ['transactionId', 'malformed', '8.10.1'], bad);
    }
  });

  it('a value over its budget is refused from its length alone', () => {
    const budget = specs.prepareDownloadResponse.maxBytes;
    const over = Buffer.alloc(budget + 1).toString('base64');
    const r = refusal(specs, { ...valid, prepareDownloadResponse: over });
    assert.match(r.message, new RegExp(`exceeds ${budget} bytes`));
    assert.deepEqual(decodeFields(specs, { ...valid, prepareDownloadResponse: Buffer.alloc(budget).toString('base64') }, refuse).prepareDownloadResponse.length, budget);
    const address = ES9PLUS_FUNCTIONS.initiateAuthentication.request;
    const long = refusal(address, { euiccChallenge: Buffer.alloc(16).toString('base64'), euiccInfo1: 'AAAA', smdpAddress: 'a'.repeat(256) });
    assert.deepEqual([long.field, long.subjectCode], ['smdpAddress', '8.8.1']);
  });

  it('fields the declaration does not name are ignored, and inherited properties are not fields', () => {
    const body = Object.assign(Object.create({ prepareDownloadResponse: valid.prepareDownloadResponse }) as object, { transactionId: valid.transactionId, extra: 1 });
    assert.equal(refusal(specs, body as Record<string, unknown>).field, 'prepareDownloadResponse');
    assert.deepEqual(Object.keys(decodeFields(specs, { ...valid, extra: 'x' }, refuse)).sort(), ['prepareDownloadResponse', 'transactionId']);
  });
});
