// Strict BER/DER TLV layer (ITU-T X.690 8.1, 10.1): definite minimal lengths, tags of at most 3 bytes, hard limits.
import { Asn1Error } from './errors.js';

export type TagClass = 'universal' | 'application' | 'context' | 'private';

const CLASS_NAMES: readonly TagClass[] = ['universal', 'application', 'context', 'private'];

/** One decoded element. `tag` is the tag's bytes read as a big-endian number (0x30, 0x5F49, 0xBF20...). */
export interface Tlv {
  readonly tag: number;
  readonly tagClass: TagClass;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** Offset of the first tag byte within the outermost input. */
  readonly offset: number;
  /** The whole element exactly as received (tag, length and value). Signatures are checked over these bytes. */
  readonly raw: Buffer;
  /** The value (content) bytes. */
  readonly value: Buffer;
  /** Child elements, present exactly when the element is constructed. */
  readonly children: readonly Tlv[] | undefined;
}

export interface DecodeLimits {
  /** Maximal nesting depth of constructed elements (the outermost is depth 1). */
  maxDepth: number;
  /** Maximal number of elements in one input. */
  maxElements: number;
  /** Maximal input size in bytes. */
  maxSize: number;
}

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxDepth: 48,
  maxElements: 200_000,
  maxSize: 16 * 1024 * 1024,
});

/** Hexadecimal rendering of a tag as it is written in the specs (5F49, BF20, A0). */
export function tagHex(tag: number): string {
  const digits = tag.toString(16).toUpperCase();
  return digits.length % 2 === 0 ? digits : `0${digits}`;
}

/** Builds a tag number from class, constructed flag and tag number (up to 3 tag bytes). */
export function makeTag(tagClass: TagClass, constructed: boolean, tagNumber: number): number {
  const first = (CLASS_NAMES.indexOf(tagClass) << 6) | (constructed ? 0x20 : 0);
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 0x3fff) {
    throw new Asn1Error('ENCODE_ERROR', `tag number ${tagNumber} does not fit in 3 tag bytes`);
  }
  if (tagNumber < 31) return first | tagNumber;
  if (tagNumber < 128) return ((first | 0x1f) << 8) | tagNumber;
  return ((first | 0x1f) << 16) | ((0x80 | (tagNumber >> 7)) << 8) | (tagNumber & 0x7f);
}

/** The tag's bytes: one, two or three. */
export function encodeTag(tag: number): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) {
    throw new Asn1Error('ENCODE_ERROR', `invalid tag ${tag}`);
  }
  if (tag > 0xffff) return Buffer.from([tag >> 16, (tag >> 8) & 0xff, tag & 0xff]);
  if (tag > 0xff) return Buffer.from([tag >> 8, tag & 0xff]);
  return Buffer.from([tag]);
}

