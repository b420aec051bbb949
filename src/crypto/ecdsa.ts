// ECDSA with SHA-256 over P-256 and brainpoolP256r1, plain r||s signatures (BSI TR-03111 5.2.1; SGP.22 2.6.5).
import {
  ECDH,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { CryptoError } from './errors.js';

/** The curves SGP.22/SGP.32 use, by their GSMA/JOSE-style names. */
export type EcCurve = 'P-256' | 'brainpoolP256r1';

interface CurveInfo {
  readonly name: EcCurve;
  /** OpenSSL / node:crypto curve name. */
  readonly nodeName: string;
  /** Order n of the base point. */
  readonly order: bigint;
  /** DER of SubjectPublicKeyInfo up to (and including) the BIT STRING's unused-bits byte, for a 65-byte point. */
  readonly spkiPrefix: Buffer;
  /** The JWK "crv" node:crypto imports (RFC 7518 6.2.1.1), if it has one. */
  readonly jwkName?: string;
}

/** Size in bytes of a field element, of r and of s for both curves. */
const FIELD_BYTES = 32;
/** Length of a plain (r || s) signature. */
export const PLAIN_SIGNATURE_LENGTH = 2 * FIELD_BYTES;
/** Length of an uncompressed point 04 || x || y. */
export const UNCOMPRESSED_POINT_LENGTH = 1 + 2 * FIELD_BYTES;

const CURVES: Readonly<Record<EcCurve, CurveInfo>> = {
  'P-256': {
    name: 'P-256',
    nodeName: 'prime256v1',
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (66 bytes) }
    spkiPrefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
    jwkName: 'P-256',
  },
  brainpoolP256r1: {
    name: 'brainpoolP256r1',
    nodeName: 'brainpoolP256r1',
    order: 0xa9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7n,
    // SEQUENCE { SEQUENCE { id-ecPublicKey, brainpoolP256r1 }, BIT STRING (66 bytes) }
    spkiPrefix: Buffer.from('305a301406072a8648ce3d020106092b2403030208010107034200', 'hex'),
  },
};

const BY_NODE_NAME: ReadonlyMap<string, CurveInfo> = new Map(
  Object.values(CURVES).map((info) => [info.nodeName, info]),
);

function curveInfo(curve: EcCurve): CurveInfo {
  const info = Object.hasOwn(CURVES, curve) ? CURVES[curve] : undefined;
  if (info === undefined) throw new CryptoError('INVALID_ARGUMENT', `unsupported curve ${String(curve)}`);
  return info;
}

// Per-KeyObject caches: a KeyObject's curve and point never change, and asking OpenSSL again costs an export.
const curveCache = new WeakMap<KeyObject, CurveInfo>();
const pointCache = new WeakMap<KeyObject, Buffer>();

function keyCurveInfo(key: KeyObject): CurveInfo {
  const cached = curveCache.get(key);
  if (cached !== undefined) return cached;
  if (key.type === 'secret' || key.asymmetricKeyType !== 'ec') {
    throw new CryptoError('INVALID_KEY', `expected an EC key, got ${key.asymmetricKeyType ?? key.type}`);
  }
  const nodeName = key.asymmetricKeyDetails?.namedCurve ?? '';
  const info = BY_NODE_NAME.get(nodeName);
  if (info === undefined) throw new CryptoError('INVALID_KEY', `unsupported EC curve ${nodeName || '(unnamed)'}`);
  curveCache.set(key, info);
  return info;
}

/** The curve of an EC key (public or private); throws INVALID_KEY for any other key. */
export function curveOfKey(key: KeyObject): EcCurve {
  return keyCurveInfo(key).name;
}

/** A fresh key pair on `curve`. */
export function generateKeyPair(curve: EcCurve): { privateKey: KeyObject; publicKey: KeyObject } {
  const info = curveInfo(curve);
  const pair = generateKeyPairSync('ec', { namedCurve: info.nodeName });
  curveCache.set(pair.privateKey, info);
  curveCache.set(pair.publicKey, info);
  return pair;
}

/** INVALID_POINT unless `point` is 04 || x || y of 65 bytes (compressed and hybrid encodings, the point at infinity). */
function requireUncompressed(info: CurveInfo, point: Uint8Array): void {
  if (point.length !== UNCOMPRESSED_POINT_LENGTH || point[0] !== 0x04) {
    throw new CryptoError(
      'INVALID_POINT',
      `expected an uncompressed ${info.name} point of ${UNCOMPRESSED_POINT_LENGTH} bytes starting with 04, got ${point.length} bytes` +
        (point.length > 0 ? ` starting with ${Buffer.from(point.subarray(0, 1)).toString('hex')}` : ''),
    );
  }
}

