// BSP (SGP.22 2.6.4): key derivation, segment protection in both directions, ReplaceSessionKeys, and attacks on segments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { BSP_MAX_SEGMENT_LENGTH, BspSession, deriveBspKeys, type BspKeys } from '../../src/crypto/bsp.js';
import { AesCmac } from '../../src/crypto/cmac.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { hex, readJsonFixture } from '../helpers/fixtures.js';

interface KdfSet {
  name: string;
  type: 'kdf';
  shared_secret: string;
  key_type: string;
  key_length: string;
  host_id: string;
  eid: string;
  s_enc: string;
  s_mac: string;
  initial_mcv: string;
}
interface SegmentSequenceSet {
  name: string;
  type: 'segment_sequence';
  s_enc: string;
  s_mac: string;
  initial_mcv: string;
  steps: { op: 'encrypt_and_mac' | 'encrypt_and_mac_one' | 'mac_only'; tag: string; plaintext: string; output: string }[];
}
interface BppDecodeSet {
  name: string;
  type: 'bpp_decode';
  bpp: string;
  s_enc: string;
  s_mac: string;
  initial_mcv: string;
  ppk_enc: string;
  ppk_mac: string;
  ppk_initial_mcv: string;
  configure_isdp: string;
  store_metadata: string;
  upp: string;
}
type VectorSet = KdfSet | SegmentSequenceSet | BppDecodeSet;

const vectors = readJsonFixture<{ sets: VectorSet[] }>('vectors', 'bsp-sgp22.json');
const kdfSets = vectors.sets.filter((s): s is KdfSet => s.type === 'kdf');
const sequenceSets = vectors.sets.filter((s): s is SegmentSequenceSet => s.type === 'segment_sequence');
const bppSets = vectors.sets.filter((s): s is BppDecodeSet => s.type === 'bpp_decode');

function keysOf(set: { s_enc: string; s_mac: string; initial_mcv: string }): BspKeys {
  return { sEnc: hex(set.s_enc), sMac: hex(set.s_mac), initialMcv: hex(set.initial_mcv) };
}

function isCryptoError(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof CryptoError && e.code === code;
}

interface Tlv {
  tag: number;
  value: Buffer;
  end: number;
}

/** Test-only BER walker: one- to three-byte tags, definite lengths. */
function readTlv(data: Buffer, offset: number): Tlv {
  let position = offset;
  let tag = data[position++] ?? 0;
  if ((tag & 0x1f) === 0x1f) {
    let next: number;
    do {
      next = data[position++] ?? 0;
      tag = (tag << 8) | next;
    } while (next & 0x80);
  }
  let length = data[position++] ?? 0;
  if (length & 0x80) {
    const size = length & 0x7f;
    length = data.readUIntBE(position, size);
    position += size;
  }
  assert.ok(position + length <= data.length, 'TLV within bounds');
  return { tag, value: data.subarray(position, position + length), end: position + length };
}

function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < value.length; ) {
    const tlv = readTlv(value, offset);
    out.push(tlv);
    offset = tlv.end;
  }
  return out;
}

function flip(data: Buffer, index: number): Buffer {
  const out = Buffer.from(data);
  out[index] = (out[index] ?? 0) ^ 0x01;
  return out;
}

/** Builds an encrypted segment by hand (ICV, CBC, C-MAC) so that its plaintext padding can be anything. */
function craftEncryptedSegment(keys: BspKeys, counter: number, mcv: Uint8Array, tag: number, padded: Buffer): Buffer {
  const counterBlock = Buffer.alloc(16);
  counterBlock.writeUInt32BE(counter, 12);
  const icv = createCipheriv('aes-128-ecb', keys.sEnc, null).setAutoPadding(false).update(counterBlock);
  const ciphertext = createCipheriv('aes-128-cbc', keys.sEnc, icv).setAutoPadding(false).update(padded);
  const header = Buffer.of(tag, ciphertext.length + 8); // short-form length in these tests
  const mac = new AesCmac(keys.sMac).mac(mcv, header, ciphertext).subarray(0, 8);
  return Buffer.concat([header, ciphertext, mac]);
}

const partOne = sequenceSets[0];
const partTwo = sequenceSets[1];
assert.ok(partOne !== undefined && partTwo !== undefined, 'the vector file has the two segment sequences');

