// RFC 5280 4.1 certificate codec: SGP.26 certificates round-trip byte-exact, property-based round trips, DER strictness.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import { encodeBigInteger } from '../../src/asn1/primitives.js';
import { capture, decode, encode, type Codec } from '../../src/asn1/schema.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import * as x509 from '../../src/asn1/definitions/x509.js';
import { fixturePath, hex, readFixture } from '../helpers/fixtures.js';

const SGP26_CERTIFICATES = (readdirSync(fixturePath('sgp26'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.der'))
  .sort();

/** The extension value codecs of x509.ts, by extension OID. */
const EXTENSION_CODECS: Record<string, Codec<unknown>> = {
  [x509.X509_OID.subjectKeyIdentifier]: x509.subjectKeyIdentifier as Codec<unknown>,
  [x509.X509_OID.authorityKeyIdentifier]: x509.authorityKeyIdentifier as Codec<unknown>,
  [x509.X509_OID.keyUsage]: x509.keyUsage as Codec<unknown>,
  [x509.X509_OID.basicConstraints]: x509.basicConstraints as Codec<unknown>,
  [x509.X509_OID.certificatePolicies]: x509.certificatePolicies as Codec<unknown>,
  [x509.X509_OID.subjectAltName]: x509.generalNames as Codec<unknown>,
  [x509.X509_OID.nameConstraints]: x509.nameConstraints as Codec<unknown>,
  [x509.X509_OID.extKeyUsage]: x509.extKeyUsage as Codec<unknown>,
  [x509.X509_OID.crlDistributionPoints]: x509.crlDistributionPoints as Codec<unknown>,
};

describe('SGP.26 certificates', () => {
  test('the fixture set holds every certificate kind', () => {
    assert.equal(SGP26_CERTIFICATES.length, 16);
  });

  for (const file of SGP26_CERTIFICATES) {
    test(`${file} decodes and re-encodes to identical bytes`, () => {
      const der = readFixture('sgp26', file);
      const cert = decode(x509.certificate, der);
      assert.deepEqual(encode(x509.certificate, cert), der);
      // The captured TBS is the exact signed slice of the input.
      const tbsStart = der.indexOf(cert.tbsCertificate.der);
      assert.equal(tbsStart, 4);
      assert.equal(cert.tbsCertificate.value.version, 2);
      assert.equal(cert.signatureAlgorithm.algorithm, x509.X509_OID.ecdsaWithSha256);
      assert.equal(cert.signatureAlgorithm.parameters, undefined);
      const spki = cert.tbsCertificate.value.subjectPublicKeyInfo.value;
      assert.equal(spki.algorithm.algorithm, x509.X509_OID.ecPublicKey);
      const curve = file.includes('NIST') ? x509.X509_OID.prime256v1 : x509.X509_OID.brainpoolP256r1;
      assert.deepEqual(spki.algorithm.parameters, { type: 'oid', value: curve });
      assert.equal(spki.subjectPublicKey.bytes.length, 65);
    });

    test(`${file}: every extension value round-trips through its codec`, () => {
      const cert = decode(x509.certificate, readFixture('sgp26', file));
      for (const ext of cert.tbsCertificate.value.extensions ?? []) {
        const codec = EXTENSION_CODECS[ext.extnID];
        assert.ok(codec, `extension ${ext.extnID} has a codec`);
        assert.deepEqual(encode(codec, decode(codec, ext.extnValue)), ext.extnValue);
      }
    });
  }

  test('names are parsed into attributes and kept raw', () => {
    const cert = decode(x509.certificate, readFixture('sgp26', 'eUICC', 'CERT_EUICC_ECDSA_NIST.der'));
    const subject = cert.tbsCertificate.value.subject;
    assert.deepEqual(subject.value, [
      [{ type: x509.X509_OID.countryName, value: { type: 'printableString', value: 'ES' } }],
      [{ type: x509.X509_OID.organizationName, value: { type: 'utf8String', value: 'RSP Test EUM' } }],
      [{ type: x509.X509_OID.serialNumber, value: { type: 'printableString', value: '89049032123451234512345678901235' } }],
      [{ type: x509.X509_OID.commonName, value: { type: 'utf8String', value: 'Test eUICC' } }],
    ]);
    assert.equal(subject.der[0], 0x30);
    assert.deepEqual(encode(x509.rdnSequence, subject.value), subject.der);
    const validity = cert.tbsCertificate.value.validity;
    assert.deepEqual(validity.notBefore, { type: 'utcTime', value: new Date('2020-04-01T09:48:58Z') });
    assert.deepEqual(validity.notAfter, { type: 'generalTime', value: new Date('7496-01-24T09:48:58Z') });
  });

  test("the EUM's name constraints permit a directoryName with O and the EID prefix", () => {
    const cert = decode(x509.certificate, readFixture('sgp26', 'EUM', 'CERT_EUM_ECDSA_NIST.der'));
    const ext = cert.tbsCertificate.value.extensions!.find((e) => e.extnID === x509.X509_OID.nameConstraints)!;
    assert.equal(ext.critical, true);
    const nc = decode(x509.nameConstraints, ext.extnValue);
    assert.equal(nc.excludedSubtrees, undefined);
    assert.equal(nc.permittedSubtrees?.length, 1);
    const base = nc.permittedSubtrees![0]!.base;
    assert.equal(base.type, 'directoryName');
    assert.deepEqual(base.type === 'directoryName' && base.value.value, [
      [{ type: x509.X509_OID.organizationName, value: { type: 'utf8String', value: 'RSP Test EUM' } }],
      [{ type: x509.X509_OID.serialNumber, value: { type: 'printableString', value: '89049032' } }],
    ]);
  });

  test('the TLS certificate SAN holds a dNSName and the SM-DP+ registeredID', () => {
    const cert = decode(x509.certificate, readFixture('sgp26', 'DPtls', 'CERT_S_SM_DP_VARO_TLS_NIST.der'));
    const ext = cert.tbsCertificate.value.extensions!.find((e) => e.extnID === x509.X509_OID.subjectAltName)!;
    assert.deepEqual(decode(x509.generalNames, ext.extnValue), [
      { type: 'dNSName', value: 'testsmdpplus1.example.com' },
      { type: 'registeredID', value: '2.999.10' },
    ]);
  });
});

// ---- property-based round trips ----

const oidArb = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat(), { maxLength: 6 }))
  .map(([a, b, rest]) => [a, b, ...rest].join('.'));
const bytesArb = (min = 0, max = 40): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b));
const printableArb = fc.string({ unit: fc.constantFrom(..."ABCXYZabcxyz0189 '()+,-./:=?"), maxLength: 24 });
const ia5Arb = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 24 });
const utf8Arb = fc.string({ unit: 'grapheme', maxLength: 12 });

