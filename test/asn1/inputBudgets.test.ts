// Input budgets of the message layer (docs/architecture.md, The codec): every SEQUENCE OF and OCTET STRING from the network has a SIZE bound, checked before work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Asn1Error } from '../../src/asn1/errors.js';
import * as rsp from '../../src/asn1/definitions/rsp.js';
import * as x509 from '../../src/asn1/definitions/x509.js';
import * as sgp32 from '../../src/asn1/definitions/sgp32.js';
import { decode, encode, implicit, octetString, sequence, sequenceOf, field, type Codec } from '../../src/asn1/schema.js';
import { encodeTlv } from '../../src/asn1/tlv.js';

const t = (tag: number, ...parts: Buffer[]): Buffer => encodeTlv(tag, parts);
const sizeExceeded = (e: unknown): boolean => e instanceof Asn1Error && e.code === 'SIZE_EXCEEDED';

/** Every codec reachable from `root` (through SEQUENCE fields, CHOICE alternatives, list items, tags and captures). */
function reachable(root: Codec<unknown>): Codec<unknown>[] {
  const seen = new Set<Codec<unknown>>();
  const todo = [root];
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (seen.has(c)) continue;
    seen.add(c);
    todo.push(...(c.shape?.components ?? []));
  }
  return [...seen];
}

/** The types that arrive from the network: at the SM-DP+ (ES9+ requests' ASN.1 fields) and at the eUICC (ES10 inputs, ES8+). */
const FROM_NETWORK: Readonly<Record<string, Codec<unknown>>> = {
  EUICCInfo1: rsp.EUICCInfo1,
  AuthenticateServerResponse: rsp.AuthenticateServerResponse,
  PrepareDownloadResponse: rsp.PrepareDownloadResponse,
  PendingNotification: rsp.PendingNotification,
  CancelSessionResponse: rsp.CancelSessionResponse,
  ...rsp.RSP_MESSAGES,
  // Certificates reach the SM-DP+ inside AuthenticateServerResponse and PendingNotification: the certificate and the
  // extension values the PKI decodes.
  Certificate: x509.certificate,
  AuthorityKeyIdentifier: x509.authorityKeyIdentifier,
  SubjectKeyIdentifierExtension: x509.subjectKeyIdentifier,
  CertificatePolicies: x509.certificatePolicies,
  NameConstraints: x509.nameConstraints,
  ExtKeyUsage: x509.extKeyUsage,
  CrlDistributionPoints: x509.crlDistributionPoints,
  GeneralNames: x509.generalNames,
};

