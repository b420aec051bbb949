// Typed ASN.1 definitions as composable codecs (X.680 types over the X.690 DER layer in tlv.ts).
import { Asn1Error } from './errors.js';
import * as prim from './primitives.js';
import { decodeTlv, encodeTag, encodeTlv, makeTag, tagHex, type DecodeLimits, type TagClass, type Tlv } from './tlv.js';

/** A component that an extensible SEQUENCE did not know and skipped. */
export interface UnknownComponent {
  readonly path: string;
  readonly tag: string;
  readonly offset: number;
}

export interface DecodeContext {
  /**
   * Component names (and SEQUENCE OF indexes) from the outermost type down to the one being decoded: the error path,
   * rendered by `contextPath` only when an error or an unknown component is reported.
   */
  readonly keys: (string | number)[];
  readonly unknown: UnknownComponent[];
}

/** A fresh decode context. */
export function decodeContext(): DecodeContext {
  return { keys: [], unknown: [] };
}

/** The path of the component being decoded, as in `euiccSigned1.ctxParams1.matchingId`. */
export function contextPath(ctx: DecodeContext): string {
  return ctx.keys.join('.');
}

/**
 * What a codec declares about itself, for tools and tests that walk a type (e.g. that every SEQUENCE OF and OCTET
 * STRING of a message from the network has a finite SIZE bound).
 */
export interface CodecShape {
  /** SIZE bounds: bytes of an OCTET STRING, elements of a SEQUENCE OF / SET OF. */
  readonly size?: { readonly min: number; readonly max: number };
  /** The component types: a SEQUENCE's fields, a CHOICE's alternatives, a list's item, a tagged or captured type. */
  readonly components?: readonly Codec<unknown>[];
}

export interface Codec<T> {
  readonly name: string;
  readonly shape?: CodecShape;
  /** True when an element with this tag is an instance of this type (CHOICEs accept several tags). */
  matches(tag: number): boolean;
  decode(tlv: Tlv, ctx: DecodeContext): T;
  encode(value: T): Buffer;
}

/** A type with one fixed outer tag: can be re-tagged IMPLICITly. */
export interface TaggedCodec<T> extends Codec<T> {
  readonly tag: number;
  readonly constructed: boolean;
  decodeContent(tlv: Tlv, ctx: DecodeContext): T;
  encodeContent(value: T): Buffer | Buffer[];
}

export type Decoded<C> = C extends Codec<infer T> ? T : never;

function located(e: unknown, tlv: Tlv, ctx: DecodeContext): unknown {
  if (e instanceof Asn1Error && e.offset < 0) return new Asn1Error(e.code, e.detail, tlv.offset, contextPath(ctx));
  return e;
}

function tagged<T>(
  name: string,
  tag: number,
  constructed: boolean,
  decodeContent: (tlv: Tlv, ctx: DecodeContext) => T,
  encodeContent: (value: T) => Buffer | Buffer[],
  shape?: CodecShape,
): TaggedCodec<T> {
  return {
    name,
    ...(shape === undefined ? {} : { shape }),
    tag,
    constructed,
    matches: (t) => t === tag,
    decodeContent,
    encodeContent,
    decode(tlv, ctx) {
      if (tlv.tag !== tag) {
        throw new Asn1Error('UNEXPECTED_TAG', `${name}: expected tag ${tagHex(tag)}, got ${tagHex(tlv.tag)}`, tlv.offset, contextPath(ctx));
      }
      if (tlv.constructed !== constructed) {
        const code = constructed ? 'EXPECTED_CONSTRUCTED' : 'EXPECTED_PRIMITIVE';
        throw new Asn1Error(code, `${name} must be ${constructed ? 'constructed' : 'primitive'}`, tlv.offset, contextPath(ctx));
      }
      try {
        return decodeContent(tlv, ctx);
      } catch (e) {
        throw located(e, tlv, ctx);
      }
    },
    encode(value) {
      const content = encodeContent(value);
      return encodeTlv(tag, Array.isArray(content) ? content : [content]);
    },
  };
}

/** A primitive type from its content decoder and encoder. */
export function primitive<T>(name: string, tag: number, decode: (v: Buffer) => T, encode: (v: T) => Buffer, shape?: CodecShape): TaggedCodec<T> {
  return tagged(name, tag, false, (tlv) => decode(tlv.value), encode, shape);
}

