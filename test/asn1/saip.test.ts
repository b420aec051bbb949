// SAIP profile packages (TCA eUICC Profile Package v3): every TS.48 test profile decodes, re-encodes, yields its USIM essentials.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import { decodeTlvList, type Tlv } from '../../src/asn1/tlv.js';
import * as saip from '../../src/asn1/definitions/saip.js';
import { fixturePath, hex, readFixture } from '../helpers/fixtures.js';

const PROFILES = readdirSync(fixturePath('ts48')).filter((f) => f.endsWith('.der')).sort();

/** The first element with this tag among the children, found on the raw TLV tree (independent of the typed codecs). */
function child(t: Tlv, tag: number): Tlv {
  const c = t.children?.find((k) => k.tag === tag);
  assert.ok(c, `no child ${tag.toString(16)}`);
  return c;
}

/** Nibble swap of every byte, as EF_ICCID stores the digits. */
function swapNibbles(b: Buffer): Buffer {
  return Buffer.from(b.map((x) => ((x & 0x0f) << 4) | (x >> 4)));
}

describe('TS.48 profile packages', () => {
  it('the fixture set holds the six TS.48 profiles', () => {
    assert.equal(PROFILES.length, 6);
  });

  for (const name of PROFILES) {
    describe(name, () => {
      const der = readFixture('ts48', name);
      const pkg = saip.decodeProfilePackage(der);

      it('decodes with every component known and re-encodes to identical bytes', () => {
        assert.deepStrictEqual(pkg.unknown, []);
        assert.equal(pkg.elements[0]!.type, 'header');
        assert.equal(pkg.elements.at(-1)!.type, 'end');
        assert.ok(saip.encodeProfilePackage(pkg.elements).equals(der));
        for (const e of pkg.elements) assert.notEqual(e.type, 'unknown');
      });

      it('each PE re-encodes to its own bytes', () => {
        const raw = decodeTlvList(der);
        assert.equal(raw.length, pkg.elements.length);
        pkg.elements.forEach((e, i) => assert.ok(saip.ProfileElement.encode(e).equals(raw[i]!.raw), `PE ${i} (${e.type})`));
      });

      it('the header ICCID equals EF_ICCID (nibble-swapped) and the essentials report it', () => {
        const raw = decodeTlvList(der);
        const headerIccid = child(raw[0]!, 0x83).value;
        const mf = raw.find((t) => t.tag === 0xb0)!;
        const efIccid = child(child(mf, 0xa4), 0x83).value;
        assert.ok(swapNibbles(headerIccid).equals(efIccid));
        const digits = headerIccid.toString('hex').replace(/f+$/, '');
        const ess = saip.extractProfileEssentials(pkg.elements);
        assert.equal(ess.iccidDigits, digits);
        assert.match(ess.iccidDigits, /^89[0-9]{17,18}$/);
        assert.ok(ess.iccid.equals(efIccid));
        assert.equal(saip.iccidDigitsFromEf(efIccid), digits);
      });

      it('the IMSI is read from the USIM EF_IMSI', () => {
        const raw = decodeTlvList(der);
        const usim = raw.find((t) => t.tag === 0xb3)!;
        const efImsi = child(child(usim, 0xa3), 0x83).value;
        // 08 | 09 10 10 10 32 54 06 36: eight bytes, odd parity, IMSI 001 01 0123456063.
        assert.equal(efImsi.toString('hex'), '080910101032540636');
        assert.equal(saip.extractProfileEssentials(pkg.elements).imsi, '001010123456063');
      });

      it('the USIM AKA parameters are the test algorithm with the TS.48 key and the SAIP defaults', () => {
        const ess = saip.extractProfileEssentials(pkg.elements);
        assert.equal(ess.majorVersion, 2);
        assert.ok([1, 3].includes(ess.minorVersion));
        assert.equal(ess.profileType, 'GSMA Generic eUICC Test Profile');
        assert.ok(ess.aka);
        assert.equal(ess.aka.algorithm, 'test');
        assert.equal(ess.aka.algorithmOptions, 2);
        assert.ok(ess.aka.key.equals(hex('000102030405060708090a0b0c0d0e0f')));
        assert.ok(ess.aka.opc.equals(Buffer.alloc(16)));
        assert.ok(ess.aka.rotationConstants.equals(hex('4000204060')));
        assert.equal(ess.aka.xoringConstants.length, 80);
        assert.equal(ess.aka.xoringConstants[79], 8);
        assert.equal(ess.aka.numberOfKeccak, 1);
        assert.equal(ess.aka.sqnOptions, 2);
        assert.equal(ess.aka.sqnDelta, 0x10000000);
        assert.equal(ess.aka.sqnAgeLimit, 0x10000000);
        assert.deepStrictEqual(ess.aka.sqnInit, new Array(32).fill(0));
        assert.equal(ess.akaMapping, undefined);
      });
    });
  }

  it('the six profiles carry six distinct ICCIDs', () => {
    const iccids = PROFILES.map((n) => saip.extractProfileEssentials(saip.decodeProfilePackage(readFixture('ts48', n)).elements).iccidDigits);
    assert.equal(new Set(iccids).size, 6);
  });

  it('typed PEs expose the template files by name', () => {
    const { elements } = saip.decodeProfilePackage(readFixture('ts48', 'TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE.der'));
    const usim = elements.find((e) => e.type === 'usim');
    assert.ok(usim?.type === 'usim');
    assert.equal(usim.value.templateID, '2.23.143.1.2.4');
    assert.equal(usim.value.usimHeader.identification, 8);
    const fcp = usim.value.efImsi.find((f) => f.type === 'fileDescriptor');
    assert.ok(fcp?.type === 'fileDescriptor');
    assert.ok(fcp.value.fileID?.equals(hex('6f07')));
    const header = elements[0]!;
    assert.ok(header.type === 'header');
    assert.equal(header.value.eUICCMandatoryServices.usimTestAlgorithm, null);
    assert.equal(header.value.eUICCMandatoryServices.milenage, undefined);
    assert.ok(header.value.eUICCMandatoryGFSTEList.includes('2.23.143.1.2.1'));
    const pins = elements.find((e) => e.type === 'pinCodes');
    assert.ok(pins?.type === 'pinCodes' && pins.value.pinCodes.type === 'pinconfig');
  });
});