describe('BSP key derivation (SGP.22 2.6.4.2)', () => {
  for (const set of kdfSets) {
    it(set.name, () => {
      const keys = deriveBspKeys(hex(set.shared_secret), Number.parseInt(set.key_type, 16), Number.parseInt(set.key_length, 16), hex(set.host_id), hex(set.eid));
      assert.equal(keys.initialMcv.toString('hex'), set.initial_mcv);
      assert.equal(keys.sEnc.toString('hex'), set.s_enc);
      assert.equal(keys.sMac.toString('hex'), set.s_mac);
    });
  }

  it('rejects CRT values SGP.22 does not define and malformed inputs', () => {
    const set = kdfSets[0];
    assert.ok(set !== undefined);
    const secret = hex(set.shared_secret);
    const hostId = hex(set.host_id);
    const eid = hex(set.eid);
    assert.throws(() => deriveBspKeys(secret, 0x80, 0x10, hostId, eid), isCryptoError('BSP_UNSUPPORTED_CRT'));
    assert.throws(() => deriveBspKeys(secret, 0x88, 0x20, hostId, eid), isCryptoError('BSP_UNSUPPORTED_CRT'));
    assert.throws(() => deriveBspKeys(secret.subarray(1), 0x88, 0x10, hostId, eid), isCryptoError('INVALID_ARGUMENT'));
    assert.throws(() => deriveBspKeys(secret, 0x88, 0x10, Buffer.alloc(0), eid), isCryptoError('INVALID_ARGUMENT'));
    assert.throws(() => deriveBspKeys(secret, 0x88, 0x10, Buffer.alloc(17), eid), isCryptoError('INVALID_ARGUMENT'));
    assert.throws(() => deriveBspKeys(secret, 0x88, 0x10, hostId, eid.subarray(1)), isCryptoError('INVALID_ARGUMENT'));
    assert.doesNotThrow(() => deriveBspKeys(secret, 0x88, 0x10, Buffer.alloc(16), eid));
  });
});

describe('BSP segment sequences (SGP.22 2.6.4.4/2.6.4.5)', () => {
  for (const set of sequenceSets) {
    it(`protect: ${set.name}`, () => {
      const sender = new BspSession(keysOf(set));
      for (const [index, step] of set.steps.entries()) {
        const tag = Number.parseInt(step.tag, 16);
        const output = step.op === 'mac_only' ? sender.macOnly(0x88, hex(step.plaintext)) : sender.encryptAndMac(tag as 0x86 | 0x87, hex(step.plaintext));
        assert.equal(output.toString('hex'), step.output, `step ${index}`);
        assert.ok(output.length <= BSP_MAX_SEGMENT_LENGTH);
        assert.equal(sender.blockCounter, index + 2, 'the block counter advances once per segment');
      }
    });

    it(`unprotect: ${set.name}`, () => {
      const receiver = new BspSession(keysOf(set));
      for (const [index, step] of set.steps.entries()) {
        const tag = Number.parseInt(step.tag, 16);
        const plaintext = step.op === 'mac_only' ? receiver.verifyMacOnly(hex(step.output)) : receiver.unprotectEncrypted(hex(step.output), tag as 0x86 | 0x87);
        assert.equal(plaintext.toString('hex'), step.plaintext, `step ${index}`);
      }
    });
  }

  it('protectProfileSegments cuts the part-two UPP into exactly the vector\'s two 1020-byte segments', () => {
    const sender = new BspSession(keysOf(partTwo));
    const upp = Buffer.concat(partTwo.steps.map((s) => hex(s.plaintext)));
    const segments = sender.protectProfileSegments(upp);
    assert.deepEqual(segments.map((s) => s.toString('hex')), partTwo.steps.map((s) => s.output));
    assert.deepEqual(segments.map((s) => s.length), [1020, 1020]);
    assert.equal(sender.maxPlaintextPerSegment, 1007);
    assert.equal(sender.maxMacOnlyDataPerSegment, 1008);
  });

  it('ReplaceSessionKeys: one session runs part one, switches to the PPKs of its BF26 and runs part two', () => {
    // Part one's last step is ReplaceSessionKeysRequest BF26 { 80 initialMacChainingValue, 81 ppkEnc, 82 ppkCmac }.
    const lastStep = partOne.steps[partOne.steps.length - 1];
    assert.ok(lastStep !== undefined);
    const request = readTlv(hex(lastStep.plaintext), 0);
    assert.equal(request.tag, 0xbf26);
    const [mcv, enc, mac] = children(request.value);
    assert.ok(mcv?.tag === 0x80 && enc?.tag === 0x81 && mac?.tag === 0x82);
    const ppk: BspKeys = { initialMcv: mcv.value, sEnc: enc.value, sMac: mac.value };
    assert.deepEqual(ppk, keysOf(partTwo), 'part two runs under the PPKs of part one');

    const sender = new BspSession(keysOf(partOne));
    const receiver = new BspSession(keysOf(partOne));
    for (const step of partOne.steps) {
      const data = hex(step.plaintext);
      const segment = step.op === 'mac_only' ? sender.macOnly(0x88, data) : sender.encryptAndMac(0x87, data);
      assert.equal(segment.toString('hex'), step.output);
      const back = step.op === 'mac_only' ? receiver.verifyMacOnly(segment) : receiver.unprotectEncrypted(segment, 0x87);
      assert.deepEqual(back, data);
    }
    sender.replaceSessionKeys(ppk);
    receiver.replaceSessionKeys(ppk);
    assert.equal(sender.blockCounter, 1, 'the vectors restart the block counter with the PPKs');
    assert.deepEqual(sender.macChainingValue, ppk.initialMcv);
    const upp = Buffer.concat(partTwo.steps.map((s) => hex(s.plaintext)));
    const segments = sender.protectProfileSegments(upp);
    assert.deepEqual(segments.map((s) => s.toString('hex')), partTwo.steps.map((s) => s.output));
    assert.deepEqual(Buffer.concat(segments.map((s) => receiver.unprotectEncrypted(s, 0x86))), upp);
  });
});