describe('input budgets of the RSP messages', () => {
  it('every SEQUENCE OF and OCTET STRING reachable from a network message has a finite SIZE bound', () => {
    const unbounded: string[] = [];
    let bounded = 0;
    for (const [message, codec] of Object.entries(FROM_NETWORK)) {
      for (const c of reachable(codec)) {
        const isList = c.name.startsWith('SEQUENCE OF') || c.name.startsWith('SET OF');
        if (!isList && c.name !== 'OCTET STRING') continue;
        if (c.shape?.size === undefined || !Number.isFinite(c.shape.size.max)) unbounded.push(`${message}: ${c.name}`);
        else bounded++;
      }
    }
    assert.deepStrictEqual(unbounded, []);
    // The walk does reach the lists and strings (a walk that found nothing would pass vacuously).
    assert.ok(bounded > 30, `only ${bounded} bounded codecs found`);
  });

  it('an unbounded OCTET STRING and SEQUENCE OF are seen as such by the walk', () => {
    const loose = sequence<{ a: Buffer; b: Buffer[] }>('Loose', [field('a', implicit(0, octetString())), field('b', implicit(1, sequenceOf(octetString(1))))]);
    const found = reachable(loose).filter((c) => c.shape?.size !== undefined && !Number.isFinite(c.shape.size.max));
    assert.equal(found.length, 2);
  });

  it(`euiccCiPKIdList: at most ${rsp.MAX_CI_PKID_LIST} entries, SIZE_EXCEEDED beyond`, () => {
    const ski = t(0x04, Buffer.alloc(20, 1));
    const info = (n: number): Buffer => t(0xbf20, t(0x82, Buffer.from([2, 5, 0])), t(0xa9, ...Array<Buffer>(n).fill(ski)), t(0xaa, ski));
    assert.equal(decode(rsp.EUICCInfo1, info(rsp.MAX_CI_PKID_LIST)).euiccCiPKIdListForVerification.length, rsp.MAX_CI_PKID_LIST);
    assert.throws(() => decode(rsp.EUICCInfo1, info(rsp.MAX_CI_PKID_LIST + 1)), (e) => sizeExceeded(e) && (e as Asn1Error).path === 'euiccCiPKIdListForVerification');
    // Two lists of 60,000 one-byte entries (the CPU attack of issue 8, within the TLV layer's element cap): refused on the count.
    const many = Array<Buffer>(60_000).fill(t(0x04, Buffer.from([1])));
    assert.throws(() => decode(rsp.EUICCInfo1, t(0xbf20, t(0x82, Buffer.from([2, 5, 0])), t(0xa9, ...many), t(0xaa, ...many))), sizeExceeded);
  });

  it('a subject key identifier, signature or one-time key longer than its bound is SIZE_EXCEEDED', () => {
    assert.throws(() => decode(rsp.SubjectKeyIdentifier, t(0x04, Buffer.alloc(rsp.MAX_KEY_IDENTIFIER + 1))), sizeExceeded);
    assert.equal(decode(rsp.SubjectKeyIdentifier, t(0x04, Buffer.alloc(rsp.MAX_KEY_IDENTIFIER))).length, rsp.MAX_KEY_IDENTIFIER);
    const signed = t(0x30, t(0x80, Buffer.from([1])), t(0x5f49, Buffer.alloc(65, 4)));
    const ok = (sig: number): Buffer => t(0xbf21, t(0xa0, signed, t(0x5f37, Buffer.alloc(sig, 7))));
    assert.equal(decode(rsp.PrepareDownloadResponse, ok(64)).type, 'downloadResponseOk');
    assert.throws(() => decode(rsp.PrepareDownloadResponse, ok(rsp.MAX_SIGNATURE + 1)), sizeExceeded);
    const bigKey = t(0xbf21, t(0xa0, t(0x30, t(0x80, Buffer.from([1])), t(0x5f49, Buffer.alloc(rsp.MAX_PUBLIC_KEY + 1))), t(0x5f37, Buffer.alloc(64))));
    assert.throws(() => decode(rsp.PrepareDownloadResponse, bigKey), sizeExceeded);
  });

  it(`a certificate with more than ${x509.MAX_EXTENSIONS} extensions is SIZE_EXCEEDED`, () => {
    const ext = t(0x30, t(0x06, Buffer.from([0x2a, 0x03])), t(0x04, Buffer.alloc(2)));
    assert.equal(decode(x509.extensions, t(0x30, ...Array<Buffer>(x509.MAX_EXTENSIONS).fill(ext))).length, x509.MAX_EXTENSIONS);
    assert.throws(() => decode(x509.extensions, t(0x30, ...Array<Buffer>(x509.MAX_EXTENSIONS + 1).fill(ext))), sizeExceeded);
  });

  it('the encoder refuses what the decoder would refuse', () => {
    const ski = Buffer.alloc(20);
    const info = { svn: Buffer.from([2, 5, 0]), euiccCiPKIdListForVerification: Array<Buffer>(rsp.MAX_CI_PKID_LIST + 1).fill(ski), euiccCiPKIdListForSigning: [ski] };
    assert.throws(() => encode(rsp.EUICCInfo1, info), sizeExceeded);
  });

  it('an oversize list is refused before any of its elements is decoded (work does not grow with the list)', () => {
    let decoded = 0;
    const counting: Codec<number> = {
      name: 'counting',
      matches: (tag) => tag === 0x02,
      decode: () => ++decoded,
      encode: () => Buffer.from('020100', 'hex'),
    };
    const list = sequenceOf(counting, { max: 4 });
    assert.equal(decode(list, t(0x30, ...Array<Buffer>(4).fill(Buffer.from('020100', 'hex')))).length, 4);
    assert.equal(decoded, 4);
    decoded = 0;
    for (const n of [5, 50_000]) {
      assert.throws(() => decode(list, t(0x30, ...Array<Buffer>(n).fill(Buffer.from('020100', 'hex')))), sizeExceeded);
    }
    assert.equal(decoded, 0);
  });

  it(`a bound profile package with more than ${rsp.MAX_BPP_86_SEGMENTS} '86' segments is SIZE_EXCEEDED`, () => {
    const isc = t(
      0xbf23,
      t(0x82, Buffer.from([1])),
      t(0x80, Buffer.from([1])),
      t(0xa6, t(0x80, Buffer.from([0x88])), t(0x81, Buffer.from([0x10])), t(0x84, Buffer.from([1]))),
      t(0x5f49, Buffer.alloc(65, 4)),
      t(0x5f37, Buffer.alloc(64)),
    );
    const bpp = (n: number): Buffer => t(0xbf36, isc, t(0xa0, t(0x87, Buffer.alloc(1))), t(0xa1, t(0x88, Buffer.alloc(1))), t(0xa3, ...Array<Buffer>(n).fill(t(0x86, Buffer.alloc(1)))));
    assert.equal(decode(rsp.BoundProfilePackage, bpp(rsp.MAX_BPP_86_SEGMENTS)).sequenceOf86.length, rsp.MAX_BPP_86_SEGMENTS);
    assert.throws(() => decode(rsp.BoundProfilePackage, bpp(rsp.MAX_BPP_86_SEGMENTS + 1)), sizeExceeded);
  });
});

