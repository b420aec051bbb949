// Typed codecs (X.680 SEQUENCE, SEQUENCE OF, CHOICE, tagging): extensibility, missing/unknown components, captures.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Asn1Error, type Asn1ErrorCode } from '../../src/asn1/errors.js';
import {
  alternative,
  anyElement,
  application,
  boolean,
  boundedInteger,
  capture,
  captured,
  choice,
  decode,
  decodeWithReport,
  encode,
  explicit,
  field,
  implicit,
  integer,
  octetString,
  optional,
  privateTag,
  rawElement,
  retag,
  sequence,
  sequenceOf,
  sizedUtf8String,
  utf8String,
  type Captured,
  type Chosen,
  type Codec,
} from '../../src/asn1/schema.js';
import { decodeTlv } from '../../src/asn1/tlv.js';
import { hex } from '../helpers/fixtures.js';

interface Rec {
  a: number;
  b?: Buffer;
  c: string;
}

const fields = [field('a', implicit(0, integer)), optional('b', implicit(1, octetString())), field('c', implicit(2, utf8String))];
const strict = sequence<Rec>('Rec', fields);
const extensible = sequence<Rec>('Rec', fields, { extensible: true });

function failsWith(code: Asn1ErrorCode, codec: Codec<unknown>, h: string): Asn1Error {
  let caught: unknown;
  try {
    decode(codec, hex(h));
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Asn1Error, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('SEQUENCE', () => {
  it('decodes and encodes components in order, optional ones when present', () => {
    assert.deepStrictEqual(decode(strict, hex('3006800105820141')), { a: 5, c: 'A' });
    assert.deepStrictEqual(decode(strict, hex('3009800105810100820141')), { a: 5, b: hex('00'), c: 'A' });
    assert.equal(encode(strict, { a: 5, c: 'A' }).toString('hex'), '3006800105820141');
  });

  it('extensible: skips unknown trailing components and reports them', () => {
    const r = decodeWithReport(extensible, hex('300b800105820141' + '8301ff' + 'a400'));
    assert.deepStrictEqual(r.value, { a: 5, c: 'A' });
    assert.deepStrictEqual(r.unknown, [
      { path: 'Rec', tag: '83', offset: 8 },
      { path: 'Rec', tag: 'A4', offset: 11 },
    ]);
  });

  it('not extensible: unknown trailing components are an error', () => {
    const e = failsWith('UNKNOWN_COMPONENT', strict, '3009800105820141' + '8301ff');
    assert.equal(e.offset, 8);
  });

  it('rejects an unknown component in the middle, extensible or not', () => {
    failsWith('UNKNOWN_COMPONENT', extensible, '3009800105' + '8301ff' + '820141');
    failsWith('UNKNOWN_COMPONENT', strict, '3009800105' + '8301ff' + '820141');
  });

  it('rejects missing mandatory components', () => {
    failsWith('MISSING_COMPONENT', strict, '3003820141');
    failsWith('MISSING_COMPONENT', strict, '3003800105');
    failsWith('MISSING_COMPONENT', extensible, '3000');
    assert.throws(() => encode(strict, { a: 1 } as Rec), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
  });

  it('rejects duplicated and out-of-order components', () => {
    failsWith('UNKNOWN_COMPONENT', extensible, '3009800105800106820141');
    // A later component first: the skipped mandatory one is reported missing.
    failsWith('MISSING_COMPONENT', extensible, '3006820141800105');
  });

  it('locates errors in nested components by offset and path', () => {
    const outer = sequence<{ inner: Rec[] }>('Outer', [field('inner', implicit(0, sequenceOf(strict)))]);
    const e = failsWith('INVALID_VALUE', outer, '300ba009' + '3007' + '80020001' + '820141');
    assert.equal(e.path, 'inner.0.a');
    assert.equal(e.offset, 6);
  });
});

describe('SEQUENCE OF', () => {
  const list = sequenceOf(boolean, { min: 1, max: 2 });
  it('checks element tags and size bounds', () => {
    assert.deepStrictEqual(decode(list, hex('30060101ff010100')), [true, false]);
    failsWith('INVALID_VALUE', list, '3000');
    failsWith('SIZE_EXCEEDED', list, '30090101ff0101000101ff');
    failsWith('UNEXPECTED_TAG', list, '3003020100');
    assert.throws(() => encode(list, []), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
    assert.throws(() => encode(list, [true, true, true]), (e) => e instanceof Asn1Error && e.code === 'SIZE_EXCEEDED');
  });
});

describe('CHOICE', () => {
  type C = Chosen<'num', number> | Chosen<'text', string>;
  const c = choice<C>('C', [alternative('num', implicit(0, integer)), alternative('text', utf8String)]);

  it('decodes the alternative by its tag and encodes by its key', () => {
    assert.deepStrictEqual(decode(c, hex('800107')), { type: 'num', value: 7 });
    assert.deepStrictEqual(decode(c, hex('0c0141')), { type: 'text', value: 'A' });
    assert.equal(encode(c, { type: 'text', value: 'A' }).toString('hex'), '0c0141');
  });

  it('rejects unknown alternatives on both sides', () => {
    assert.throws(
      () => c.decode(decodeTlv(hex('810107')), { keys: [], unknown: [] }),
      (e) => e instanceof Asn1Error && e.code === 'INVALID_CHOICE',
    );
    failsWith('UNEXPECTED_TAG', c, '810107');
    assert.throws(() => encode(c, { type: 'other', value: 1 } as unknown as C), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
  });

  it('an explicit tag wraps exactly one alternative', () => {
    const ex = explicit(3, c);
    assert.deepStrictEqual(decode(ex, hex('a303800107')), { type: 'num', value: 7 });
    assert.equal(encode(ex, { type: 'num', value: 7 }).toString('hex'), 'a303800107');
    failsWith('INVALID_VALUE', ex, 'a3060c01410c0142');
    failsWith('INVALID_VALUE', ex, 'a300');
    failsWith('UNEXPECTED_TAG', ex, 'a303810107');
  });
});

describe('tagging and constraints', () => {
  it('implicit, application and private tags replace the tag; retag must agree on constructedness', () => {
    assert.equal(encode(implicit(32, sequence('E', [])), {}).toString('hex'), 'bf2000');
    assert.equal(encode(application(26, octetString(1)), hex('aa')).toString('hex'), '5a01aa');
    assert.equal(encode(privateTag(3, sequence('E', [])), {}).toString('hex'), 'e300');
    assert.equal(encode(implicit(112, integer), 1).toString('hex'), '9f700101');
    assert.throws(() => retag(octetString(), 0xa0), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
    assert.throws(() => retag(sequence('E', []), 0x80), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
  });

  it('checks OCTET STRING sizes, INTEGER ranges and UTF8String lengths in characters', () => {
    failsWith('INVALID_VALUE', octetString(2), '0401aa');
    failsWith('INVALID_VALUE', octetString({ min: 1, max: 2 }), '0400');
    failsWith('INVALID_VALUE', boundedInteger(0, 255), '02020100');
    failsWith('INVALID_VALUE', boundedInteger(0, 255), '0201ff');
    assert.equal(decode(sizedUtf8String(0, 2), hex('0c07f09f9880e282ac')), '\u{1F600}€');
    failsWith('INVALID_VALUE', sizedUtf8String(0, 2), '0c03414243');
    assert.throws(() => encode(octetString(2), hex('aa')), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
  });

  it('rejects a wrong outer tag', () => {
    failsWith('UNEXPECTED_TAG', strict, '310380' + '0105');
  });
});

describe('raw and captured elements', () => {
  it('anyElement and rawElement keep exact bytes and validate them on encoding', () => {
    assert.ok(decode(anyElement, hex('30030401aa')).equals(hex('30030401aa')));
    const raw = rawElement(0x30);
    assert.ok(decode(raw, hex('3000')).equals(hex('3000')));
    assert.throws(() => encode(raw, hex('3100')), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
    assert.throws(() => encode(anyElement, hex('3001')), (e) => e instanceof Asn1Error && e.code === 'TRUNCATED');
  });

  it('captured keeps the received bytes for signature checks and relays them unchanged', () => {
    const signed = sequence<{ signed: Captured<Rec>; sig: Buffer }>(
      'Signed',
      [field('signed', captured(extensible)), field('sig', application(55, octetString()))],
      { extensible: true },
    );
    // The signed part carries an unknown extension: the capture must still hold all its bytes.
    const part = '3008800105820141' + '8300';
    const msg = hex(`30${(part.length / 2 + 4).toString(16).padStart(2, '0')}${part}5f3701ee`);
    const r = decodeWithReport(signed, msg);
    assert.equal(r.value.signed.der.toString('hex'), part);
    assert.deepStrictEqual(r.value.signed.value, { a: 5, c: 'A' });
    assert.ok(encode(signed, r.value).equals(msg));
    assert.equal(r.unknown.length, 1);
  });

  it('capture() encodes a value once', () => {
    const c = capture(strict, { a: 5, c: 'A' });
    assert.equal(c.der.toString('hex'), '3006800105820141');
    assert.deepStrictEqual(c.value, { a: 5, c: 'A' });
  });
});