describe('BSP: full Bound Profile Package', () => {
  for (const set of bppSets) {
    const bpp = readTlv(hex(set.bpp), 0);
    const parts = new Map(children(bpp.value).map((tlv) => [tlv.tag, tlv]));
    /** The BSP TLVs of a sequenceOfNN: this encoder double-wraps them (see the vector's note), so unwrap once. */
    const segmentsOf = (sequenceTag: number, segmentTag: number): Buffer[] => {
      const sequence = parts.get(sequenceTag);
      assert.ok(sequence !== undefined, `BPP has ${sequenceTag.toString(16)}`);
      return children(sequence.value).map((outer) => {
        assert.equal(outer.tag, segmentTag);
        assert.equal(readTlv(outer.value, 0).end, outer.value.length, 'the content is exactly one TLV');
        assert.equal(outer.value[0], segmentTag);
        return outer.value;
      });
    };
    const ppk: BspKeys = { sEnc: hex(set.ppk_enc), sMac: hex(set.ppk_mac), initialMcv: hex(set.ppk_initial_mcv) };
    // This encoder writes 1036-byte 86 segments, beyond SGP.22's 1020: accepting them needs an explicit limit.
    const options = { maxSegmentLength: 1036 };

    it(`unprotect: ${set.name}`, () => {
      assert.equal(bpp.tag, 0xbf36);
      assert.deepEqual([...parts.keys()], [0xbf23, 0xa0, 0xa1, 0xa3]);
      const session = new BspSession(keysOf(set), options);
      assert.equal(Buffer.concat(segmentsOf(0xa0, 0x87).map((s) => session.unprotectEncrypted(s, 0x87))).toString('hex'), set.configure_isdp);
      assert.equal(Buffer.concat(segmentsOf(0xa1, 0x88).map((s) => session.verifyMacOnly(s))).toString('hex'), set.store_metadata);
      const profile = new BspSession(ppk, options);
      const upp = Buffer.concat(segmentsOf(0xa3, 0x86).map((s) => profile.unprotectEncrypted(s, 0x86)));
      assert.equal(upp.toString('hex'), set.upp);
    });

    it(`protect reproduces every segment: ${set.name}`, () => {
      const session = new BspSession(keysOf(set), options);
      const [configure] = segmentsOf(0xa0, 0x87);
      const [metadata] = segmentsOf(0xa1, 0x88);
      assert.deepEqual(session.encryptAndMac(0x87, hex(set.configure_isdp)), configure);
      assert.deepEqual(session.macOnly(0x88, hex(set.store_metadata)), metadata);
      const reader = new BspSession(ppk, options);
      const writer = new BspSession(ppk, options);
      for (const segment of segmentsOf(0xa3, 0x86)) {
        assert.deepEqual(writer.encryptAndMac(0x86, reader.unprotectEncrypted(segment, 0x86)), segment);
      }
    });

    it(`the SGP.22 segment limit rejects this encoder's oversized segments: ${set.name}`, () => {
      const [first] = segmentsOf(0xa3, 0x86);
      assert.ok(first !== undefined && first.length > BSP_MAX_SEGMENT_LENGTH);
      assert.throws(() => new BspSession(ppk).unprotectEncrypted(first, 0x86), isCryptoError('BSP_SEGMENT'));
    });
  }
});