describe('profile package decoding edge cases', () => {
  const header = readFixture('ts48', 'TS48V1-A-UNIQUE.der');
  const headerPe = decodeTlvList(header)[0]!.raw;

  it('keeps and reports a PE of an unknown (later) alternative', () => {
    const future = hex('bf2a05a003810101');
    const pkg = saip.decodeProfilePackage(Buffer.concat([headerPe, future]));
    assert.deepStrictEqual(pkg.elements[1], { type: 'unknown', value: future });
    assert.deepStrictEqual(pkg.unknown.map((u) => u.tag), ['BF2A']);
    assert.ok(saip.encodeProfilePackage(pkg.elements).equals(Buffer.concat([headerPe, future])));
  });

  it('rejects an element that is no ProfileElement, and malformed PEs', () => {
    assert.throws(
      () => saip.decodeProfilePackage(Buffer.concat([headerPe, hex('0400')])),
      (e) => e instanceof Asn1Error && e.code === 'INVALID_CHOICE' && e.offset === headerPe.length,
    );
    // PE-End without its header.
    assert.throws(() => saip.decodeProfilePackage(hex('aa00')), (e) => e instanceof Asn1Error && e.code === 'MISSING_COMPONENT');
    assert.throws(() => saip.decodeProfilePackage(header.subarray(0, 100)), (e) => e instanceof Asn1Error && e.code === 'TRUNCATED');
  });

  it('refuses a profile whose header ICCID differs from EF_ICCID', () => {
    const { elements } = saip.decodeProfilePackage(header);
    const h = elements[0]!;
    assert.ok(h.type === 'header');
    const changed: saip.ProfileElement[] = [{ type: 'header', value: { ...h.value, iccid: hex('89000000000000000001') } }, ...elements.slice(1)];
    assert.throws(() => saip.extractProfileEssentials(changed), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
    assert.throws(() => saip.extractProfileEssentials(elements.slice(1)), (e) => e instanceof Asn1Error && e.code === 'MISSING_COMPONENT');
  });

  it('falls back on the header ICCID, and reports a mapped AKA configuration', () => {
    const { elements } = saip.decodeProfilePackage(header);
    const withoutMf = elements.filter((e) => e.type !== 'mf');
    const mapping = { mappingOptions: hex('01'), mappingSource: hex('a0000000871002') };
    const mapped = withoutMf.map((e): saip.ProfileElement =>
      e.type === 'akaParameter' ? { type: 'akaParameter', value: { ...e.value, algoConfiguration: { type: 'mappingParameter', value: mapping } } } : e,
    );
    const ess = saip.extractProfileEssentials(mapped);
    assert.ok(ess.iccid.equals(hex('989444999999990920f3')));
    assert.equal(ess.aka, undefined);
    assert.deepStrictEqual(ess.akaMapping, mapping);
    const reencoded = saip.decodeProfilePackage(saip.encodeProfilePackage(mapped));
    assert.deepStrictEqual(reencoded.elements, mapped);
  });

  it('applies the USIM AKA parameters that follow the USIM, with Milenage values', () => {
    const { elements } = saip.decodeProfilePackage(header);
    const idx = elements.findIndex((e) => e.type === 'akaParameter');
    const algo: saip.AlgoParameter = {
      algorithmID: saip.AlgorithmId.milenage,
      algorithmOptions: hex('00'),
      key: Buffer.alloc(16, 0x11),
      opc: Buffer.alloc(16, 0x22),
      rotationConstants: hex('0102030405'),
      numberOfKeccak: 3,
      authCounterMax: hex('00ffff'),
    };
    const aka: saip.ProfileElement = {
      type: 'akaParameter',
      value: { akaHeader: { identification: 11 }, algoConfiguration: { type: 'algoParameter', value: algo }, sqnOptions: hex('0a'), sqnDelta: hex('000000000020') },
    };
    const changed = elements.map((e, i) => (i === idx ? aka : e));
    const ess = saip.extractProfileEssentials(saip.decodeProfilePackage(saip.encodeProfilePackage(changed)).elements);
    assert.equal(ess.aka?.algorithm, 'milenage');
    assert.ok(ess.aka.key.equals(Buffer.alloc(16, 0x11)));
    assert.ok(ess.aka.rotationConstants.equals(hex('0102030405')));
    assert.equal(ess.aka.numberOfKeccak, 3);
    assert.ok(ess.aka.authCounterMax?.equals(hex('00ffff')));
    assert.equal(ess.aka.sqnOptions, 0x0a);
    assert.equal(ess.aka.sqnDelta, 0x20);
    assert.equal(ess.aka.sqnAgeLimit, 0x10000000);
    const bad = elements.map((e, i) => (i === idx ? { ...aka, value: { ...aka.value, algoConfiguration: { type: 'algoParameter', value: { ...algo, algorithmID: 9 } } } } : e)) as saip.ProfileElement[];
    assert.throws(() => saip.extractProfileEssentials(bad), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
  });
});

describe('file contents, ICCID and IMSI codings', () => {
  it('fileContents applies offsets and contents in order', () => {
    const file: saip.File = [
      { type: 'fileDescriptor', value: { fileID: hex('6f07') } },
      { type: 'fillFileOffset', value: 2 },
      { type: 'fillFileContent', value: hex('aabb') },
      { type: 'fillFileOffset', value: 1 },
      { type: 'fillFileContent', value: hex('cc') },
    ];
    assert.equal(saip.fileContents(file).toString('hex'), 'ffffaabbffcc');
    assert.equal(saip.fileContents(file, 0).toString('hex'), '0000aabb00cc');
    assert.equal(saip.fileContents([{ type: 'doNotCreate', value: null }]).length, 0);
    const far: saip.File = [...new Array<saip.FileElement>(3).fill({ type: 'fillFileOffset', value: 65535 }), { type: 'fillFileContent', value: hex('01') }];
    assert.throws(() => saip.fileContents(far), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
    assert.equal(saip.fileContents(far, 0, 4 * 65536).length, 3 * 65535 + 1);
  });

  it('IMSI: encode and decode are inverse, both parities', () => {
    assert.equal(saip.encodeImsi('001010123456063').toString('hex'), '080910101032540636');
    assert.equal(saip.encodeImsi('26201123456789').toString('hex'), '0821261021436587f9');
    assert.equal(saip.decodeImsi(hex('0821261021436587f9')), '26201123456789');
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{6,15}$/), (imsi) => assert.equal(saip.decodeImsi(saip.encodeImsi(imsi)), imsi)),
    );
  });

  it('IMSI: rejects a bad length byte, identity type, parity filler or digit', () => {
    const bad = (h: string): void => assert.throws(() => saip.decodeImsi(hex(h)), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
    bad('ffffffffffffffffff');
    bad('00');
    bad('0909101010325406');
    bad('080a10101032540636');
    bad('0821261021436587a9');
    bad('082126102143658709');
    bad('08091010103254063a');
    assert.throws(() => saip.encodeImsi('12345'), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
  });

  it('ICCID: EF coding and header coding agree', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{18,20}$/), (digits) => {
        const ef = saip.encodeIccid(digits);
        assert.equal(saip.iccidDigitsFromEf(ef), digits);
        assert.equal(saip.iccidDigitsFromHeader(swapNibbles(ef)), digits);
      }),
    );
    assert.throws(() => saip.iccidDigitsFromEf(hex('98')), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
    assert.throws(() => saip.iccidDigitsFromEf(hex('9894449999999909f2f3')), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
    assert.throws(() => saip.encodeIccid('8949'), (e) => e instanceof Asn1Error && e.code === 'INVALID_VALUE');
  });
});