/** The OpenSSL name of `curve` (node:crypto createECDH and key generation). */
export function opensslCurveName(curve: EcCurve): string {
  return curveInfo(curve).nodeName;
}

/**
 * Checks `point` is an uncompressed point of `curve` (65 bytes, 04 || x || y) and returns its curve's OpenSSL name;
 * whether it lies on the curve is for the operation that uses it (OpenSSL checks range and curve equation on import).
 */
export function checkUncompressedPoint(curve: EcCurve, point: Uint8Array): string {
  const info = curveInfo(curve);
  requireUncompressed(info, point);
  return info.nodeName;
}

/**
 * Public key from an uncompressed point 04 || x || y (65 bytes). Compressed and hybrid encodings,
 * coordinates >= p, the point at infinity and points not on the curve are rejected (INVALID_POINT).
 */
export function publicKeyFromPoint(curve: EcCurve, point: Uint8Array): KeyObject {
  const info = curveInfo(curve);
  requireUncompressed(info, point);
  let key: KeyObject;
  try {
    // OpenSSL checks both coordinates are below p and the point is on the curve, from the JWK (EC_KEY_set_public_key_affine_coordinates)
    // as from the SubjectPublicKeyInfo. The JWK path avoids OpenSSL's DER decoder (about half the cost) but node knows no JWK
    // name for brainpoolP256r1.
    key =
      info.jwkName === undefined
        ? createPublicKey({ key: Buffer.concat([info.spkiPrefix, point]), format: 'der', type: 'spki' })
        : createPublicKey({ key: { kty: 'EC', crv: info.jwkName, x: base64url(point, 1), y: base64url(point, 1 + FIELD_BYTES) }, format: 'jwk' });
  } catch (cause) {
    throw new CryptoError('INVALID_POINT', `not a valid ${info.name} point (coordinate out of range or not on the curve)`, { cause });
  }
  curveCache.set(key, info);
  pointCache.set(key, Buffer.from(point));
  return key;
}

function base64url(point: Uint8Array, offset: number): string {
  return Buffer.from(point.buffer, point.byteOffset + offset, FIELD_BYTES).toString('base64url');
}

/** The uncompressed point 04 || x || y (65 bytes) of an EC public key, or of a private key's public half. */
export function pointFromPublicKey(key: KeyObject): Buffer {
  const cached = pointCache.get(key);
  if (cached !== undefined) return Buffer.from(cached);
  const info = keyCurveInfo(key);
  // Not by a JWK export, though it is twenty times cheaper: node 20 holds the key's mutex while it allocates the JWK's
  // strings, and a garbage collection in between that finalises the generateKeyPairSync job of the same key takes that
  // mutex again, deadlocking the process (seen with generateKeyPair + pointFromPublicKey in a loop).
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  let point: Buffer;
  if (spki.length === info.spkiPrefix.length + UNCOMPRESSED_POINT_LENGTH && spki.subarray(0, info.spkiPrefix.length).equals(info.spkiPrefix)) {
    point = Buffer.from(spki.subarray(info.spkiPrefix.length));
  } else {
    // A key imported with a compressed or hybrid point keeps that form on export: the BIT STRING is the
    // last element of the SPKI; short-form lengths throughout since the SPKI is below 128 bytes.
    const algorithmEnd = 4 + (spki[3] ?? 0);
    const bitStringLength = spki[algorithmEnd + 1] ?? 0;
    const encoded = spki.subarray(algorithmEnd + 3, algorithmEnd + 2 + bitStringLength);
    point = ECDH.convertKey(encoded, info.nodeName, undefined, undefined, 'uncompressed') as Buffer;
  }
  pointCache.set(key, point);
  return Buffer.from(point);
}

function requirePrivate(key: KeyObject): void {
  keyCurveInfo(key);
  if (key.type !== 'private') throw new CryptoError('INVALID_KEY', 'signing needs a private key');
}

/** ECDSA-SHA256 signature as plain r || s (64 bytes). */
export function signPlain(privateKey: KeyObject, data: Uint8Array): Buffer {
  requirePrivate(privateKey);
  return nodeSign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
}

/**
 * Verifies a plain r || s ECDSA-SHA256 signature. Any malformed signature (wrong length, r or s out of
 * range) verifies as false; only an unusable key throws.
 */
