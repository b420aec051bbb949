// DER contents of the universal types (ITU-T X.690 8.2-8.23, 11): strict decoding, canonical encoding.
import { Asn1Error } from './errors.js';

function invalid(detail: string): never {
  throw new Asn1Error('INVALID_VALUE', detail);
}

/** BOOLEAN (X.690 11.1: DER TRUE is FF). */
export function decodeBoolean(v: Buffer): boolean {
  if (v.length !== 1) invalid(`BOOLEAN of ${v.length} bytes`);
  if (v[0] === 0x00) return false;
  if (v[0] === 0xff) return true;
  return invalid(`BOOLEAN value ${v[0]!.toString(16)} is not DER`);
}

export function encodeBoolean(b: boolean): Buffer {
  return Buffer.from([b ? 0xff : 0x00]);
}

function checkMinimalInteger(v: Buffer): void {
  if (v.length === 0) invalid('empty INTEGER');
  if (v.length > 1 && ((v[0] === 0x00 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))) {
    invalid('INTEGER is not minimally encoded');
  }
}

/** INTEGER (X.690 8.3) of any size as a bigint. */
export function decodeBigInteger(v: Buffer): bigint {
  checkMinimalInteger(v);
  // Hexadecimal conversion is linear in the length; shifting byte by byte would be quadratic.
  let n = BigInt(`0x${v.toString('hex')}`);
  if ((v[0]! & 0x80) !== 0) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** INTEGER that must fit in a JavaScript safe integer. */
export function decodeInteger(v: Buffer): number {
  // A minimal encoding of 8 or more bytes has a magnitude of at least 2^55: never safe.
  if (v.length > 7) {
    checkMinimalInteger(v);
    invalid('INTEGER too large for this field');
  }
  const n = decodeBigInteger(v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    invalid('INTEGER too large for this field');
  }
  return Number(n);
}

export function encodeBigInteger(n: bigint): Buffer {
  const bytes: number[] = [];
  let x = n;
  for (;;) {
    bytes.unshift(Number(x & 0xffn));
    x >>= 8n;
    const top = bytes[0]! & 0x80;
    if ((x === 0n && top === 0) || (x === -1n && top !== 0)) break;
  }
  return Buffer.from(bytes);
}

export function encodeInteger(n: number): Buffer {
  if (!Number.isSafeInteger(n)) throw new Asn1Error('ENCODE_ERROR', `not a safe integer: ${n}`);
  return encodeBigInteger(BigInt(n));
}

/** INTEGER kept as its exact content octets (serial numbers, where the bytes matter). */
export function checkIntegerBytes(v: Buffer): Buffer {
  checkMinimalInteger(v);
  return v;
}

/** NULL (X.690 8.8). */
export function decodeNull(v: Buffer): null {
  if (v.length !== 0) invalid('NULL with content');
  return null;
}

/** Longest subidentifier accepted, in septets (224 bits: UUID arcs under 2.25 need 19). */
const MAX_OID_SEPTETS = 32;

/** OBJECT IDENTIFIER (X.690 8.19) in dotted form. */
export function decodeOid(v: Buffer): string {
  if (v.length === 0) invalid('empty OBJECT IDENTIFIER');
  if ((v[v.length - 1]! & 0x80) !== 0) invalid('OBJECT IDENTIFIER ends inside a subidentifier');
  const arcs: string[] = [];
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    if ((v[i]! & 0x80) !== 0) continue;
    if (v[start] === 0x80) invalid('OBJECT IDENTIFIER subidentifier with a leading zero septet');
    const septets = i + 1 - start;
    if (septets > MAX_OID_SEPTETS) invalid('OBJECT IDENTIFIER subidentifier too large');
    if (arcs.length === 0) {
      // The first subidentifier encodes the first two arcs (X.690 8.19.4).
      let x = 0n;
      for (let j = start; j <= i; j++) x = (x << 7n) | BigInt(v[j]! & 0x7f);
      arcs.push(...(x < 40n ? ['0', String(x)] : x < 80n ? ['1', String(x - 40n)] : ['2', String(x - 80n)]));
    } else if (septets <= 7) {
      let n = 0;
      for (let j = start; j <= i; j++) n = n * 128 + (v[j]! & 0x7f);
      arcs.push(String(n));
    } else {
      let x = 0n;
      for (let j = start; j <= i; j++) x = (x << 7n) | BigInt(v[j]! & 0x7f);
      arcs.push(String(x));
    }
    start = i + 1;
  }
  return arcs.join('.');
}

export function encodeOid(oid: string): Buffer {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(oid)) throw new Asn1Error('ENCODE_ERROR', `invalid OID ${oid}`);
  const arcs = oid.split('.').map((a) => BigInt(a));
  if (arcs[0]! < 2n && arcs[1]! >= 40n) throw new Asn1Error('ENCODE_ERROR', `invalid OID ${oid}`);
  const subs = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const out: number[] = [];
  for (const s of subs) {
    const septets: number[] = [Number(s & 0x7fn)];
    for (let x = s >> 7n; x > 0n; x >>= 7n) septets.unshift(Number(x & 0x7fn) | 0x80);
    out.push(...septets);
  }
  return Buffer.from(out);
}