describe('BSP: attacks and malformed segments are rejected', () => {
  const keys = keysOf(partOne);
  const [configure, metadata, replace] = partOne.steps.map((s) => hex(s.output)) as [Buffer, Buffer, Buffer];

  it('a flipped bit in the ciphertext fails the MAC', () => {
    for (const index of [2, 10, configure.length - 9]) {
      assert.throws(() => new BspSession(keys).unprotectEncrypted(flip(configure, index), 0x87), isCryptoError('BSP_MAC_FAILURE'));
    }
  });

  it('a flipped bit in the C-MAC or in MAC-only data fails the MAC', () => {
    assert.throws(() => new BspSession(keys).unprotectEncrypted(flip(configure, configure.length - 1), 0x87), isCryptoError('BSP_MAC_FAILURE'));
    const session = new BspSession(keys);
    session.unprotectEncrypted(configure, 0x87);
    assert.throws(() => session.verifyMacOnly(flip(metadata, 5)), isCryptoError('BSP_MAC_FAILURE'));
  });

  it('reordered segments fail the MAC (chaining)', () => {
    const session = new BspSession(keys);
    assert.throws(() => session.verifyMacOnly(metadata), isCryptoError('BSP_MAC_FAILURE'));
    const skipping = new BspSession(keys);
    skipping.unprotectEncrypted(configure, 0x87);
    assert.throws(() => skipping.unprotectEncrypted(replace, 0x87), isCryptoError('BSP_MAC_FAILURE'));
  });

  it('a replayed segment fails the MAC', () => {
    const session = new BspSession(keys);
    session.unprotectEncrypted(configure, 0x87);
    assert.throws(() => session.unprotectEncrypted(configure, 0x87), isCryptoError('BSP_MAC_FAILURE'));
  });

  it('a failure aborts the session for good', () => {
    const session = new BspSession(keys);
    assert.throws(() => session.unprotectEncrypted(flip(configure, 3), 0x87), isCryptoError('BSP_MAC_FAILURE'));
    assert.throws(() => session.unprotectEncrypted(configure, 0x87), isCryptoError('BSP_SESSION_ABORTED'));
    assert.throws(() => session.encryptAndMac(0x87, Buffer.of(1)), isCryptoError('BSP_SESSION_ABORTED'));
  });

  it('truncated, extended and malformed segments are BSP_SEGMENT errors', () => {
    const cases: Record<string, Buffer> = {
      empty: Buffer.alloc(0),
      'tag only': configure.subarray(0, 1),
      'header only': configure.subarray(0, 2),
      'last byte missing': configure.subarray(0, configure.length - 1),
      'C-MAC missing': configure.subarray(0, configure.length - 8),
      'trailing byte': Buffer.concat([configure, Buffer.of(0)]),
      'non-minimal length 81 18': Buffer.concat([Buffer.of(0x87, 0x81, 0x18), configure.subarray(2)]),
      'non-minimal length 82 00 18': Buffer.concat([Buffer.of(0x87, 0x82, 0x00, 0x18), configure.subarray(2)]),
      'indefinite length': Buffer.concat([Buffer.of(0x87, 0x80), configure.subarray(2), Buffer.of(0, 0)]),
      'length of length 3': Buffer.concat([Buffer.of(0x87, 0x83, 0x00, 0x00, 0x18), configure.subarray(2)]),
      'truncated in the length field': Buffer.of(0x87, 0x82, 0x01),
      'wrong tag': Buffer.concat([Buffer.of(0x86), configure.subarray(1)]),
      'ciphertext not a multiple of 16': Buffer.concat([Buffer.of(0x87, 0x17), configure.subarray(2, 17), configure.subarray(18)]),
      'no ciphertext': Buffer.concat([Buffer.of(0x87, 0x08), configure.subarray(configure.length - 8)]),
    };
    for (const [name, segment] of Object.entries(cases)) {
      assert.throws(() => new BspSession(keys).unprotectEncrypted(segment, 0x87), isCryptoError('BSP_SEGMENT'), name);
    }
    assert.throws(() => new BspSession(keys).verifyMacOnly(configure), isCryptoError('BSP_SEGMENT'), '87 is not MAC-only');
    assert.throws(() => new BspSession(keys).unprotectEncrypted(metadata, 0x87), isCryptoError('BSP_SEGMENT'), '88 is not encrypted');
    assert.throws(() => new BspSession(keys).verifyMacOnly(Buffer.of(0x88, 0x07, 1, 2, 3, 4, 5, 6, 7)), isCryptoError('BSP_SEGMENT'), 'no room for the C-MAC');
  });

  it('wrong padding under a valid MAC is BSP_PADDING; the hand-made segments are otherwise right', () => {
    const body = Buffer.from('bf2400', 'hex');
    const good = Buffer.concat([body, Buffer.of(0x80), Buffer.alloc(12)]);
    assert.deepEqual(new BspSession(keys).unprotectEncrypted(craftEncryptedSegment(keys, 1, keys.initialMcv, 0x87, good), 0x87), body);
    assert.equal(craftEncryptedSegment(keys, 1, keys.initialMcv, 0x87, good).toString('hex'), configure.toString('hex'));
    const badPaddings: Record<string, Buffer> = {
      'no 80': Buffer.concat([body, Buffer.alloc(13)]),
      'non-zero after 80': Buffer.concat([body, Buffer.of(0x80), Buffer.alloc(11), Buffer.of(1)]),
      '81 instead of 80': Buffer.concat([body, Buffer.of(0x81), Buffer.alloc(12)]),
      'all zero block': Buffer.alloc(16),
      'padding longer than a block': Buffer.concat([body, Buffer.of(0x80), Buffer.alloc(28)]),
      'no padding at all': Buffer.alloc(16, 0x41),
    };
    for (const [name, padded] of Object.entries(badPaddings)) {
      const segment = craftEncryptedSegment(keys, 1, keys.initialMcv, 0x87, padded);
      assert.throws(() => new BspSession(keys).unprotectEncrypted(segment, 0x87), isCryptoError('BSP_PADDING'), name);
    }
    // A whole block of padding (plaintext length a multiple of 16) is fine.
    const sixteen = Buffer.alloc(16, 0x42);
    const full = craftEncryptedSegment(keys, 1, keys.initialMcv, 0x87, Buffer.concat([sixteen, Buffer.of(0x80), Buffer.alloc(15)]));
    assert.deepEqual(new BspSession(keys).unprotectEncrypted(full, 0x87), sixteen);
  });

  it('the receiver uses the ICV of its own block counter: a segment made for another counter value fails', () => {
    // The C-MAC does not cover the ICV, so it verifies; decrypting under the wrong ICV garbles the first block and the
    // padding check catches it (this one-block segment is fixed, so the outcome is deterministic).
    const padded = Buffer.concat([Buffer.from('bf2400', 'hex'), Buffer.of(0x80), Buffer.alloc(12)]);
    const segment = craftEncryptedSegment(keys, 2, keys.initialMcv, 0x87, padded);
    assert.throws(() => new BspSession(keys).unprotectEncrypted(segment, 0x87), isCryptoError('BSP_PADDING'));
  });
});

