// DER contents of universal types (X.690 8.2-8.23, 11): minimal INTEGERs, DER BOOLEAN, OIDs, BIT STRINGs, strings, times.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import * as prim from '../../src/asn1/primitives.js';
import { hex } from '../helpers/fixtures.js';

function invalid(fn: () => unknown): void {
  assert.throws(fn, (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
}

function encodeError(fn: () => unknown): void {
  assert.throws(fn, (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
}

describe('INTEGER', () => {
  it('decodes minimal two-complement encodings', () => {
    assert.equal(prim.decodeInteger(hex('00')), 0);
    assert.equal(prim.decodeInteger(hex('7f')), 127);
    assert.equal(prim.decodeInteger(hex('0080')), 128);
    assert.equal(prim.decodeInteger(hex('80')), -128);
    assert.equal(prim.decodeInteger(hex('ff7f')), -129);
    assert.equal(prim.decodeInteger(hex('ff')), -1);
    assert.equal(prim.decodeInteger(hex('1fffffffffffff')), Number.MAX_SAFE_INTEGER);
    assert.equal(prim.decodeInteger(hex('e0000000000001')), Number.MIN_SAFE_INTEGER);
  });

  it('rejects empty and non-minimal encodings', () => {
    invalid(() => prim.decodeInteger(hex('')));
    invalid(() => prim.decodeInteger(hex('007f')));
    invalid(() => prim.decodeInteger(hex('0000')));
    invalid(() => prim.decodeInteger(hex('ff80')));
    invalid(() => prim.decodeInteger(hex('ffff')));
    invalid(() => prim.decodeBigInteger(hex('00000001')));
    invalid(() => prim.checkIntegerBytes(hex('0001')));
  });

  it('rejects values outside the safe integers where a number is expected, however long', () => {
    invalid(() => prim.decodeInteger(hex('20000000000000')));
    invalid(() => prim.decodeInteger(hex('dfffffffffffff')));
    invalid(() => prim.decodeInteger(hex('0100000000000000')));
    invalid(() => prim.decodeInteger(Buffer.alloc(100_000, 0x7f)));
    assert.equal(prim.decodeBigInteger(hex('0100000000000000')), 2n ** 56n);
  });

  it('decodes a 100 kB INTEGER as a bigint in linear time', () => {
    const big = Buffer.concat([hex('01'), Buffer.alloc(100_000)]);
    const t0 = performance.now();
    assert.equal(prim.decodeBigInteger(big), 1n << 800_000n);
    assert.ok(performance.now() - t0 < 500);
  });

  it('round-trips numbers and bigints through minimal encodings', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const der = prim.encodeInteger(n);
        assert.equal(prim.decodeInteger(der), n);
        assert.ok(der.equals(prim.checkIntegerBytes(der)));
      }),
    );
    fc.assert(fc.property(fc.bigInt(), (n) => assert.equal(prim.decodeBigInteger(prim.encodeBigInteger(n)), n)));
    encodeError(() => prim.encodeInteger(1.5));
    encodeError(() => prim.encodeInteger(2 ** 60));
  });
});

describe('BOOLEAN and NULL', () => {
  it('accepts only 00 and FF', () => {
    assert.equal(prim.decodeBoolean(hex('00')), false);
    assert.equal(prim.decodeBoolean(hex('ff')), true);
    invalid(() => prim.decodeBoolean(hex('01')));
    invalid(() => prim.decodeBoolean(hex('')));
    invalid(() => prim.decodeBoolean(hex('ffff')));
    assert.equal(prim.encodeBoolean(true).toString('hex'), 'ff');
    assert.equal(prim.encodeBoolean(false).toString('hex'), '00');
  });

  it('NULL has no content', () => {
    assert.equal(prim.decodeNull(hex('')), null);
    invalid(() => prim.decodeNull(hex('00')));
  });
});