export function verifyPlain(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  keyCurveInfo(publicKey);
  if (signature.length !== PLAIN_SIGNATURE_LENGTH) return false;
  try {
    // OpenSSL itself answers false for r or s equal to 0 or >= n.
    return nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/** ECDSA-SHA256 signature as DER Ecdsa-Sig-Value (X.509 certificates, CSRs). */
export function signDer(privateKey: KeyObject, data: Uint8Array): Buffer {
  requirePrivate(privateKey);
  return nodeSign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
}

/** Verifies a DER Ecdsa-Sig-Value; a signature that is not strict DER verifies as false. */
export function verifyDer(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const info = keyCurveInfo(publicKey);
  let plain: Buffer;
  try {
    plain = derToPlain(signature, info.name);
  } catch {
    return false;
  }
  return verifyPlain(publicKey, data, plain);
}

function scalarsInRange(plain: Uint8Array, order: bigint): boolean {
  const r = toBigInt(plain.subarray(0, FIELD_BYTES));
  const s = toBigInt(plain.subarray(FIELD_BYTES, PLAIN_SIGNATURE_LENGTH));
  return r > 0n && r < order && s > 0n && s < order;
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')}`);
}

function encodingError(detail: string): CryptoError {
  return new CryptoError('INVALID_SIGNATURE_ENCODING', `invalid ECDSA signature encoding: ${detail}`);
}

/** Minimal DER INTEGER content of a positive scalar given as 32 big-endian bytes. */
function derIntegerContent(scalar: Uint8Array): Uint8Array {
  let start = 0;
  while (start < scalar.length - 1 && scalar[start] === 0) start++;
  const magnitude = scalar.subarray(start);
  return (magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude;
}

/** Converts plain r || s (64 bytes, 0 < r, s < n) to DER Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }. */
export function plainToDer(plain: Uint8Array, curve: EcCurve): Buffer {
  const info = curveInfo(curve);
  if (plain.length !== PLAIN_SIGNATURE_LENGTH) {
    throw encodingError(`plain signature must be ${PLAIN_SIGNATURE_LENGTH} bytes, got ${plain.length}`);
  }
  if (!scalarsInRange(plain, info.order)) throw encodingError(`r or s is outside [1, n-1] of ${info.name}`);
  const r = derIntegerContent(plain.subarray(0, FIELD_BYTES));
  const s = derIntegerContent(plain.subarray(FIELD_BYTES));
  const body = 2 + r.length + 2 + s.length; // at most 70: short-form lengths
  return Buffer.concat([Buffer.of(0x30, body, 0x02, r.length), r, Buffer.of(0x02, s.length), s]);
}

/**
 * Converts a strict-DER Ecdsa-Sig-Value to plain r || s (64 bytes). Rejects long-form or wrong lengths,
 * non-minimal, negative or oversized INTEGERs, r or s equal to 0 or >= n, and trailing bytes.
 */
export function derToPlain(der: Uint8Array, curve: EcCurve): Buffer {
  const info = curveInfo(curve);
  if (der.length < 2 || der[0] !== 0x30) throw encodingError('expected a SEQUENCE');
  const bodyLength = der[1] ?? 0;
  if (bodyLength & 0x80) throw encodingError('SEQUENCE length is not in short form');
  if (2 + bodyLength !== der.length) {
    throw encodingError(`SEQUENCE length ${bodyLength} does not match the ${der.length - 2} bytes present`);
  }
  const out = Buffer.alloc(PLAIN_SIGNATURE_LENGTH);
  let offset = 2;
  for (const [index, name] of (['r', 's'] as const).entries()) {
    if (der[offset] !== 0x02) throw encodingError(`${name} is not an INTEGER`);
    const length = der[offset + 1];
    if (length === undefined || length === 0 || length & 0x80 || offset + 2 + length > der.length) {
      throw encodingError(`${name} has an invalid length`);
    }
    const content = der.subarray(offset + 2, offset + 2 + length);
    const first = content[0] ?? 0;
    if (first & 0x80) throw encodingError(`${name} is negative`);
    if (length > 1 && first === 0 && !((content[1] ?? 0) & 0x80)) throw encodingError(`${name} is not minimally encoded`);
    const magnitude = first === 0 && length > 1 ? content.subarray(1) : content;
    if (magnitude.length > FIELD_BYTES) throw encodingError(`${name} is longer than ${FIELD_BYTES} bytes`);
    out.set(magnitude, index * FIELD_BYTES + FIELD_BYTES - magnitude.length);
    offset += 2 + length;
  }
  if (offset !== der.length) throw encodingError(`${der.length - offset} trailing bytes after s`);
  if (!scalarsInRange(out, info.order)) throw encodingError(`r or s is outside [1, n-1] of ${info.name}`);
  return out;
}