describe('input budgets of the SGP.32 messages', () => {
  it('every SEQUENCE OF and OCTET STRING reachable from an SGP.32 message (eIM packages, ES10b, ESipa) has a finite SIZE bound', () => {
    const unbounded: string[] = [];
    const lists = new Set<string>();
    for (const [message, codec] of Object.entries(sgp32.SGP32_MESSAGES)) {
      for (const c of reachable(codec)) {
        const isList = c.name.startsWith('SEQUENCE OF') || c.name.startsWith('SET OF');
        if (!isList && c.name !== 'OCTET STRING') continue;
        if (c.shape?.size === undefined || !Number.isFinite(c.shape.size.max)) unbounded.push(`${message}: ${c.name}`);
        else if (isList) lists.add(c.name);
      }
    }
    assert.deepStrictEqual(unbounded, []);
    // The walk reaches the SGP.32 lists themselves (PSMOs, eCOs, results, eIMs, acknowledgements, notifications).
    for (const name of ['SEQUENCE OF Psmo', 'SEQUENCE OF Eco', 'SEQUENCE OF EuiccResultData', 'SEQUENCE OF EimConfigurationData', 'SEQUENCE OF INTEGER', 'SEQUENCE OF SGP32-PendingNotification', 'SEQUENCE OF [81] EuiccPackageResult']) {
      assert.ok(lists.has(name), `${name} not reached`);
    }
  });

  it(`eIM configuration data lists hold at most ${sgp32.MAX_EIMS} eIMs, result lists at most ${sgp32.MAX_EUICC_PACKAGE_OPERATIONS} results`, () => {
    const cfg = t(0x30, t(0x80, Buffer.from('e')));
    const add = (n: number): Buffer => t(0xbf57, t(0xa0, ...Array<Buffer>(n).fill(cfg)));
    assert.equal(decode(sgp32.AddInitialEimRequest, add(sgp32.MAX_EIMS)).eimConfigurationDataList.length, sgp32.MAX_EIMS);
    assert.throws(() => decode(sgp32.AddInitialEimRequest, add(sgp32.MAX_EIMS + 1)), (e) => sizeExceeded(e) && (e as Asn1Error).path === 'eimConfigurationDataList');
    const data = (n: number): Buffer =>
      t(0x30, t(0x80, Buffer.from('e')), t(0x81, Buffer.from([1])), t(0x83, Buffer.from([1])), t(0x30, ...Array<Buffer>(n).fill(t(0x83, Buffer.from([0])))));
    assert.equal(decode(sgp32.EuiccPackageResultDataSigned, data(sgp32.MAX_EUICC_PACKAGE_OPERATIONS)).euiccResult.length, sgp32.MAX_EUICC_PACKAGE_OPERATIONS);
    // 60,000 results (the CPU attack of issue 8): refused on the count.
    assert.throws(() => decode(sgp32.EuiccPackageResultDataSigned, data(60_000)), sizeExceeded);
  });
});