/** DER length octets (X.690 10.1: minimal, definite). */
export function encodeLength(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new Asn1Error('ENCODE_ERROR', `invalid length ${length}`);
  }
  if (length < 0x80) return Buffer.from([length]);
  if (length <= 0xff) return Buffer.from([0x81, length]);
  if (length <= 0xffff) return Buffer.from([0x82, length >> 8, length & 0xff]);
  if (length <= 0xffffff) return Buffer.from([0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = 0x84;
  out.writeUInt32BE(length, 1);
  return out;
}

/** Encodes one element: tag, DER length, value (one buffer or several concatenated). */
export function encodeTlv(tag: number, value: Uint8Array | readonly Uint8Array[]): Buffer {
  const parts = value instanceof Uint8Array ? [value] : value;
  let length = 0;
  for (const p of parts) length += p.length;
  return Buffer.concat([encodeTag(tag), encodeLength(length), ...parts]);
}

/** A decoded element; its raw and value bytes are views of the input, made when first asked for. */
class DecodedTlv implements Tlv {
  readonly #input: Buffer;
  readonly #valueStart: number;
  #raw: Buffer | undefined;
  #value: Buffer | undefined;

  constructor(
    input: Buffer,
    readonly tag: number,
    readonly tagClass: TagClass,
    readonly constructed: boolean,
    readonly tagNumber: number,
    readonly offset: number,
    valueStart: number,
    /** Offset just past the element within the input. */
    readonly end: number,
    readonly children: readonly Tlv[] | undefined,
  ) {
    this.#input = input;
    this.#valueStart = valueStart;
  }

  get raw(): Buffer {
    return (this.#raw ??= this.#input.subarray(this.offset, this.end));
  }

  get value(): Buffer {
    return (this.#value ??= this.#input.subarray(this.#valueStart, this.end));
  }
}

interface DecodeState {
  readonly input: Buffer;
  readonly limits: DecodeLimits;
  elements: number;
  /** Tags of the constructed elements enclosing the one being read, outermost first (rendered only for an error). */
  readonly enclosing: number[];
}

/** The error path of the element being read: its enclosing tags, as in `BF21/A0/80`. */
function pathOf(state: DecodeState, ownTag?: number): string {
  const tags = ownTag === undefined ? state.enclosing : [...state.enclosing, ownTag];
  return tags.map(tagHex).join('/');
}

function readHeader(state: DecodeState, pos: number, end: number): {
  tag: number;
  tagClass: TagClass;
  constructed: boolean;
  tagNumber: number;
  valueStart: number;
  valueEnd: number;
} {
  const { input } = state;
  if (pos >= end) throw new Asn1Error('TRUNCATED', 'missing tag', pos, pathOf(state));
  const first = input[pos]!;
  const tagClass = CLASS_NAMES[first >> 6]!;
  const constructed = (first & 0x20) !== 0;
  let tag = first;
  let tagNumber = first & 0x1f;
  let p = pos + 1;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    let count = 0;
    for (;;) {
      if (p >= end) throw new Asn1Error('TRUNCATED', 'tag cut short', pos, pathOf(state));
      const b = input[p++]!;
      count++;
      if (count === 1 && b === 0x80) {
        throw new Asn1Error('NON_MINIMAL_TAG', 'tag number with a leading zero septet', pos, pathOf(state));
      }
      if (count > 2) throw new Asn1Error('TAG_TOO_LONG', 'tags longer than 3 bytes are not supported', pos, pathOf(state));
      tag = (tag << 8) | b;
      tagNumber = (tagNumber << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tagNumber < 31) {
      throw new Asn1Error('NON_MINIMAL_TAG', `tag number ${tagNumber} must use the one-byte form`, pos, pathOf(state));
    }
  }
  if (p >= end) throw new Asn1Error('TRUNCATED', `missing length of ${tagHex(tag)}`, pos, pathOf(state));
  const l0 = input[p++]!;
  let length: number;
  if (l0 < 0x80) {
    length = l0;
  } else if (l0 === 0x80) {
    throw new Asn1Error('INDEFINITE_LENGTH', `indefinite length of ${tagHex(tag)}`, pos, pathOf(state));
  } else {
    const n = l0 & 0x7f;
    if (n > 4) throw new Asn1Error('LENGTH_TOO_LARGE', `${n}-byte length field of ${tagHex(tag)}`, pos, pathOf(state));
    if (p + n > end) throw new Asn1Error('TRUNCATED', `length of ${tagHex(tag)} cut short`, pos, pathOf(state));
    if (input[p] === 0) throw new Asn1Error('NON_MINIMAL_LENGTH', `length of ${tagHex(tag)} has a leading zero byte`, pos, pathOf(state));
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + input[p + i]!;
    p += n;
    if (length < 0x80) {
      throw new Asn1Error('NON_MINIMAL_LENGTH', `length ${length} of ${tagHex(tag)} must use the short form`, pos, pathOf(state));
    }
  }
  return { tag, tagClass, constructed, tagNumber, valueStart: p, valueEnd: p + length };
}

function decodeAt(state: DecodeState, pos: number, end: number, depth: number): DecodedTlv {
  if (++state.elements > state.limits.maxElements) {
    throw new Asn1Error('TOO_MANY_ELEMENTS', `more than ${state.limits.maxElements} elements`, pos, pathOf(state));
  }
  const h = readHeader(state, pos, end);
  if (h.valueEnd > end) {
    const declared = h.valueEnd - h.valueStart;
    throw new Asn1Error('TRUNCATED', `${tagHex(h.tag)} declares ${declared} bytes, ${end - h.valueStart} remain`, pos, pathOf(state));
  }
  let children: DecodedTlv[] | undefined;
  if (h.constructed) {
    if (depth > state.limits.maxDepth) {
      throw new Asn1Error('DEPTH_EXCEEDED', `nesting deeper than ${state.limits.maxDepth}`, pos, pathOf(state, h.tag));
    }
    children = [];
    state.enclosing.push(h.tag);
    let p = h.valueStart;
    while (p < h.valueEnd) {
      const child = decodeAt(state, p, h.valueEnd, depth + 1);
      children.push(child);
      p = child.end;
    }
    state.enclosing.pop();
  }
  return new DecodedTlv(state.input, h.tag, h.tagClass, h.constructed, h.tagNumber, pos, h.valueStart, h.valueEnd, children);
}

function startState(input: Uint8Array, limits?: Partial<DecodeLimits>): DecodeState {
  const full: DecodeLimits = { ...DEFAULT_LIMITS, ...limits };
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length > full.maxSize) {
    throw new Asn1Error('INPUT_TOO_LARGE', `input of ${buf.length} bytes exceeds ${full.maxSize}`, 0);
  }
  return { input: buf, limits: full, elements: 0, enclosing: [] };
}

/** Decodes exactly one element; anything after it is an error. */
export function decodeTlv(input: Uint8Array, limits?: Partial<DecodeLimits>): Tlv {
  const state = startState(input, limits);
  if (state.input.length === 0) throw new Asn1Error('EMPTY_INPUT', 'no data', 0);
  const tlv = decodeAt(state, 0, state.input.length, 1);
  if (tlv.end !== state.input.length) {
    throw new Asn1Error('TRAILING_DATA', `${state.input.length - tlv.end} bytes after the outermost element`, tlv.end);
  }
  return tlv;
}

/** Decodes a concatenation of elements (a profile package's ProfileElements, a list of segments). */
export function decodeTlvList(input: Uint8Array, limits?: Partial<DecodeLimits>): Tlv[] {
  const state = startState(input, limits);
  const out: Tlv[] = [];
  let p = 0;
  while (p < state.input.length) {
    const tlv = decodeAt(state, p, state.input.length, 1);
    out.push(tlv);
    p = tlv.end;
  }
  return out;
}

/**
 * Reads only the header of the element at the start of `input`: its tag, header length and total
 * length, or undefined while the header itself is incomplete. For streaming (STORE DATA blocks).
 */
export function peekTlvHeader(input: Uint8Array): { tag: number; headerLength: number; totalLength: number } | undefined {
  const state = startState(input, { maxSize: Number.MAX_SAFE_INTEGER });
  try {
    const h = readHeader(state, 0, state.input.length);
    return { tag: h.tag, headerLength: h.valueStart, totalLength: h.valueEnd };
  } catch (e) {
    if (e instanceof Asn1Error && e.code === 'TRUNCATED') return undefined;
    throw e;
  }
}