/** SIZE(min..max) as written in ASN.1 (MAX for no upper bound). */
function sizeText(min: number, max: number): string {
  return min === max ? `${min}` : `${min}..${max === Infinity ? 'MAX' : max}`;
}

// ---- universal types ----

export const boolean = primitive('BOOLEAN', 0x01, prim.decodeBoolean, prim.encodeBoolean);
export const integer = primitive('INTEGER', 0x02, prim.decodeInteger, prim.encodeInteger);
export const bigInteger = primitive('INTEGER', 0x02, prim.decodeBigInteger, prim.encodeBigInteger);
/** INTEGER kept as its exact content octets (certificate serial numbers). */
export const integerBytes = primitive('INTEGER', 0x02, (v) => Buffer.from(prim.checkIntegerBytes(v)), (v: Buffer) => prim.checkIntegerBytes(v));
export const nullValue = primitive('NULL', 0x05, prim.decodeNull, () => Buffer.alloc(0));
export const oid = primitive('OBJECT IDENTIFIER', 0x06, prim.decodeOid, prim.encodeOid);
export const enumerated = primitive('ENUMERATED', 0x0a, prim.decodeInteger, prim.encodeInteger);
export const bitString = primitive('BIT STRING', 0x03, prim.decodeBitString, prim.encodeBitString);
export const namedBits = primitive('BIT STRING', 0x03, prim.decodeNamedBits, prim.encodeNamedBits);
export const utf8String = primitive('UTF8String', 0x0c, prim.decodeUtf8String, prim.encodeUtf8String);
export const printableString = primitive('PrintableString', 0x13, prim.decodePrintableString, prim.encodeAsciiString);
export const ia5String = primitive('IA5String', 0x16, prim.decodeIa5String, prim.encodeAsciiString);
export const utcTime = primitive('UTCTime', 0x17, prim.decodeUtcTime, prim.encodeUtcTime);
export const generalizedTime = primitive('GeneralizedTime', 0x18, prim.decodeGeneralizedTime, prim.encodeGeneralizedTime);

/**
 * OCTET STRING, optionally with a SIZE constraint (exact or a range). The length is checked before the value is
 * copied: more bytes than the bound is SIZE_EXCEEDED, fewer INVALID_VALUE.
 */
export function octetString(size?: number | SizeBounds): TaggedCodec<Buffer> {
  const min = typeof size === 'number' ? size : (size?.min ?? 0);
  const max = typeof size === 'number' ? size : (size?.max ?? Infinity);
  const check = (v: Buffer): Buffer => {
    if (v.length > max) throw new Asn1Error('SIZE_EXCEEDED', `OCTET STRING of ${v.length} bytes, SIZE(${sizeText(min, max)}) allowed`);
    if (v.length < min) throw new Asn1Error('INVALID_VALUE', `OCTET STRING of ${v.length} bytes, SIZE(${sizeText(min, max)}) required`);
    return v;
  };
  return primitive('OCTET STRING', 0x04, (v) => Buffer.from(check(v)), check, { size: { min, max } });
}

/** INTEGER with a value range constraint. */
export function boundedInteger(min: number, max: number): TaggedCodec<number> {
  const check = (n: number): number => {
    if (n < min || n > max) throw new Asn1Error('INVALID_VALUE', `INTEGER ${n} outside (${min}..${max})`);
    return n;
  };
  return primitive('INTEGER', 0x02, (v) => check(prim.decodeInteger(v)), (n) => prim.encodeInteger(check(n)));
}

/** Character string with a SIZE constraint in characters. */
export function sizedUtf8String(min: number, max: number): TaggedCodec<string> {
  const check = (s: string): string => {
    const n = [...s].length;
    if (n < min || n > max) throw new Asn1Error('INVALID_VALUE', `UTF8String of ${n} characters, SIZE(${min}..${max}) required`);
    return s;
  };
  return primitive('UTF8String', 0x0c, (v) => check(prim.decodeUtf8String(v)), (s) => prim.encodeUtf8String(check(s)));
}

// ---- tagging ----