const attributeValueArb: fc.Arbitrary<x509.AttributeValue> = fc.oneof(
  utf8Arb.map((value) => ({ type: 'utf8String' as const, value })),
  printableArb.map((value) => ({ type: 'printableString' as const, value })),
  ia5Arb.map((value) => ({ type: 'ia5String' as const, value })),
  // A BMPString, which the codec keeps as a raw element.
  bytesArb(0, 16).map((b) => ({ type: 'other' as const, value: encodeTlv(0x1e, b.subarray(0, b.length & ~1)) })),
);
const nameArb: fc.Arbitrary<x509.Name> = fc
  .array(fc.array(fc.record({ type: oidArb, value: attributeValueArb }, { noNullPrototype: true }), { minLength: 1, maxLength: 3 }), { maxLength: 5 })
  .map((rdns) => capture(x509.rdnSequence, rdns));

const secondsArb = (fromYear: number, toYear: number): fc.Arbitrary<Date> =>
  fc
    .integer({ min: Date.UTC(fromYear, 0, 1) / 1000, max: Date.UTC(toYear, 11, 31, 23, 59, 59) / 1000 })
    .map((s) => new Date(s * 1000));
const timeArb: fc.Arbitrary<x509.Time> = fc.oneof(
  secondsArb(1950, 2049).map((value) => ({ type: 'utcTime' as const, value })),
  secondsArb(1000, 9999).map((value) => ({ type: 'generalTime' as const, value })),
);

