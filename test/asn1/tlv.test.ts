// Strict TLV layer (X.690 8.1, 10.1): every rule with an input that breaks it, limits, truncation, and raw bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Asn1Error, type Asn1ErrorCode } from '../../src/asn1/errors.js';
import {
  DEFAULT_LIMITS,
  decodeTlv,
  decodeTlvList,
  encodeLength,
  encodeTag,
  encodeTlv,
  makeTag,
  peekTlvHeader,
  tagHex,
  type DecodeLimits,
  type Tlv,
} from '../../src/asn1/tlv.js';
import { hex, readFixture } from '../helpers/fixtures.js';

function failsWith(code: Asn1ErrorCode, input: Buffer, limits?: Partial<DecodeLimits>, list = false): Asn1Error {
  let caught: unknown;
  try {
    if (list) decodeTlvList(input, limits);
    else decodeTlv(input, limits);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Asn1Error, `expected Asn1Error ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

/** n nested SEQUENCEs around an empty one (n + 1 constructed levels), DER lengths. */
function nested(levels: number): Buffer {
  let b: Buffer = Buffer.from([0x30, 0x00]);
  for (let i = 1; i < levels; i++) b = encodeTlv(0x30, b);
  return b;
}

describe('TLV: lengths', () => {
  it('rejects the indefinite form', () => {
    failsWith('INDEFINITE_LENGTH', hex('30800000'));
    failsWith('INDEFINITE_LENGTH', hex('3003308000'));
  });

  it('rejects non-minimal long forms', () => {
    failsWith('NON_MINIMAL_LENGTH', hex('048105' + '0102030405'));
    failsWith('NON_MINIMAL_LENGTH', Buffer.concat([hex('04820080'), Buffer.alloc(0x80)]));
    failsWith('NON_MINIMAL_LENGTH', hex('04820005' + '0102030405'));
    failsWith('NON_MINIMAL_LENGTH', hex('0481' + '7f'));
  });

  it('rejects length fields longer than 4 bytes, and 4-byte lengths beyond the input', () => {
    failsWith('LENGTH_TOO_LARGE', hex('04850100000000'));
    failsWith('LENGTH_TOO_LARGE', hex('04ff'));
    failsWith('TRUNCATED', hex('0484ffffffff00'));
    failsWith('TRUNCATED', hex('048401000000'));
  });

  it('accepts every DER length form and encodes minimal lengths', () => {
    for (const n of [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000]) {
      const der = encodeTlv(0x04, Buffer.alloc(n, 0xab));
      const t = decodeTlv(der);
      assert.equal(t.value.length, n);
      assert.equal(t.raw.length, der.length);
    }
    assert.equal(encodeLength(0x7f).toString('hex'), '7f');
    assert.equal(encodeLength(0x80).toString('hex'), '8180');
    assert.equal(encodeLength(0x100).toString('hex'), '820100');
    assert.equal(encodeLength(0x10000).toString('hex'), '83010000');
    assert.equal(encodeLength(0x1000000).toString('hex'), '8401000000');
    assert.throws(() => encodeLength(-1), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
    assert.throws(() => encodeLength(2 ** 32), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
  });
});

describe('TLV: tags', () => {
  it('rejects non-minimal multi-byte tags', () => {
    failsWith('NON_MINIMAL_TAG', hex('1f0500'));
    failsWith('NON_MINIMAL_TAG', hex('bf1e00'));
    failsWith('NON_MINIMAL_TAG', hex('9f800100'));
    failsWith('NON_MINIMAL_TAG', hex('9f807f00'));
  });

  it('rejects tags of 4 bytes and more', () => {
    failsWith('TAG_TOO_LONG', hex('bf81800100'));
    failsWith('TAG_TOO_LONG', hex('1fffffff7f00'));
  });

  it('accepts 2- and 3-byte tags (1F1F, 5F49, BF20, 9F70, BF8100, BFFF7F)', () => {
    const cases: [string, number, number, boolean][] = [
      ['1f1f00', 0x1f1f, 31, false],
      ['5f490100', 0x5f49, 73, false],
      ['bf2000', 0xbf20, 32, true],
      ['9f700101', 0x9f70, 112, false],
      ['bf810000', 0xbf8100, 128, true],
      ['bfff7f00', 0xbfff7f, 0x3fff, true],
    ];
    for (const [h, tag, n, constructed] of cases) {
      const t = decodeTlv(hex(h));
      assert.equal(t.tag, tag);
      assert.equal(t.tagNumber, n);
      assert.equal(t.constructed, constructed);
      assert.equal(encodeTag(tag).toString('hex'), h.slice(0, encodeTag(tag).length * 2));
    }
  });

  it('decodes all four classes', () => {
    const classes: [string, Tlv['tagClass'], number][] = [
      ['020100', 'universal', 2],
      ['5a0100', 'application', 26],
      ['800100', 'context', 0],
      ['c00100', 'private', 0],
      ['e300', 'private', 3],
    ];
    for (const [h, cls, n] of classes) {
      const t = decodeTlv(hex(h));
      assert.equal(t.tagClass, cls);
      assert.equal(t.tagNumber, n);
    }
  });

  it('builds tags from class and number as the specs write them', () => {
    assert.equal(makeTag('context', true, 32), 0xbf20);
    assert.equal(makeTag('application', false, 73), 0x5f49);
    assert.equal(makeTag('context', false, 112), 0x9f70);
    assert.equal(makeTag('private', true, 3), 0xe3);
    assert.equal(makeTag('universal', true, 16), 0x30);
    assert.equal(makeTag('context', false, 128), 0x9f8100);
    assert.equal(tagHex(0x5a), '5A');
    assert.equal(tagHex(0x9f8100), '9F8100');
    assert.throws(() => makeTag('context', false, 0x4000), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
    assert.throws(() => encodeTag(0x1000000), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
  });
});

describe('TLV: limits', () => {
  it('limits the nesting depth of constructed elements (the outermost is depth 1)', () => {
    assert.doesNotThrow(() => decodeTlv(nested(3), { maxDepth: 3 }));
    const e = failsWith('DEPTH_EXCEEDED', nested(4), { maxDepth: 3 });
    assert.equal(e.offset, 6);
    assert.doesNotThrow(() => decodeTlv(nested(DEFAULT_LIMITS.maxDepth)));
    failsWith('DEPTH_EXCEEDED', nested(DEFAULT_LIMITS.maxDepth + 1));
    // Thousands of levels fail on the limit, not on the call stack.
    failsWith('DEPTH_EXCEEDED', nested(5000));
    failsWith('INDEFINITE_LENGTH', Buffer.from('3080'.repeat(5000), 'hex'));
  });

  it('limits the number of elements, across a list too', () => {
    const three = hex('3006020101020102');
    assert.equal(decodeTlv(three, { maxElements: 3 }).children!.length, 2);
    failsWith('TOO_MANY_ELEMENTS', three, { maxElements: 2 });
    failsWith('TOO_MANY_ELEMENTS', Buffer.concat([three, three]), { maxElements: 5 }, true);
  });

  it('limits the input size', () => {
    assert.doesNotThrow(() => decodeTlv(hex('04020102'), { maxSize: 4 }));
    failsWith('INPUT_TOO_LARGE', hex('0403010203'), { maxSize: 4 });
    failsWith('INPUT_TOO_LARGE', hex('0403010203'), { maxSize: 4 }, true);
  });
});

describe('TLV: framing', () => {
  const valid: [string, Buffer][] = [
    ['certificate', readFixture('sgp26', 'EUM', 'CERT_EUM_ECDSA_NIST.der')],
    ['profile element', decodeTlvList(readFixture('ts48', 'TS48V1-A-UNIQUE.der'))[1]!.raw],
    ['message with 2- and 3-byte tags', hex('bf2010' + '8203020500' + 'a900' + '9f700101' + '5f4902aabb')],
  ];

  for (const [name, der] of valid) {
    it(`every truncation of a ${name} is TRUNCATED (EMPTY_INPUT at 0), for one element and for a list`, () => {
      assert.doesNotThrow(() => decodeTlv(der));
      failsWith('EMPTY_INPUT', der.subarray(0, 0));
      assert.deepStrictEqual(decodeTlvList(der.subarray(0, 0)), []);
      for (let n = 1; n < der.length; n++) {
        failsWith('TRUNCATED', der.subarray(0, n));
        failsWith('TRUNCATED', der.subarray(0, n), undefined, true);
      }
    });
  }

  it('rejects trailing data after the outermost element, at its offset', () => {
    const e = failsWith('TRAILING_DATA', hex('0401aa00'));
    assert.equal(e.offset, 3);
    failsWith('TRAILING_DATA', Buffer.concat([readFixture('sgp26', 'EUM', 'CERT_EUM_ECDSA_NIST.der'), hex('00')]));
  });

  it('rejects empty input', () => {
    failsWith('EMPTY_INPUT', Buffer.alloc(0));
  });

  it('reports the offset and tag path of a nested error', () => {
    const e = failsWith('NON_MINIMAL_LENGTH', hex('bf2008a106' + '04810101' + '0000'));
    assert.equal(e.offset, 5);
    assert.equal(e.path, 'BF20/A1');
    assert.match(e.message, /offset 5 at BF20\/A1/);
  });

  it('keeps the exact bytes of every element, offsets into the outermost input', () => {
    const profile = readFixture('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');
    const list = decodeTlvList(profile);
    assert.ok(Buffer.concat(list.map((t) => t.raw)).equals(profile));
    const walk = (t: Tlv): void => {
      assert.ok(t.raw.equals(profile.subarray(t.offset, t.offset + t.raw.length)));
      assert.ok(t.raw.subarray(t.raw.length - t.value.length).equals(t.value));
      if (t.children) {
        assert.ok(Buffer.concat(t.children.map((c) => c.raw)).equals(t.value));
        t.children.forEach(walk);
      }
    };
    list.forEach(walk);
  });

  it('accepts a Uint8Array view with an offset', () => {
    const backing = new Uint8Array([0xff, 0x04, 0x01, 0xaa, 0xff]);
    const t = decodeTlv(backing.subarray(1, 4));
    assert.equal(t.value.toString('hex'), 'aa');
    assert.equal(t.offset, 0);
  });
});

describe('TLV: peekTlvHeader', () => {
  it('returns undefined while the header is incomplete and the sizes once it is', () => {
    assert.equal(peekTlvHeader(hex('')), undefined);
    assert.equal(peekTlvHeader(hex('bf')), undefined);
    assert.equal(peekTlvHeader(hex('bf20')), undefined);
    assert.equal(peekTlvHeader(hex('bf2082')), undefined);
    assert.equal(peekTlvHeader(hex('bf208201')), undefined);
    assert.deepStrictEqual(peekTlvHeader(hex('bf20820100')), { tag: 0xbf20, headerLength: 5, totalLength: 261 });
    assert.deepStrictEqual(peekTlvHeader(hex('0403aa')), { tag: 0x04, headerLength: 2, totalLength: 5 });
    assert.throws(() => peekTlvHeader(hex('3080')), (e) => e instanceof Asn1Error && e.code === 'INDEFINITE_LENGTH');
  });
});

describe('TLV: round trips', () => {
  interface Node {
    tag: number;
    value?: Buffer;
    children?: Node[];
  }
  const primitiveTag = fc.constantFrom(0x02, 0x04, 0x0c, 0x5a, 0x80, 0x9f70, 0x5f49, 0xc0, 0x9f8100);
  const constructedTag = fc.constantFrom(0x30, 0x31, 0xa0, 0xbf20, 0xe3, 0x7f21, 0xbf8100);
  const tree = fc.letrec<{ node: Node }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ tag: primitiveTag, value: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }, { noNullPrototype: true }),
      fc.record({ tag: constructedTag, children: fc.array(tie('node'), { maxLength: 4 }) }, { noNullPrototype: true }),
    ),
  })).node;
  const enc = (n: Node): Buffer => encodeTlv(n.tag, n.children ? n.children.map(enc) : n.value!);
  const shape = (t: Tlv): Node => (t.children ? { tag: t.tag, children: t.children.map(shape) } : { tag: t.tag, value: Buffer.from(t.value) });

  it('decodeTlv(encodeTlv(tree)) gives the tree back', () => {
    fc.assert(
      fc.property(tree, (n) => {
        const der = enc(n);
        const t = decodeTlv(der);
        assert.deepStrictEqual(shape(t), n);
        assert.ok(t.raw.equals(der));
      }),
      { numRuns: 300 },
    );
  });

  it('decodeTlvList splits a concatenation back into its elements', () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 5 }), (nodes) => {
        const list = decodeTlvList(Buffer.concat(nodes.map(enc)));
        assert.deepStrictEqual(list.map(shape), nodes);
      }),
      { numRuns: 200 },
    );
  });

  it('any byte string either decodes or throws an Asn1Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeTlvList(b);
        } catch (e) {
          assert.ok(e instanceof Asn1Error, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