function tagFromParts(cls: TagClass, constructed: boolean, n: number): number {
  return makeTag(cls, constructed, n);
}

/** [n] IMPLICIT (context class unless another class is given). */
export function implicit<T>(n: number, codec: TaggedCodec<T>, cls: TagClass = 'context'): TaggedCodec<T> {
  return retag(codec, tagFromParts(cls, codec.constructed, n));
}

/** [APPLICATION n] IMPLICIT. */
export function application<T>(n: number, codec: TaggedCodec<T>): TaggedCodec<T> {
  return implicit(n, codec, 'application');
}

/** [PRIVATE n] IMPLICIT. */
export function privateTag<T>(n: number, codec: TaggedCodec<T>): TaggedCodec<T> {
  return implicit(n, codec, 'private');
}

/** Re-tags a type with a tag given as written in the specs (BF20, 5F49, 80); the constructed bit must agree. */
export function retag<T>(codec: TaggedCodec<T>, tag: number): TaggedCodec<T> {
  const first = encodeTag(tag)[0]!;
  if (((first & 0x20) !== 0) !== codec.constructed) {
    throw new Asn1Error('ENCODE_ERROR', `tag ${tagHex(tag)} disagrees with ${codec.name} being ${codec.constructed ? 'constructed' : 'primitive'}`);
  }
  return tagged(codec.name, tag, codec.constructed, codec.decodeContent, codec.encodeContent, codec.shape);
}

/** [n] EXPLICIT: a constructed wrapper around exactly one element of the inner type. */
export function explicit<T>(n: number, inner: Codec<T>, cls: TagClass = 'context'): TaggedCodec<T> {
  const tag = tagFromParts(cls, true, n);
  return tagged(
    `[${n}] ${inner.name}`,
    tag,
    true,
    (tlv, ctx) => {
      const kids = tlv.children!;
      if (kids.length !== 1) throw new Asn1Error('INVALID_VALUE', `explicit tag ${tagHex(tag)} must hold one element, holds ${kids.length}`);
      const kid = kids[0]!;
      if (!inner.matches(kid.tag)) throw new Asn1Error('UNEXPECTED_TAG', `${inner.name}: unexpected tag ${tagHex(kid.tag)}`, kid.offset, contextPath(ctx));
      return inner.decode(kid, ctx);
    },
    (v) => inner.encode(v),
    { components: [inner] },
  );
}

// ---- structured types ----

export interface Field {
  readonly key: string;
  readonly codec: Codec<unknown>;
  readonly optional?: boolean;
}

/** A mandatory component. */
export function field<T>(key: string, codec: Codec<T>): Field {
  return { key, codec: codec as Codec<unknown> };
}

/** An OPTIONAL component (also used for DEFAULT components, which DER omits when equal to the default). */
export function optional<T>(key: string, codec: Codec<T>): Field {
  return { key, codec: codec as Codec<unknown>, optional: true };
}

export interface SequenceOptions {
  /**
   * EXTENSIBILITY IMPLIED / `...`: unknown components after the known ones are skipped and reported in
   * the decode context; an unknown component between known ones is always an error.
   */
  readonly extensible?: boolean;
}

let componentsDecoded = 0;

/**
 * Components (SEQUENCE fields, SEQUENCE OF elements, CHOICE alternatives) decoded by typed codecs in this process so
 * far: a measure of decoding work, for tests that assert work rather than time, and for metrics.
 */
export function decodedComponents(): number {
  return componentsDecoded;
}

/** Decodes one component with its key on the context's path. */
function decodeComponent<T>(codec: Codec<T>, tlv: Tlv, ctx: DecodeContext, key: string | number): T {
  componentsDecoded++;
  ctx.keys.push(key);
  try {
    return codec.decode(tlv, ctx);
  } finally {
    ctx.keys.pop();
  }
}