const bitStringArb = fc.tuple(bytesArb(1, 70), fc.integer({ min: 0, max: 7 })).map(([bytes, unusedBits]) => {
  bytes[bytes.length - 1]! &= 0xff << unusedBits;
  return { bytes, unusedBits };
});

const algorithmArb: fc.Arbitrary<x509.AlgorithmIdentifier> = fc.record(
  {
    algorithm: oidArb,
    parameters: fc.oneof(
      oidArb.map((value) => ({ type: 'oid' as const, value })),
      fc.constant({ type: 'null' as const, value: null }),
      bytesArb(0, 10).map((b) => ({ type: 'other' as const, value: encodeTlv(0x04, b) })),
    ),
  },
  { requiredKeys: ['algorithm'], noNullPrototype: true },
);

const extensionArb: fc.Arbitrary<x509.Extension> = fc.record(
  { extnID: oidArb, critical: fc.constant(true as const), extnValue: bytesArb(0, 30) },
  { requiredKeys: ['extnID', 'extnValue'], noNullPrototype: true },
);

const tbsArb: fc.Arbitrary<x509.TbsCertificate> = fc.record(
  {
    version: fc.constantFrom(1, 2),
    serialNumber: fc.bigInt({ min: -(2n ** 64n), max: 2n ** 159n }).map(encodeBigInteger),
    signature: algorithmArb,
    issuer: nameArb,
    validity: fc.record({ notBefore: timeArb, notAfter: timeArb }, { noNullPrototype: true }),
    subject: nameArb,
    subjectPublicKeyInfo: fc
      .record({ algorithm: algorithmArb, subjectPublicKey: bitStringArb }, { noNullPrototype: true })
      .map((spki) => capture(x509.subjectPublicKeyInfo, spki)),
    issuerUniqueID: bitStringArb,
    subjectUniqueID: bitStringArb,
    extensions: fc.array(extensionArb, { minLength: 1, maxLength: 4 }),
  },
  { requiredKeys: ['serialNumber', 'signature', 'issuer', 'validity', 'subject', 'subjectPublicKeyInfo'], noNullPrototype: true },
);

const certificateArb: fc.Arbitrary<x509.Certificate> = fc
  .record({ tbs: tbsArb, signatureAlgorithm: algorithmArb, signatureValue: bitStringArb }, { noNullPrototype: true })
  .map(({ tbs, signatureAlgorithm, signatureValue }) => ({
    tbsCertificate: capture(x509.tbsCertificate, tbs),
    signatureAlgorithm,
    signatureValue,
  }));

const generalNameArb: fc.Arbitrary<x509.GeneralName> = fc.oneof(
  fc.record({ typeId: oidArb, value: utf8Arb.map((s) => encodeTlv(0x0c, Buffer.from(s))) }, { noNullPrototype: true }).map((value) => ({ type: 'otherName' as const, value })),
  ia5Arb.map((value) => ({ type: 'rfc822Name' as const, value })),
  ia5Arb.map((value) => ({ type: 'dNSName' as const, value })),
  nameArb.map((value) => ({ type: 'directoryName' as const, value })),
  ia5Arb.map((value) => ({ type: 'uniformResourceIdentifier' as const, value })),
  fc.constantFrom(4, 16).chain((n) => bytesArb(n, n)).map((value) => ({ type: 'iPAddress' as const, value })),
  oidArb.map((value) => ({ type: 'registeredID' as const, value })),
);

function roundTrips<T>(codec: Codec<T>, value: T): void {
  const der = encode(codec, value);
  const back = decode(codec, der);
  assert.deepEqual(back, value);
  assert.deepEqual(encode(codec, back), der);
}