describe('OBJECT IDENTIFIER', () => {
  it('decodes the first two arcs and large subidentifiers', () => {
    assert.equal(prim.decodeOid(hex('2a864886f70d')), '1.2.840.113549');
    assert.equal(prim.decodeOid(hex('00')), '0.0');
    assert.equal(prim.decodeOid(hex('27')), '0.39');
    assert.equal(prim.decodeOid(hex('4f')), '1.39');
    assert.equal(prim.decodeOid(hex('50')), '2.0');
    assert.equal(prim.decodeOid(hex('8837')), '2.999');
    assert.equal(prim.decodeOid(hex('67810f010201')), '2.23.143.1.2.1');
    assert.equal(prim.decodeOid(hex('2a8fffffffffffffffff7f')), '1.2.' + (2n ** 67n - 1n).toString());
  });

  it('rejects empty content, leading 0x80 septets and an unfinished last subidentifier', () => {
    invalid(() => prim.decodeOid(hex('')));
    invalid(() => prim.decodeOid(hex('2a8001')));
    invalid(() => prim.decodeOid(hex('8001')));
    invalid(() => prim.decodeOid(hex('2a86')));
  });

  it('limits subidentifiers to 32 septets and decodes long OIDs in linear time', () => {
    const arc = (septets: number): Buffer => Buffer.concat([Buffer.alloc(septets - 1, 0xff), hex('7f')]);
    assert.equal(prim.decodeOid(Buffer.concat([hex('2a'), arc(32)])), `1.2.${2n ** 224n - 1n}`);
    invalid(() => prim.decodeOid(Buffer.concat([hex('2a'), arc(33)])));
    invalid(() => prim.decodeOid(Buffer.alloc(1_000_000, 0xff)));
    const t0 = performance.now();
    assert.equal(prim.decodeOid(Buffer.alloc(200_000, 0x01)).length, 400_001);
    assert.ok(performance.now() - t0 < 1000);
  });

  it('encodes valid dotted forms only', () => {
    assert.equal(prim.encodeOid('1.2.840.10045.4.3.2').toString('hex'), '2a8648ce3d040302');
    assert.equal(prim.encodeOid('2.999').toString('hex'), '8837');
    encodeError(() => prim.encodeOid('1'));
    encodeError(() => prim.encodeOid('3.1'));
    encodeError(() => prim.encodeOid('1.40'));
    encodeError(() => prim.encodeOid('1.2.03'));
    encodeError(() => prim.encodeOid('1..2'));
  });

  it('round-trips any valid OID', () => {
    const oidArb = fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.array(fc.bigInt({ min: 0n, max: 2n ** 80n })))
      .map(([a, b, rest]) => [a, a < 2 ? b % 40 : b, ...rest].join('.'));
    fc.assert(fc.property(oidArb, (o) => assert.equal(prim.decodeOid(prim.encodeOid(o)), o)));
  });
});

describe('BIT STRING', () => {
  it('checks the unused-bits octet and that unused bits are zero', () => {
    assert.deepStrictEqual(prim.decodeBitString(hex('00')), { bytes: hex(''), unusedBits: 0 });
    assert.deepStrictEqual(prim.decodeBitString(hex('0780')), { bytes: hex('80'), unusedBits: 7 });
    invalid(() => prim.decodeBitString(hex('')));
    invalid(() => prim.decodeBitString(hex('08ff')));
    invalid(() => prim.decodeBitString(hex('01')));
    invalid(() => prim.decodeBitString(hex('0781')));
    invalid(() => prim.decodeBitString(hex('0103')));
  });

  it('named bits: decodes positions and rejects trailing zero bits (X.690 11.2.2)', () => {
    assert.deepStrictEqual(prim.decodeNamedBits(hex('0780')), [0]);
    assert.deepStrictEqual(prim.decodeNamedBits(hex('0490')), [0, 3]);
    assert.deepStrictEqual(prim.decodeNamedBits(hex('00')), []);
    assert.deepStrictEqual(prim.decodeNamedBits(hex('0001')), [7]);
    invalid(() => prim.decodeNamedBits(hex('0680')));
    invalid(() => prim.decodeNamedBits(hex('0080')));
    invalid(() => prim.decodeNamedBits(hex('008000')));
    invalid(() => prim.decodeNamedBits(hex('0000')));
  });

  it('named bits round-trip in canonical form', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 40 })), (bits) => {
        const sorted = [...bits].sort((a, b) => a - b);
        assert.deepStrictEqual(prim.decodeNamedBits(prim.encodeNamedBits(bits)), sorted);
      }),
    );
    assert.equal(prim.encodeNamedBits([]).toString('hex'), '00');
    assert.equal(prim.encodeNamedBits([1, 2]).toString('hex'), '0560');
  });
});