/** SEQUENCE { ... } with components in order; decoded into an object keyed by component name. */
export function sequence<T extends object>(name: string, fields: readonly Field[], options: SequenceOptions = {}): TaggedCodec<T> {
  return tagged<T>(
    name,
    0x30,
    true,
    (tlv, ctx) => {
      const out: Record<string, unknown> = {};
      const kids = tlv.children!;
      let f = 0;
      let k = 0;
      while (k < kids.length) {
        const kid = kids[k]!;
        let j = f;
        while (j < fields.length && !fields[j]!.codec.matches(kid.tag)) j++;
        if (j === fields.length) break;
        for (let m = f; m < j; m++) {
          if (!fields[m]!.optional) {
            throw new Asn1Error('MISSING_COMPONENT', `${name}.${fields[m]!.key} is missing`, kid.offset, contextPath(ctx));
          }
        }
        const fd = fields[j]!;
        out[fd.key] = decodeComponent(fd.codec, kid, ctx, fd.key);
        f = j + 1;
        k++;
      }
      const rest = kids.slice(k);
      if (rest.length > 0) {
        const known = rest.findIndex((r) => fields.some((fd) => fd.codec.matches(r.tag)));
        if (!options.extensible || known >= 0) {
          const bad = rest[0]!;
          const why = known >= 0 ? 'unknown or out-of-order component before known ones' : 'unknown component';
          throw new Asn1Error('UNKNOWN_COMPONENT', `${name}: ${why} with tag ${tagHex(bad.tag)}`, bad.offset, contextPath(ctx));
        }
      }
      for (let m = f; m < fields.length; m++) {
        if (!fields[m]!.optional) {
          throw new Asn1Error('MISSING_COMPONENT', `${name}.${fields[m]!.key} is missing`, tlv.offset, contextPath(ctx));
        }
      }
      for (const r of rest) ctx.unknown.push({ path: contextPath(ctx) || name, tag: tagHex(r.tag), offset: r.offset });
      return out as T;
    },
    (value) => {
      const parts: Buffer[] = [];
      const rec = value as Record<string, unknown>;
      for (const fd of fields) {
        const v = rec[fd.key];
        if (v === undefined) {
          if (!fd.optional) throw new Asn1Error('ENCODE_ERROR', `${name}.${fd.key} is missing`);
          continue;
        }
        parts.push(fd.codec.encode(v));
      }
      return parts;
    },
    { components: fields.map((fd) => fd.codec) },
  );
}

export interface SizeBounds {
  readonly min?: number;
  readonly max?: number;
}

function listCodec<T>(name: string, tag: number, item: Codec<T>, bounds: SizeBounds): TaggedCodec<T[]> {
  const min = bounds.min ?? 0;
  const max = bounds.max ?? Infinity;
  // The count is checked before any element is decoded: an oversize list costs no work per element.
  const check = (n: number): void => {
    if (n > max) throw new Asn1Error('SIZE_EXCEEDED', `${name} with ${n} elements, SIZE(${sizeText(min, max)}) allowed`);
    if (n < min) throw new Asn1Error('INVALID_VALUE', `${name} with ${n} elements, SIZE(${sizeText(min, max)}) required`);
  };
  return tagged(
    name,
    tag,
    true,
    (tlv, ctx) => {
      const kids = tlv.children!;
      check(kids.length);
      return kids.map((kid, i) => {
        if (!item.matches(kid.tag)) {
          throw new Asn1Error('UNEXPECTED_TAG', `${name}: element ${i} has tag ${tagHex(kid.tag)}, not ${item.name}`, kid.offset, contextPath(ctx));
        }
        return decodeComponent(item, kid, ctx, i);
      });
    },
    (values) => {
      check(values.length);
      return values.map((v) => item.encode(v));
    },
    { size: { min, max }, components: [item] },
  );
}

/** SEQUENCE OF. */
export function sequenceOf<T>(item: Codec<T>, bounds: SizeBounds = {}): TaggedCodec<T[]> {
  return listCodec(`SEQUENCE OF ${item.name}`, 0x30, item, bounds);
}

/** SET OF (elements kept in received order, so re-encoding reproduces the input). */
export function setOf<T>(item: Codec<T>, bounds: SizeBounds = {}): TaggedCodec<T[]> {
  return listCodec(`SET OF ${item.name}`, 0x31, item, bounds);
}

/** A CHOICE alternative's decoded form: which alternative, and its value. */
export interface Chosen<K extends string = string, V = unknown> {
  readonly type: K;
  readonly value: V;
}

export interface Alternative {
  readonly key: string;
  readonly codec: Codec<unknown>;
}