describe('codec round trip (property-based)', () => {
  test('Certificate: decode(encode(c)) = c and re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(certificateArb, (c) => roundTrips(x509.certificate, c)),
      { numRuns: 300 },
    );
  });

  test('GeneralNames', () => {
    fc.assert(fc.property(fc.array(generalNameArb, { minLength: 1, maxLength: 5 }), (names) => roundTrips(x509.generalNames, names)));
  });

  test('NameConstraints', () => {
    const subtrees = fc.array(generalNameArb.map((base) => ({ base })), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(
        fc.record({ permittedSubtrees: subtrees, excludedSubtrees: subtrees }, { requiredKeys: [], noNullPrototype: true }),
        (nc) => roundTrips(x509.nameConstraints, nc),
      ),
    );
  });

  test('AuthorityKeyIdentifier, BasicConstraints, KeyUsage, ExtKeyUsage, CertificatePolicies', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            keyIdentifier: bytesArb(1, 20),
            authorityCertIssuer: fc.array(generalNameArb, { minLength: 1, maxLength: 2 }),
            authorityCertSerialNumber: fc.bigInt({ min: 1n, max: 2n ** 80n }).map(encodeBigInteger),
          },
          { requiredKeys: [], noNullPrototype: true },
        ),
        fc.record({ cA: fc.constant(true as const), pathLenConstraint: fc.nat() }, { requiredKeys: [], noNullPrototype: true }),
        fc.uniqueArray(fc.integer({ min: 0, max: 8 })).map((bits) => bits.sort((a, b) => a - b)),
        fc.array(oidArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ policyIdentifier: oidArb }, { noNullPrototype: true }), { minLength: 1, maxLength: 3 }),
        (aki, bc, ku, eku, policies) => {
          roundTrips(x509.authorityKeyIdentifier, aki);
          roundTrips(x509.basicConstraints, bc);
          roundTrips(x509.keyUsage, ku);
          roundTrips(x509.extKeyUsage, eku);
          roundTrips(x509.certificatePolicies, policies);
        },
      ),
    );
  });
});

// ---- DER strictness ----

function rejects(codec: Codec<unknown>, der: Buffer, code: string): void {
  assert.throws(() => decode(codec, der), (e: unknown) => e instanceof Asn1Error && e.code === code);
}

describe('DER strictness', () => {
  test('an explicitly encoded critical FALSE is rejected (DER omits DEFAULT values)', () => {
    // Extension { extnID 2.5.29.14, critical FALSE, extnValue 04 01 00 }
    rejects(x509.extension, hex('300d0603551d0e0101000403040100'), 'INVALID_VALUE');
    assert.deepEqual(decode(x509.extension, hex('300d0603551d0e0101ff0403040100')), {
      extnID: x509.X509_OID.subjectKeyIdentifier,
      critical: true,
      extnValue: hex('040100'),
    });
  });

  test('basicConstraints cA FALSE encoded explicitly is rejected', () => {
    rejects(x509.basicConstraints, hex('3003010100'), 'INVALID_VALUE');
    assert.deepEqual(decode(x509.basicConstraints, hex('3000')), {});
  });

  test('an explicit version v1 (the DEFAULT) is rejected', () => {
    const der = readFixture('sgp26', 'DPauth', 'CERT_S_SM_DPauth_ECDSA_NIST.der');
    const cert = decode(x509.certificate, der);
    // [0] { INTEGER 0 } in place of [0] { INTEGER 2 }: same length, so only the value changes.
    const tampered = Buffer.from(der);
    const at = der.indexOf(hex('a003020102'));
    tampered[at + 4] = 0;
    rejects(x509.certificate, tampered, 'INVALID_VALUE');
    assert.equal(cert.tbsCertificate.value.version, 2);
  });

  test('trailing bytes after the certificate are rejected', () => {
    const der = readFixture('sgp26', 'DPauth', 'CERT_S_SM_DPauth_ECDSA_NIST.der');
    rejects(x509.certificate, Buffer.concat([der, Buffer.of(0)]), 'TRAILING_DATA');
  });

  test('a non-minimal length in the TBS is rejected', () => {
    // Name with a long-form length for a short value: 30 81 00.
    rejects(x509.rdnSequence, hex('308100'), 'NON_MINIMAL_LENGTH');
  });

  test('timeFor follows RFC 5280 4.1.2.5', () => {
    assert.equal(x509.timeFor(new Date('2049-12-31T23:59:59Z')).type, 'utcTime');
    assert.equal(x509.timeFor(new Date('2050-01-01T00:00:00Z')).type, 'generalTime');
    assert.equal(x509.timeFor(new Date('1949-12-31T23:59:59Z')).type, 'generalTime');
  });
});