describe('BSP: sender-side limits and round trips', () => {
  const keys = keysOf(partOne);

  it('a 12 KB profile becomes 1020-byte segments (the last shorter) and comes back intact', () => {
    const profile = Buffer.alloc(12 * 1024);
    for (let i = 0; i < profile.length; i++) profile[i] = (i * 7) & 0xff;
    const segments = new BspSession(keys).protectProfileSegments(profile);
    assert.equal(segments.length, Math.ceil(profile.length / 1007));
    assert.ok(segments.slice(0, -1).every((s) => s.length === 1020));
    const receiver = new BspSession(keys);
    assert.deepEqual(Buffer.concat(segments.map((s) => receiver.unprotectEncrypted(s, 0x86))), profile);
  });

  it('round trip for any data and segment limit, in order, with both sides in the same state afterwards', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.oneof(fc.constant(BSP_MAX_SEGMENT_LENGTH), fc.integer({ min: 26, max: 2100 })),
        fc.boolean(),
        (data, maxSegmentLength, encrypted) => {
          const sender = new BspSession(keys, { maxSegmentLength });
          const receiver = new BspSession(keys, { maxSegmentLength });
          const segments = encrypted ? sender.encryptAndMacSegments(0x86, data) : sender.macOnlySegments(0x88, data);
          const perSegment = encrypted ? sender.maxPlaintextPerSegment : sender.maxMacOnlyDataPerSegment;
          assert.equal(segments.length, Math.ceil(data.length / perSegment));
          assert.ok(segments.every((s) => s.length <= maxSegmentLength));
          const back = segments.map((s) => (encrypted ? receiver.unprotectEncrypted(s, 0x86) : receiver.verifyMacOnly(s)));
          assert.deepEqual(Buffer.concat(back), Buffer.from(data));
          assert.equal(receiver.blockCounter, sender.blockCounter);
          assert.deepEqual(receiver.macChainingValue, sender.macChainingValue);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses oversized single segments, wrong tags, empty input and bad session parameters', () => {
    const session = new BspSession(keys);
    assert.throws(() => session.encryptAndMac(0x87, Buffer.alloc(1008)), isCryptoError('BSP_SEGMENT'));
    assert.throws(() => session.macOnly(0x88, Buffer.alloc(1009)), isCryptoError('BSP_SEGMENT'));
    assert.throws(() => session.encryptAndMac(0x88 as 0x87, Buffer.of(1)), isCryptoError('BSP_SEGMENT'));
    assert.throws(() => session.macOnly(0x87 as 0x88, Buffer.of(1)), isCryptoError('BSP_SEGMENT'));
    assert.throws(() => session.protectProfileSegments(Buffer.alloc(0)), isCryptoError('INVALID_ARGUMENT'));
    assert.equal(session.blockCounter, 1, 'refused calls do not touch the state');
    assert.deepEqual(session.macChainingValue, keys.initialMcv);
    assert.equal(session.encryptAndMac(0x87, Buffer.alloc(1007)).length, 1020);
    assert.equal(session.macOnly(0x88, Buffer.alloc(1008)).length, 1020);
    for (const maxSegmentLength of [0, 25, 1020.5, 70000, Number.NaN]) {
      assert.throws(() => new BspSession(keys, { maxSegmentLength }), isCryptoError('INVALID_ARGUMENT'), String(maxSegmentLength));
    }
    assert.throws(() => new BspSession({ ...keys, sEnc: Buffer.alloc(15) }), isCryptoError('INVALID_ARGUMENT'));
    assert.throws(() => new BspSession({ ...keys, sMac: Buffer.alloc(32) }), isCryptoError('INVALID_ARGUMENT'));
    assert.throws(() => new BspSession({ ...keys, initialMcv: Buffer.alloc(8) }), isCryptoError('INVALID_ARGUMENT'));
    assert.throws(() => session.replaceSessionKeys({ ...keys, sEnc: Buffer.alloc(0) }), isCryptoError('INVALID_ARGUMENT'));
  });

  it('length fields: short form up to 127, 81 xx up to 255, 82 xxxx beyond', () => {
    const session = new BspSession(keys);
    assert.deepEqual(session.macOnly(0x88, Buffer.alloc(119)).subarray(0, 2), Buffer.of(0x88, 0x7f));
    assert.deepEqual(session.macOnly(0x88, Buffer.alloc(120)).subarray(0, 3), Buffer.of(0x88, 0x81, 0x80));
    assert.deepEqual(session.macOnly(0x88, Buffer.alloc(247)).subarray(0, 3), Buffer.of(0x88, 0x81, 0xff));
    assert.deepEqual(session.macOnly(0x88, Buffer.alloc(248)).subarray(0, 4), Buffer.of(0x88, 0x82, 0x01, 0x00));
  });
});
