// ECDSA over P-256 and brainpoolP256r1 with plain r||s and DER signatures (BSI TR-03111 5.2.1; SGP.22 2.6.5).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ECDH, X509Certificate, createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import {
  curveOfKey,
  derToPlain,
  generateKeyPair,
  plainToDer,
  pointFromPublicKey,
  publicKeyFromPoint,
  signDer,
  signPlain,
  verifyDer,
  verifyPlain,
  type EcCurve,
} from '../../src/crypto/ecdsa.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { hex, readFixture } from '../helpers/fixtures.js';

const CURVES: readonly EcCurve[] = ['P-256', 'brainpoolP256r1'];
const ORDER: Record<EcCurve, bigint> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  brainpoolP256r1: 0xa9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7n,
};
const NODE_NAME: Record<EcCurve, string> = { 'P-256': 'prime256v1', brainpoolP256r1: 'brainpoolP256r1' };
const FIXTURE_SUFFIX: Record<EcCurve, string> = { 'P-256': 'NIST', brainpoolP256r1: 'BRP' };

function isCryptoError(code: string): (e: unknown) => boolean {
  return (e: unknown) => e instanceof CryptoError && e.code === code;
}

function scalar(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

function plain(r: bigint, s: bigint): Buffer {
  return Buffer.concat([scalar(r), scalar(s)]);
}

/** Tag, value bounds and end of the DER element at `offset` (test-only walker, short and long lengths). */
function element(der: Buffer, offset: number): { tag: number; valueStart: number; end: number } {
  const tag = der[offset] ?? -1;
  let length = der[offset + 1] ?? 0;
  let valueStart = offset + 2;
  if (length & 0x80) {
    const size = length & 0x7f;
    length = der.readUIntBE(offset + 2, size);
    valueStart += size;
  }
  return { tag, valueStart, end: valueStart + length };
}

const DATA = Buffer.from('SGP.22 signed data');

describe('ECDSA', () => {
  for (const curve of CURVES) {
    describe(curve, () => {
      const { privateKey, publicKey } = generateKeyPair(curve);

      it('generates keys on the curve and reports it', () => {
        assert.equal(curveOfKey(privateKey), curve);
        assert.equal(curveOfKey(publicKey), curve);
        assert.equal(publicKey.asymmetricKeyDetails?.namedCurve, NODE_NAME[curve]);
      });

      it('signs plain r||s (64 bytes) and verifies it', () => {
        const signature = signPlain(privateKey, DATA);
        assert.equal(signature.length, 64);
        assert.equal(verifyPlain(publicKey, DATA, signature), true);
        assert.equal(verifyPlain(privateKey, DATA, signature), true, 'a private key verifies with its public half');
      });

      it('signs DER and verifies it; DER and plain convert into each other', () => {
        const der = signDer(privateKey, DATA);
        assert.equal(verifyDer(publicKey, DATA, der), true);
        const converted = derToPlain(der, curve);
        assert.equal(verifyPlain(publicKey, DATA, converted), true);
        assert.deepEqual(plainToDer(converted, curve), der);
      });

      it('rejects tampered data, signatures and the wrong key', () => {
        const signature = signPlain(privateKey, DATA);
        const other = generateKeyPair(curve).publicKey;
        assert.equal(verifyPlain(publicKey, Buffer.from('SGP.22 signed dat4'), signature), false);
        for (const index of [0, 31, 32, 63]) {
          const tampered = Buffer.from(signature);
          tampered[index] = (tampered[index] ?? 0) ^ 0x01;
          assert.equal(verifyPlain(publicKey, DATA, tampered), false, `bit flipped at ${index}`);
        }
        assert.equal(verifyPlain(other, DATA, signature), false);
        const der = signDer(privateKey, DATA);
        const tamperedDer = Buffer.from(der);
        tamperedDer[der.length - 1] = (tamperedDer[der.length - 1] ?? 0) ^ 0x01;
        assert.equal(verifyDer(publicKey, DATA, tamperedDer), false);
      });

      it('answers false, never throws, for malformed signatures', () => {
        const signature = signPlain(privateKey, DATA);
        const n = ORDER[curve];
        for (const bad of [
          Buffer.alloc(0),
          signature.subarray(0, 63),
          Buffer.concat([signature, Buffer.of(0)]),
          Buffer.alloc(64),
          plain(0n, 1n),
          plain(1n, 0n),
          plain(n, 1n),
          plain(1n, n),
          Buffer.alloc(64, 0xff),
        ]) {
          assert.equal(verifyPlain(publicKey, DATA, bad), false);
          assert.equal(verifyDer(publicKey, DATA, bad), false);
        }
        assert.equal(verifyDer(publicKey, DATA, Buffer.concat([signDer(privateKey, DATA), Buffer.of(0)])), false);
        assert.equal(verifyDer(publicKey, DATA, signature), false, 'a plain signature is not DER');
      });

      it('plain -> DER -> plain is the identity for every r, s in [1, n-1]', () => {
        const inRange = fc.bigInt({ min: 1n, max: ORDER[curve] - 1n });
        fc.assert(
          fc.property(inRange, inRange, (r, s) => {
            const p = plain(r, s);
            const der = plainToDer(p, curve);
            assert.deepEqual(derToPlain(der, curve), p);
          }),
        );
        // Boundary scalars: one byte, the high bit set (leading 00), n-1.
        for (const r of [1n, 0x7fn, 0x80n, 0xffn, 1n << 255n, ORDER[curve] - 1n]) {
          assert.deepEqual(derToPlain(plainToDer(plain(r, r), curve), curve), plain(r, r));
        }
      });

      it('accepted DER is canonical: it re-encodes to the same bytes', () => {
        const integer = fc.uint8Array({ maxLength: 34 }).map((c) => Buffer.concat([Buffer.of(0x02, c.length), c]));
        const sequenceOfIntegers = fc
          .tuple(integer, integer, fc.uint8Array({ maxLength: 2 }))
          .map(([r, s, trailing]) => Buffer.concat([Buffer.of(0x30, r.length + s.length), r, s, trailing]));
        fc.assert(
          fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), sequenceOfIntegers), (bytes) => {
            const der = Buffer.from(bytes);
            let p: Buffer;
            try {
              p = derToPlain(der, curve);
            } catch (e) {
              assert.ok(e instanceof CryptoError && e.code === 'INVALID_SIGNATURE_ENCODING');
              return;
            }
            assert.deepEqual(plainToDer(p, curve), der);
          }),
        );
      });

      it('DER mutations of a valid signature are rejected with INVALID_SIGNATURE_ENCODING', () => {
        const der = plainToDer(plain(0x80n, 0x1234n), curve); // 30 08 02 02 00 80 02 02 12 34
        assert.equal(der.toString('hex'), '30080202008002021234');
        const cases: Record<string, string> = {
          'not a SEQUENCE': '3108020200800202 1234',
          'long-form SEQUENCE length': '308108020200800202 1234',
          'SEQUENCE length too short': '3007020200800202 1234',
          'SEQUENCE length too long': '3009020200800202 1234',
          'trailing bytes after the SEQUENCE': '3008020200800202 123400',
          'trailing bytes inside the SEQUENCE': '300b020200800202 1234 020100',
          'non-minimal INTEGER (leading 00)': '3009020300008002 021234',
          'non-minimal INTEGER (leading 00 before a small byte)': '3009020200800203 001234',
          'negative INTEGER': '3007020180020212 34',
          'zero-length INTEGER': '3006020002021234',
          'r = 0': '3007020100020212 34',
          'not an INTEGER': '3008030200800202 1234',
          'missing s': '30040202 0080',
          'INTEGER longer than 33 bytes': `3026022101${'00'.repeat(32)}020101`,
        };
        for (const [name, encoding] of Object.entries(cases)) {
          assert.throws(() => derToPlain(hex(encoding.replaceAll(' ', '')), curve), isCryptoError('INVALID_SIGNATURE_ENCODING'), name);
        }
        const n = ORDER[curve];
        const nDer = Buffer.concat([Buffer.of(0x30, 0x26, 0x02, 0x21, 0x00), scalar(n), Buffer.of(0x02, 0x01, 0x01)]);
        assert.throws(() => derToPlain(nDer, curve), isCryptoError('INVALID_SIGNATURE_ENCODING'), 'r = n');
      });

      it('plainToDer rejects wrong lengths and out-of-range scalars', () => {
        for (const bad of [Buffer.alloc(63, 1), Buffer.alloc(65, 1), plain(0n, 1n), plain(1n, ORDER[curve])]) {
          assert.throws(() => plainToDer(bad, curve), isCryptoError('INVALID_SIGNATURE_ENCODING'));
        }
      });

      it('publicKeyFromPoint and pointFromPublicKey are inverse', () => {
        const point = pointFromPublicKey(publicKey);
        assert.equal(point.length, 65);
        assert.equal(point[0], 0x04);
        assert.deepEqual(pointFromPublicKey(privateKey), point);
        const rebuilt = publicKeyFromPoint(curve, point);
        assert.equal(curveOfKey(rebuilt), curve);
        assert.ok(rebuilt.equals(publicKey));
        assert.equal(verifyPlain(rebuilt, DATA, signPlain(privateKey, DATA)), true);
      });

      it('pointFromPublicKey returns the uncompressed form of a key imported compressed', () => {
        const point = pointFromPublicKey(publicKey);
        const compressed = ECDH.convertKey(point, NODE_NAME[curve], undefined, undefined, 'compressed') as Buffer;
        const spki = publicKey.export({ type: 'spki', format: 'der' });
        const prefix = Buffer.from(spki.subarray(0, spki.length - 65));
        prefix[1] = (prefix[1] ?? 0) - 32;
        prefix[prefix.length - 2] = (prefix[prefix.length - 2] ?? 0) - 32;
        const key = createPublicKey({ key: Buffer.concat([prefix, compressed]), format: 'der', type: 'spki' });
        assert.deepEqual(pointFromPublicKey(key), point);
      });

      it('publicKeyFromPoint rejects invalid, compressed and hybrid points', () => {
        const point = pointFromPublicKey(publicKey);
        const offCurve = Buffer.from(point);
        offCurve[64] = (offCurve[64] ?? 0) ^ 0x01;
        const hybrid = Buffer.from(point);
        hybrid[0] = 0x06 | ((point[64] ?? 0) & 1);
        const largeX = Buffer.from(point);
        largeX.fill(0xff, 1, 33);
        const compressed = ECDH.convertKey(point, NODE_NAME[curve], undefined, undefined, 'compressed') as Buffer;
        for (const [name, bad] of Object.entries({
          offCurve,
          hybrid,
          largeX,
          compressed,
          zero: Buffer.concat([Buffer.of(4), Buffer.alloc(64)]),
          infinity: Buffer.of(0),
          empty: Buffer.alloc(0),
          truncated: point.subarray(0, 64),
          long: Buffer.concat([point, Buffer.of(0)]),
        })) {
          assert.throws(() => publicKeyFromPoint(curve, bad), isCryptoError('INVALID_POINT'), name);
        }
      });

      it('SGP.26 test keys: SK_*.pem signs, PK_*.pem verifies, both encodings', () => {
        for (const role of ['EUM/SK_EUM', 'eUICC/SK_EUICC', 'DPauth/SK_S_SM_DPauth', 'DPpb/SK_S_SM_DPpb', 'CertificateIssuer/SK_CI']) {
          const [folder, name] = role.split('/') as [string, string];
          const sk = createPrivateKey(readFixture('sgp26', folder, `${name}_ECDSA_${FIXTURE_SUFFIX[curve]}.pem`));
          assert.equal(curveOfKey(sk), curve);
          const signature = signPlain(sk, DATA);
          const derSignature = signDer(sk, DATA);
          if (name === 'SK_CI') {
            // The CI key has no PK_*.pem: its certificate carries the public key.
            const cert = new X509Certificate(readFixture('sgp26', folder, `CERT_CI_ECDSA_${FIXTURE_SUFFIX[curve]}.der`));
            assert.equal(verifyPlain(cert.publicKey, DATA, signature), true);
            continue;
          }
          const pk = createPublicKey(readFixture('sgp26', folder, `${name.replace('SK_', 'PK_')}_ECDSA_${FIXTURE_SUFFIX[curve]}.pem`));
          assert.equal(verifyPlain(pk, DATA, signature), true, role);
          assert.equal(verifyDer(pk, DATA, derSignature), true, role);
          // node's own verifier agrees with a signature made here, and vice versa
          assert.equal(verifyPlain(pk, DATA, nodeSign('sha256', DATA, { key: sk, dsaEncoding: 'ieee-p1363' })), true);
        }
      });

      it('known answer: the SGP.26 EUM certificate signature verifies under the CI key (X509Certificate.verify agrees)', () => {
        const suffix = FIXTURE_SUFFIX[curve];
        const ciCert = new X509Certificate(readFixture('sgp26', 'CertificateIssuer', `CERT_CI_ECDSA_${suffix}.der`));
        const eumDer = readFixture('sgp26', 'EUM', `CERT_EUM_ECDSA_${suffix}.der`);
        const eumCert = new X509Certificate(eumDer);
        assert.equal(curveOfKey(ciCert.publicKey), curve);
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
        const certificate = element(eumDer, 0);
        const tbs = element(eumDer, certificate.valueStart);
        const algorithm = element(eumDer, tbs.end);
        const signatureValue = element(eumDer, algorithm.end);
        assert.equal(signatureValue.tag, 0x03);
        assert.equal(eumDer[signatureValue.valueStart], 0x00, 'no unused bits');
        const tbsBytes = eumDer.subarray(certificate.valueStart, tbs.end);
        const signature = eumDer.subarray(signatureValue.valueStart + 1, signatureValue.end);
        const ciKey = ciCert.publicKey;
        assert.equal(eumCert.verify(ciKey), true);
        assert.equal(verifyDer(ciKey, tbsBytes, signature), true);
        assert.equal(verifyPlain(ciKey, tbsBytes, derToPlain(signature, curve)), true);
        // Rebuilding the CI key from its point gives the same verdicts.
        const rebuilt = publicKeyFromPoint(curve, pointFromPublicKey(ciKey));
        assert.equal(verifyDer(rebuilt, tbsBytes, signature), true);
        const tampered = Buffer.from(tbsBytes);
        tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0x01;
        assert.equal(verifyDer(ciKey, tampered, signature), false);
        // The EUM key does not verify its own certificate.
        assert.equal(verifyDer(eumCert.publicKey, tbsBytes, signature), false);
      });
    });
  }

  it('a signature on one curve does not verify on the other, and converters respect each curve order', () => {
    const nist = generateKeyPair('P-256');
    const brp = generateKeyPair('brainpoolP256r1');
    assert.equal(verifyPlain(brp.publicKey, DATA, signPlain(nist.privateKey, DATA)), false);
    // n(brainpoolP256r1) < r < n(P-256): valid for P-256 only.
    const r = ORDER.brainpoolP256r1 + 1n;
    assert.doesNotThrow(() => plainToDer(plain(r, 1n), 'P-256'));
    assert.throws(() => plainToDer(plain(r, 1n), 'brainpoolP256r1'), isCryptoError('INVALID_SIGNATURE_ENCODING'));
  });

  it('rejects keys that are not EC P-256/brainpoolP256r1 keys, and public keys for signing', () => {
    const { publicKey } = generateKeyPair('P-256');
    assert.throws(() => signPlain(publicKey, DATA), isCryptoError('INVALID_KEY'));
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    const ed25519 = generateKeyPairSync('ed25519').privateKey;
    assert.throws(() => signPlain(p384, DATA), isCryptoError('INVALID_KEY'));
    assert.throws(() => curveOfKey(createPublicKey(p384)), isCryptoError('INVALID_KEY'));
    assert.throws(() => signPlain(ed25519, DATA), isCryptoError('INVALID_KEY'));
    assert.throws(() => verifyPlain(createSecretKey(Buffer.alloc(16)), DATA, Buffer.alloc(64)), isCryptoError('INVALID_KEY'));
  });
});
