// EID check digits (GSMA SGP.29; ISO/IEC 7064 MOD 97-10): the SGP.26 EID, construction and error detection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eidCheckDigits, isValidEid, makeEid } from '../../src/pki/eid.js';

const SGP26_EID = '89049032123451234512345678901235';

describe('EID check digits', () => {
  test("SGP.26's EID has check digits 35", () => {
    assert.equal(eidCheckDigits(SGP26_EID.slice(0, 30)), '35');
    assert.equal(eidCheckDigits(SGP26_EID), '35');
    assert.equal(isValidEid(SGP26_EID), true);
  });

  test('makeEid reproduces the SGP.26 EID for its prefix', () => {
    assert.equal(makeEid('89049032'), SGP26_EID);
  });

  test('check digits below 10 keep their leading zero', () => {
    // Check digits range over 02..98: find a body whose check digits are below 10.
    let body = 890490321234512345123456789000n;
    while (eidCheckDigits(body.toString())[0] !== '0') body++;
    const eid = body.toString() + eidCheckDigits(body.toString());
    assert.equal(eid.length, 32);
    assert.equal(isValidEid(eid), true);
  });

  test('rejects malformed input', () => {
    assert.throws(() => eidCheckDigits('1234'), RangeError);
    assert.throws(() => eidCheckDigits('8904903212345123451234567890123a'), RangeError);
    assert.throws(() => makeEid('89x'), RangeError);
    assert.throws(() => makeEid('8904', '12'), RangeError);
    assert.equal(isValidEid('8904903212345123451234567890123'), false);
    assert.equal(isValidEid(`${SGP26_EID}0`), false);
  });

  const bodyArb = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 30, maxLength: 30 });

  test('an EID completed with its check digits is valid', () => {
    fc.assert(fc.property(bodyArb, (body) => isValidEid(body + eidCheckDigits(body))));
  });

  test('every single-digit substitution is detected', () => {
    fc.assert(
      fc.property(bodyArb, fc.integer({ min: 0, max: 31 }), fc.integer({ min: 1, max: 9 }), (body, pos, delta) => {
        const eid = body + eidCheckDigits(body);
        const digit = (Number(eid[pos]) + delta) % 10;
        return !isValidEid(eid.slice(0, pos) + String(digit) + eid.slice(pos + 1));
      }),
    );
  });

  test('every transposition of two different adjacent digits is detected', () => {
    fc.assert(
      fc.property(bodyArb, fc.integer({ min: 0, max: 30 }), (body, pos) => {
        const eid = body + eidCheckDigits(body);
        fc.pre(eid[pos] !== eid[pos + 1]);
        return !isValidEid(eid.slice(0, pos) + eid[pos + 1]! + eid[pos]! + eid.slice(pos + 2));
      }),
    );
  });
});