export function alternative<T>(key: string, codec: Codec<T>): Alternative {
  return { key, codec: codec as Codec<unknown> };
}

/** CHOICE { ... }: decoded as { type, value }. Unknown alternatives are an error (INVALID_CHOICE). */
export function choice<T extends Chosen>(name: string, alternatives: readonly Alternative[]): Codec<T> {
  const find = (tag: number): Alternative | undefined => alternatives.find((a) => a.codec.matches(tag));
  return {
    name,
    shape: { components: alternatives.map((a) => a.codec) },
    matches: (tag) => find(tag) !== undefined,
    decode(tlv, ctx) {
      const alt = find(tlv.tag);
      if (!alt) throw new Asn1Error('INVALID_CHOICE', `${name}: no alternative has tag ${tagHex(tlv.tag)}`, tlv.offset, contextPath(ctx));
      return { type: alt.key, value: decodeComponent(alt.codec, tlv, ctx, alt.key) } as T;
    },
    encode(chosen) {
      const alt = alternatives.find((a) => a.key === chosen.type);
      if (!alt) throw new Asn1Error('ENCODE_ERROR', `${name}: no alternative ${chosen.type}`);
      return alt.codec.encode(chosen.value);
    },
  };
}

/** Any single element, kept as its raw bytes (ANY, open types, or parts relayed untouched). */
export const anyElement: Codec<Buffer> = {
  name: 'ANY',
  matches: () => true,
  decode: (tlv) => Buffer.from(tlv.raw),
  encode: (raw) => {
    decodeTlv(raw);
    return Buffer.from(raw);
  },
};

/** An element of one tag kept as its raw bytes. */
export function rawElement(tag: number, name = `raw ${tagHex(tag)}`): Codec<Buffer> {
  return {
    name,
    matches: (t) => t === tag,
    decode: (tlv) => Buffer.from(tlv.raw),
    encode: (raw) => {
      const t = decodeTlv(raw);
      if (t.tag !== tag) throw new Asn1Error('ENCODE_ERROR', `${name}: raw element has tag ${tagHex(t.tag)}`);
      return Buffer.from(raw);
    },
  };
}

/** A value together with the exact bytes it was received as (signed data is verified over `der`). */
export interface Captured<T> {
  readonly value: T;
  readonly der: Buffer;
}

/** Decodes the type and keeps its received bytes; encoding writes `der` unchanged (byte-exact relay). */
export function captured<T>(codec: Codec<T>): Codec<Captured<T>> {
  return {
    name: codec.name,
    shape: { ...(codec.shape?.size === undefined ? {} : { size: codec.shape.size }), components: [codec] },
    matches: (tag) => codec.matches(tag),
    decode: (tlv, ctx) => ({ value: codec.decode(tlv, ctx), der: Buffer.from(tlv.raw) }),
    encode: (c) => Buffer.from(c.der),
  };
}

/** Wraps a value for a `captured` field by encoding it once. */
export function capture<T>(codec: Codec<T>, value: T): Captured<T> {
  return { value, der: codec.encode(value) };
}

// ---- entry points ----

export interface DecodeResult<T> {
  readonly value: T;
  /** Components of extensible SEQUENCEs that were not known and were skipped. */
  readonly unknown: readonly UnknownComponent[];
}

/** Decodes one complete message of the given type from bytes (strict; no trailing data). */
export function decodeWithReport<T>(codec: Codec<T>, bytes: Uint8Array, limits?: Partial<DecodeLimits>): DecodeResult<T> {
  const tlv = decodeTlv(bytes, limits);
  const ctx = decodeContext();
  if (!codec.matches(tlv.tag)) {
    throw new Asn1Error('UNEXPECTED_TAG', `${codec.name}: unexpected outer tag ${tagHex(tlv.tag)}`, 0, '');
  }
  return { value: codec.decode(tlv, ctx), unknown: ctx.unknown };
}

export function decode<T>(codec: Codec<T>, bytes: Uint8Array, limits?: Partial<DecodeLimits>): T {
  return decodeWithReport(codec, bytes, limits).value;
}

export function encode<T>(codec: Codec<T>, value: T): Buffer {
  return codec.encode(value);
}