describe('typed PEs: property round trips', () => {
  const bytes = (min: number, max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b));
  const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: (keyof T)[]): fc.Arbitrary<T> =>
    fc.record(model, { requiredKeys: required, noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
  const peHeader = rec<saip.PeHeader>({ mandated: fc.constant(null), identification: fc.integer({ min: 0, max: 32767 }) }, ['identification']);
  const fcp = rec<saip.Fcp>(
    {
      fileDescriptor: bytes(2, 4),
      fileID: bytes(2, 2),
      dfName: bytes(5, 16),
      lcsi: bytes(1, 1),
      securityAttributesReferenced: bytes(1, 3),
      efFileSize: bytes(1, 2),
      pinStatusTemplateDO: bytes(0, 4),
      shortEFID: bytes(0, 1),
      proprietaryEFInfo: rec<saip.ProprietaryInfo>(
        { specialFileInformation: bytes(1, 1), fillPattern: bytes(1, 8), repeatPattern: bytes(1, 8), maximumFileSize: bytes(1, 2), fileDetails: bytes(1, 1) },
        [],
      ),
      linkPath: bytes(0, 8),
    },
    [],
  );
  const file: fc.Arbitrary<saip.File> = fc.array(
    fc.oneof(
      fc.constant({ type: 'doNotCreate' as const, value: null }),
      fcp.map((value) => ({ type: 'fileDescriptor' as const, value })),
      fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: 'fillFileOffset' as const, value })),
      bytes(0, 20).map((value) => ({ type: 'fillFileContent' as const, value })),
    ),
    { maxLength: 4 },
  );
  const pe: fc.Arbitrary<saip.ProfileElement> = fc.oneof(
    rec<saip.ProfileHeader>(
      {
        majorVersion: fc.integer({ min: 0, max: 255 }),
        minorVersion: fc.integer({ min: 0, max: 255 }),
        profileType: fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
        iccid: bytes(10, 10),
        pol: bytes(0, 2),
        eUICCMandatoryServices: rec<saip.ServicesList>({ usim: fc.constant(null), eaka: fc.constant(null), getIdentity: fc.constant(null) }, []),
        eUICCMandatoryGFSTEList: fc.array(fc.constantFrom('2.23.143.1.2.1', '2.23.143.1.2.4'), { maxLength: 3 }),
        connectivityParameters: bytes(0, 8),
        eUICCMandatoryAIDs: fc.array(rec<saip.MandatoryAid>({ aid: bytes(5, 16), version: bytes(2, 2) }, ['aid', 'version']), { maxLength: 2 }),
        iotOptions: rec<saip.IotOptions>({ pix: bytes(7, 11) }, ['pix']),
      },
      ['majorVersion', 'minorVersion', 'iccid', 'eUICCMandatoryServices', 'eUICCMandatoryGFSTEList'],
    ).map((value) => ({ type: 'header' as const, value })),
    rec<saip.PeAkaParameter>(
      {
        akaHeader: peHeader,
        algoConfiguration: fc.oneof(
          rec<saip.MappingParameter>({ mappingOptions: bytes(1, 1), mappingSource: bytes(5, 16) }, ['mappingOptions', 'mappingSource']).map(
            (value) => ({ type: 'mappingParameter' as const, value }),
          ),
          rec<saip.AlgoParameter>(
            {
              algorithmID: fc.integer({ min: 1, max: 3 }),
              algorithmOptions: bytes(1, 1),
              key: bytes(16, 32),
              opc: bytes(16, 32),
              rotationConstants: bytes(5, 5),
              xoringConstants: bytes(80, 80),
              authCounterMax: bytes(3, 3),
              numberOfKeccak: fc.integer({ min: 0, max: 255 }),
            },
            ['algorithmID', 'algorithmOptions', 'key', 'opc'],
          ).map((value) => ({ type: 'algoParameter' as const, value })),
        ),
        sqnOptions: bytes(1, 1),
        sqnDelta: bytes(6, 6),
        sqnAgeLimit: bytes(6, 6),
        sqnInit: fc.array(bytes(6, 6), { minLength: 32, maxLength: 32 }),
      },
      ['akaHeader', 'algoConfiguration'],
    ).map((value) => ({ type: 'akaParameter' as const, value })),
    rec<saip.PePukCodes>(
      {
        pukHeader: peHeader,
        pukCodes: fc.array(
          rec<saip.PukConfiguration>({ keyReference: fc.integer({ min: 1, max: 136 }), pukValue: bytes(8, 8), maxNumOfAttempsRetryNumLeft: fc.integer({ min: 0, max: 255 }) }, [
            'keyReference',
            'pukValue',
          ]),
          { minLength: 1, maxLength: 3 },
        ),
      },
      ['pukHeader', 'pukCodes'],
    ).map((value) => ({ type: 'pukCodes' as const, value })),
    rec<saip.PeGenericFileManagement>(
      {
        gfmHeader: peHeader,
        fileManagementCMD: fc.array(
          fc.array(
            fc.oneof(
              bytes(0, 8).map((value) => ({ type: 'filePath' as const, value })),
              fcp.map((value) => ({ type: 'createFCP' as const, value })),
              fc.integer({ min: 0, max: 65535 }).map((value) => ({ type: 'fillFileOffset' as const, value })),
              bytes(0, 16).map((value) => ({ type: 'fillFileContent' as const, value })),
            ),
            { minLength: 1, maxLength: 4 },
          ),
          { minLength: 1, maxLength: 2 },
        ),
      },
      ['gfmHeader', 'fileManagementCMD'],
    ).map((value) => ({ type: 'genericFileManagement' as const, value })),
    fc
      .record({ h: peHeader, imsi: file, arr: file, ust: file, spn: file, est: file, acc: file, ecc: file, adf: file, keys: file }, { noNullPrototype: true })
      .map(({ h, imsi, arr, ust, spn, est, acc, ecc, adf, keys }) => ({
        type: 'usim' as const,
        value: { usimHeader: h, templateID: '2.23.143.1.2.4', adfUsim: adf, efImsi: imsi, efArr: arr, efKeys: keys, efUst: ust, efSpn: spn, efEst: est, efAcc: acc, efEcc: ecc },
      })),
    peHeader.map((h) => ({ type: 'end' as const, value: { endHeader: h } })),
  );

  it('decode(encode(pes)) deep-equals pes', () => {
    fc.assert(
      fc.property(fc.array(pe, { maxLength: 4 }), (pes) => {
        const der = saip.encodeProfilePackage(pes);
        const back = saip.decodeProfilePackage(der);
        assert.deepStrictEqual(back.elements, pes);
        assert.deepStrictEqual(back.unknown, []);
      }),
      { numRuns: 200 },
    );
  });
});