/** BIT STRING (X.690 8.6, 11.2): the unused-bit count and the bytes; DER unused bits must be zero. */
export interface BitString {
  readonly bytes: Buffer;
  readonly unusedBits: number;
}

export function decodeBitString(v: Buffer): BitString {
  if (v.length === 0) invalid('BIT STRING without the unused-bits octet');
  const unusedBits = v[0]!;
  if (unusedBits > 7) invalid(`BIT STRING with ${unusedBits} unused bits`);
  if (v.length === 1 && unusedBits !== 0) invalid('empty BIT STRING with unused bits');
  if (unusedBits > 0 && (v[v.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    invalid('BIT STRING unused bits are not zero');
  }
  return { bytes: v.subarray(1), unusedBits };
}

export function encodeBitString(bits: BitString): Buffer {
  return Buffer.concat([Buffer.from([bits.unusedBits]), bits.bytes]);
}

/** Named-bit BIT STRING (X.690 11.2.2: trailing zero bits removed in DER) as a set of bit positions. */
export function decodeNamedBits(v: Buffer): number[] {
  const { bytes, unusedBits } = decodeBitString(v);
  // X.690 11.2.2: the last used bit must be a one (this also excludes trailing zero bytes).
  if (bytes.length > 0 && (bytes[bytes.length - 1]! & (1 << unusedBits)) === 0) {
    invalid('named BIT STRING with trailing zero bits');
  }
  const set: number[] = [];
  for (let i = 0; i < bytes.length * 8 - unusedBits; i++) {
    if ((bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0) set.push(i);
  }
  return set;
}

export function encodeNamedBits(positions: readonly number[]): Buffer {
  if (positions.length === 0) return Buffer.from([0]);
  const max = Math.max(...positions);
  const bytes = Buffer.alloc((max >> 3) + 1);
  for (const i of positions) bytes[i >> 3]! |= 0x80 >> (i & 7);
  const unusedBits = 7 - (max & 7);
  return encodeBitString({ bytes, unusedBits });
}

/** Character strings: UTF8String strictly valid; PrintableString and IA5String checked against their alphabets. */
export function decodeUtf8String(v: Buffer): string {
  const s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return s.decode(v);
  } catch {
    return invalid('UTF8String is not valid UTF-8');
  }
}

export function encodeUtf8String(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function decodePrintableString(v: Buffer): string {
  const s = v.toString('latin1');
  if (!PRINTABLE.test(s)) invalid('PrintableString with a character outside its alphabet');
  return s;
}

export function decodeIa5String(v: Buffer): string {
  for (const b of v) if (b > 0x7f) invalid('IA5String with a non-ASCII byte');
  return v.toString('latin1');
}

export function encodeAsciiString(s: string): Buffer {
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]*$/.test(s)) throw new Asn1Error('ENCODE_ERROR', 'non-ASCII character');
  return Buffer.from(s, 'latin1');
}

/** UTCTime (X.690 11.8: YYMMDDHHMMSSZ; RFC 5280 4.1.2.5.1 window 1950-2049). */
export function decodeUtcTime(v: Buffer): Date {
  const s = v.toString('latin1');
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return invalid(`UTCTime '${s}' is not DER (YYMMDDHHMMSSZ)`);
  const yy = Number(m[1]);
  return makeDate(yy < 50 ? 2000 + yy : 1900 + yy, m.slice(2).map(Number), s);
}

/** GeneralizedTime (X.690 11.7: YYYYMMDDHHMMSSZ without fraction, as RFC 5280 requires). */
export function decodeGeneralizedTime(v: Buffer): Date {
  const s = v.toString('latin1');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return invalid(`GeneralizedTime '${s}' is not DER (YYYYMMDDHHMMSSZ)`);
  return makeDate(Number(m[1]), m.slice(2).map(Number), s);
}

function makeDate(year: number, [month, day, hour, minute, second]: number[], text: string): Date {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map the years 0..99 to 1900..1999.
  d.setUTCFullYear(year, month! - 1, day);
  d.setUTCHours(hour!, minute, second);
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month! - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  ) {
    invalid(`time '${text}' is not a valid date`);
  }
  return d;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function timeDigits(d: Date): string {
  return (
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    'Z'
  );
}

export function encodeUtcTime(d: Date): Buffer {
  const y = d.getUTCFullYear();
  if (!(y >= 1950 && y <= 2049)) throw new Asn1Error('ENCODE_ERROR', `year ${y} outside UTCTime range`);
  return Buffer.from(pad(y % 100, 2) + timeDigits(d), 'latin1');
}

export function encodeGeneralizedTime(d: Date): Buffer {
  const y = d.getUTCFullYear();
  if (!(y >= 0 && y <= 9999)) throw new Asn1Error('ENCODE_ERROR', `year ${y} outside GeneralizedTime range`);
  return Buffer.from(pad(d.getUTCFullYear(), 4) + timeDigits(d), 'latin1');
}