describe('character strings', () => {
  it('UTF8String must be valid UTF-8 and keeps a BOM', () => {
    assert.equal(prim.decodeUtf8String(Buffer.from('héllo €', 'utf8')), 'héllo €');
    assert.equal(prim.decodeUtf8String(hex('efbbbf41')), '\ufeffA');
    invalid(() => prim.decodeUtf8String(hex('c328')));
    invalid(() => prim.decodeUtf8String(hex('eda080')));
    invalid(() => prim.decodeUtf8String(hex('c0af')));
  });

  it('PrintableString and IA5String alphabets', () => {
    assert.equal(prim.decodePrintableString(Buffer.from("Test CI (1) ':=?")), "Test CI (1) ':=?");
    invalid(() => prim.decodePrintableString(Buffer.from('a@b')));
    invalid(() => prim.decodePrintableString(Buffer.from('a*b')));
    assert.equal(prim.decodeIa5String(Buffer.from('a@b~')), 'a@b~');
    invalid(() => prim.decodeIa5String(hex('80')));
    encodeError(() => prim.encodeAsciiString('é'));
  });
});

describe('UTCTime and GeneralizedTime', () => {
  it('decodes the DER forms, with the RFC 5280 UTCTime window', () => {
    assert.equal(prim.decodeUtcTime(Buffer.from('200401092837Z')).toISOString(), '2020-04-01T09:28:37.000Z');
    assert.equal(prim.decodeUtcTime(Buffer.from('491231235959Z')).getUTCFullYear(), 2049);
    assert.equal(prim.decodeUtcTime(Buffer.from('500101000000Z')).getUTCFullYear(), 1950);
    assert.equal(prim.decodeGeneralizedTime(Buffer.from('20540324092837Z')).toISOString(), '2054-03-24T09:28:37.000Z');
    assert.equal(prim.decodeGeneralizedTime(Buffer.from('00500101000000Z')).getUTCFullYear(), 50);
    assert.equal(prim.decodeGeneralizedTime(Buffer.from('20240229000000Z')).getUTCDate(), 29);
  });

  it('rejects non-DER forms and impossible dates', () => {
    invalid(() => prim.decodeUtcTime(Buffer.from('2004010928Z')));
    invalid(() => prim.decodeUtcTime(Buffer.from('200401092837')));
    invalid(() => prim.decodeUtcTime(Buffer.from('200401092837+0100')));
    invalid(() => prim.decodeUtcTime(Buffer.from('200230092837Z')));
    invalid(() => prim.decodeGeneralizedTime(Buffer.from('20230229000000Z')));
    invalid(() => prim.decodeGeneralizedTime(Buffer.from('20540324092837.5Z')));
    invalid(() => prim.decodeGeneralizedTime(Buffer.from('20541324092837Z')));
    invalid(() => prim.decodeGeneralizedTime(Buffer.from('20540324242837Z')));
    invalid(() => prim.decodeGeneralizedTime(Buffer.from('20540324092860Z')));
  });

  it('encodes with second precision and checks the ranges', () => {
    const date = fc.date({ min: new Date('1950-01-01T00:00:00Z'), max: new Date('2049-12-31T23:59:59Z'), noInvalidDate: true });
    fc.assert(
      fc.property(date, (d) => {
        const s = new Date(Math.floor(d.getTime() / 1000) * 1000);
        assert.equal(prim.decodeUtcTime(prim.encodeUtcTime(s)).getTime(), s.getTime());
        assert.equal(prim.decodeGeneralizedTime(prim.encodeGeneralizedTime(s)).getTime(), s.getTime());
      }),
    );
    encodeError(() => prim.encodeUtcTime(new Date('2050-01-01T00:00:00Z')));
    encodeError(() => prim.encodeUtcTime(new Date('1949-12-31T23:59:59Z')));
    encodeError(() => prim.encodeUtcTime(new Date(NaN)));
    encodeError(() => prim.encodeGeneralizedTime(new Date(NaN)));
    encodeError(() => prim.encodeGeneralizedTime(new Date('+010000-01-01T00:00:00Z')));
  });
});
