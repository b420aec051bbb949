// SGP.32 v1.2 SGP32Definitions codecs: bytes from the module's tags, round trips, captured signed parts, EXTENSIBILITY IMPLIED, hostile input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import { capture, decode, decodeWithReport, encode, type Codec } from '../../src/asn1/schema.js';
import * as rsp from '../../src/asn1/definitions/rsp.js';
import * as s from '../../src/asn1/definitions/sgp32.js';
import { hex } from '../helpers/fixtures.js';
import { SGP32_ARBITRARIES } from './sgp32-arbitraries.js';

/** Hand assembly of a TLV from the module's tag (hex) and contents, independent of the library's encoder. */
function t(tag: string, ...parts: (string | Buffer)[]): string {
  const value = Buffer.concat(parts.map((p) => (typeof p === 'string' ? hex(p) : p)));
  const n = value.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return tag + Buffer.from(len).toString('hex') + value.toString('hex');
}
const utf8 = (x: string): Buffer => Buffer.from(x, 'utf8');

const EID = hex('89049032123451234512345678901235');
const ICCID = hex('98001032547698103214');
const SIG = Buffer.alloc(64, 0x5a);
const TID = hex('0102030405060708');
const CERT_CONTENT = t('04', 'cafe');
const CERT = t('30', CERT_CONTENT);

function roundTrip<T>(codec: Codec<T>, value: T, expectedHex: string): void {
  const der = encode(codec, value);
  assert.equal(der.toString('hex'), expectedHex);
  assert.deepStrictEqual(decode(codec, der), value);
}

function asn1Code(code: string): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof Asn1Error, `not an Asn1Error: ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };
}

const enablePackage: s.EuiccPackageSigned = {
  eimId: 'eim.example',
  eidValue: EID,
  counterValue: 7,
  eimTransactionId: TID,
  euiccPackage: { type: 'psmoList', value: [{ type: 'enable', value: { iccid: ICCID, rollbackFlag: null } }] },
};
const enablePackageSignedHex = t('30', t('80', utf8('eim.example')), t('5a', EID), t('81', '07'), t('82', TID), t('a0', t('a3', t('5a', ICCID), '0500')));

describe('SGP.32 codecs: bytes from the module tags', () => {
  it('EuiccPackageRequest is BF51 { 30 { 80 eimId, 5A eid, 81 counter, 82 tid, A0 { A3 enable { 5A iccid, 05 rollback } } }, 5F37 }', () => {
    const value: s.EuiccPackageRequest = { euiccPackageSigned: capture(s.EuiccPackageSigned, enablePackage), eimSignature: SIG };
    roundTrip(s.EuiccPackageRequest, value, t('bf51', enablePackageSignedHex, t('5f37', SIG)));
  });

  it('every PSMO has its tag: A4 disable, A5 delete, BF2D list, A6 RAT, A7 immediate enable, A8/A9 fallback, BF65 default address', () => {
    const psmos: s.Psmo[] = [
      { type: 'disable', value: { iccid: ICCID } },
      { type: 'delete', value: { iccid: ICCID } },
      { type: 'listProfileInfo', value: { tagList: hex('5a') } },
      { type: 'getRAT', value: {} },
      { type: 'configureImmediateEnable', value: { immediateEnableFlag: null, defaultSmdpAddress: 'dp' } },
      { type: 'setFallbackAttribute', value: { iccid: ICCID } },
      { type: 'unsetFallbackAttribute', value: {} },
      { type: 'setDefaultDpAddress', value: { defaultDpAddress: 'dp' } },
    ];
    const expected = [
      t('a4', t('5a', ICCID)),
      t('a5', t('5a', ICCID)),
      t('bf2d', t('5c', '5a')),
      t('a6'),
      t('a7', '8000', t('82', utf8('dp'))),
      t('a8', t('5a', ICCID)),
      t('a9'),
      t('bf65', t('80', utf8('dp'))),
    ];
    psmos.forEach((p, i) => roundTrip(s.Psmo, p, expected[i]!));
  });

  it('eCOs: A8 addEim (eimPublicKeyData A5 { A1 certificate contents }), A9 deleteEim, AA updateEim, AB listEim', () => {
    const add: s.Eco = {
      type: 'addEim',
      value: { eimId: 'e1', counterValue: 0, associationToken: 3, eimPublicKeyData: { type: 'eimCertificate', value: hex(CERT) }, eimSupportedProtocol: { bytes: hex('80'), unusedBits: 7 } },
    };
    roundTrip(s.Eco, add, t('a8', t('80', utf8('e1')), t('83', '00'), t('84', '03'), t('a5', t('a1', CERT_CONTENT)), t('87', '0780')));
    roundTrip(s.Eco, { type: 'deleteEim', value: { eimId: 'e1' } }, t('a9', t('80', utf8('e1'))));
    roundTrip(s.Eco, { type: 'updateEim', value: { eimId: 'e1', eimPublicKeyData: { type: 'eimPublicKey', value: hex(CERT) } } }, t('aa', t('80', utf8('e1')), t('a5', t('a0', CERT_CONTENT))));
    roundTrip(s.Eco, { type: 'listEim', value: {} }, t('ab'));
  });

  it('EuiccPackageResult: BF51 { A0 { 30 signed data { 80, 81, 83 seq, 30 { 83 enableResult, 02 processingTerminated } }, 5F37 } }', () => {
    const data: s.EuiccPackageResultDataSigned = {
      eimId: 'e1',
      counterValue: 7,
      seqNumber: 2,
      euiccResult: [
        { type: 'enableResult', value: s.EnableProfileResult.ok },
        { type: 'processingTerminated', value: s.ProcessingTerminated.interruption },
      ],
    };
    const value: s.EuiccPackageResult = {
      type: 'euiccPackageResultSigned',
      value: { euiccPackageResultDataSigned: capture(s.EuiccPackageResultDataSigned, data), euiccSignEPR: SIG },
    };
    roundTrip(s.EuiccPackageResult, value, t('bf51', t('a0', t('30', t('80', utf8('e1')), t('81', '07'), t('83', '02'), t('30', t('83', '00'), t('02', '03'))), t('5f37', SIG))));
  });

  it('EuiccPackageResult errors: A1 signed { 30 { 80, 81, 02 code }, 5F37 }, A2 unsigned { 80, 82, 84 }', () => {
    const err: s.EuiccPackageErrorDataSigned = { eimId: 'e1', counterValue: 7, euiccPackageErrorCode: s.EuiccPackageErrorCode.replayError };
    roundTrip(
      s.EuiccPackageResult,
      { type: 'euiccPackageErrorSigned', value: { euiccPackageErrorDataSigned: capture(s.EuiccPackageErrorDataSigned, err), euiccSignEPE: SIG } },
      t('bf51', t('a1', t('30', t('80', utf8('e1')), t('81', '07'), t('02', '04')), t('5f37', SIG))),
    );
    roundTrip(
      s.EuiccPackageResult,
      { type: 'euiccPackageErrorUnsigned', value: { eimId: 'e1', eimTransactionId: TID, associationToken: 9 } },
      t('bf51', t('a2', t('80', utf8('e1')), t('82', TID), t('84', '09'))),
    );
  });

  it('result elements: A8 addEim { 84 token }, AB listEim { A0 { 30 { 80 id, 82 type } } }, BF2D { A0 { E3 { 5A, 9F26 } } }', () => {
    roundTrip(s.EuiccResultData, { type: 'addEimResult', value: { type: 'associationToken', value: 5 } }, t('a8', t('84', '05')));
    roundTrip(s.EuiccResultData, { type: 'addEimResult', value: { type: 'addEimResultCode', value: 2 } }, t('a8', t('02', '02')));
    roundTrip(
      s.EuiccResultData,
      { type: 'listEimResult', value: { type: 'eimIdList', value: [{ eimId: 'e1', eimIdType: s.EimIdType.eimIdTypeFqdn }] } },
      t('ab', t('a0', t('30', t('80', utf8('e1')), t('82', '02')))),
    );
    roundTrip(
      s.EuiccResultData,
      { type: 'listProfileInfoResult', value: { type: 'profileInfoListOk', value: [{ iccid: ICCID, fallbackAttribute: true }] } },
      t('bf2d', t('a0', t('e3', t('5a', ICCID), t('9f26', 'ff')))),
    );
    roundTrip(s.EuiccResultData, { type: 'setDefaultDpAddressResult', value: { setDefaultDpAddressResult: 0 } }, t('bf65', t('80', '00')));
  });

  it('ES10b additions: AddInitialEim BF57, GetCerts BF56 (A5/A6 certificates), ProfileRollback BF58 (02 cmdResult), EuiccMemoryReset BF64', () => {
    roundTrip(
      s.AddInitialEimRequest,
      { eimConfigurationDataList: [{ eimId: 'e1', counterValue: 1 }] },
      t('bf57', t('a0', t('30', t('80', utf8('e1')), t('83', '01')))),
    );
    roundTrip(
      s.AddInitialEimResponse,
      { type: 'addInitialEimOk', value: [{ type: 'associationToken', value: 7 }, { type: 'addOk', value: null }] },
      t('bf57', t('a0', t('84', '07'), '0500')),
    );
    roundTrip(s.AddInitialEimResponse, { type: 'addInitialEimError', value: s.AddInitialEimError.associatedEimAlreadyExists }, t('bf57', t('81', '02')));
    roundTrip(s.GetEimConfigurationDataRequest, { searchCriteria: { type: 'eimId', value: 'e1' } }, t('bf55', t('a0', t('80', utf8('e1')))));
    roundTrip(s.GetCertsRequest, { euiccCiPKId: hex('0102') }, t('bf56', t('80', '0102')));
    roundTrip(
      s.GetCertsResponse,
      { type: 'certs', value: { eumCertificate: hex(CERT), euiccCertificate: hex(t('30', t('04', 'beef'))) } },
      t('bf56', t('a0', t('a5', CERT_CONTENT), t('a6', t('04', 'beef')))),
    );
    roundTrip(s.ProfileRollbackRequest, { refreshFlag: true }, t('bf58', t('80', 'ff')));
    roundTrip(s.ProfileRollbackResponse, { cmdResult: s.ProfileRollbackResult.ok }, t('bf58', t('02', '00')));
    roundTrip(s.ConfigureImmediateProfileEnablingRequest, { immediateEnableFlag: null }, t('bf59', '8000'));
    roundTrip(s.ExecuteFallbackMechanismRequest, { refreshFlag: false }, t('bf5d', t('80', '00')));
    roundTrip(s.ReturnFromFallbackResponse, { returnFromFallbackResult: s.ReturnFromFallbackResult.fallbackNotAvailable }, t('bf5e', t('80', '06')));
    // resetEimConfigData is bit 5: one byte 04 with 2 unused bits.
    roundTrip(s.EuiccMemoryResetRequest, { resetOptions: rsp.namedBitString([s.ResetOption.resetEimConfigData]) }, t('bf64', t('82', '0204')));
    roundTrip(s.EuiccMemoryResetResponse, { resetResult: 0, resetEimResult: 0 }, t('bf64', t('80', '00'), t('81', '00')));
    roundTrip(s.IsdrProprietaryApplicationTemplateIoT, { euiccConfiguration: rsp.namedBitString([s.EuiccConfiguration.ipaeSupported]) }, t('e1', t('80', '0780')));
    roundTrip(s.IpaeActivationRequest, { ipaeOption: rsp.namedBitString([s.IpaeOption.activateIpae]) }, t('bf42', t('80', '0780')));
  });

  it('ESipa: GetEimPackage BF4F, ProvideEimPackageResult BF50 / BF53 acknowledgements, ProfileDownloadTrigger BF54, CancelSession BF41 { 80, A1 }', () => {
    roundTrip(
      s.EsipaMessageFromIpaToEim,
      { type: 'getEimPackageRequest', value: { eidValue: EID, notifyStateChange: null, stateChangeCause: s.StateChangeCause.fallback } },
      t('bf4f', t('5a', EID), '8000', t('81', '01')),
    );
    roundTrip(
      s.EsipaMessageFromEimToIpa,
      { type: 'getEimPackageResponse', value: { type: 'eimPackageError', value: s.EimPackageError.noEimPackageAvailable } },
      t('bf4f', t('02', '01')),
    );
    roundTrip(
      s.EsipaMessageFromEimToIpa,
      { type: 'provideEimPackageResultResponse', value: { type: 'eimAcknowledgements', value: [5, 6] } },
      t('bf50', t('bf53', t('80', '05'), t('80', '06'))),
    );
    roundTrip(
      s.ProvideEimPackageResult,
      { eidValue: EID, eimPackageResult: { type: 'euiccPackageResult', value: { type: 'euiccPackageErrorUnsigned', value: { eimId: 'e1' } } } },
      t('bf50', t('5a', EID), t('bf51', t('a2', t('80', utf8('e1'))))),
    );
    roundTrip(
      s.ProfileDownloadTriggerRequest,
      { profileDownloadData: { type: 'activationCode', value: '1$dp$MID' }, eimTransactionId: TID },
      t('bf54', t('a0', t('80', utf8('1$dp$MID'))), t('82', TID)),
    );
    roundTrip(s.ProfileDownloadTriggerRequest, { profileDownloadData: { type: 'contactDefaultSmdp', value: null } }, t('bf54', t('a0', '8100')));
    roundTrip(
      s.CancelSessionRequestEsipa,
      { transactionId: TID, cancelSessionResponse: { type: 'cancelSessionResponseError', value: 5 } },
      t('bf41', t('80', TID), t('a1', t('81', '05'))),
    );
    roundTrip(s.IpaEuiccDataRequest, { tagList: hex('80bf20'), eimTransactionId: TID }, t('bf52', t('5c', '80bf20'), t('83', TID)));
    roundTrip(
      s.IpaEuiccDataResponse,
      { type: 'ipaEuiccData', value: { defaultSmdpAddress: 'dp', eumCertificate: hex(CERT) } },
      t('bf52', t('a0', t('81', utf8('dp')), t('a5', CERT_CONTENT))),
    );
    roundTrip(s.TransferEimPackageResponse, { type: 'eimPackageReceived', value: null }, t('bf4e', '0500'));
  });
});

/** Outer tags as the module's comments give them ('Tag BF51' ...), for every message with one fixed tag. */
const MODULE_TAGS: Readonly<Record<string, string>> = {
  EuiccPackageRequest: 'bf51',
  EuiccPackageResult: 'bf51',
  ProfileInfoListResponse: 'bf2d',
  AddInitialEimRequest: 'bf57',
  AddInitialEimResponse: 'bf57',
  GetEimConfigurationDataRequest: 'bf55',
  GetEimConfigurationDataResponse: 'bf55',
  GetCertsRequest: 'bf56',
  GetCertsResponse: 'bf56',
  ImmediateEnableRequest: 'bf5a',
  ImmediateEnableResponse: 'bf5a',
  ProfileRollbackRequest: 'bf58',
  ProfileRollbackResponse: 'bf58',
  ConfigureImmediateProfileEnablingRequest: 'bf59',
  ConfigureImmediateProfileEnablingResponse: 'bf59',
  EnableEmergencyProfileRequest: 'bf5b',
  EnableEmergencyProfileResponse: 'bf5b',
  DisableEmergencyProfileRequest: 'bf5c',
  DisableEmergencyProfileResponse: 'bf5c',
  ExecuteFallbackMechanismRequest: 'bf5d',
  ExecuteFallbackMechanismResponse: 'bf5d',
  ReturnFromFallbackRequest: 'bf5e',
  ReturnFromFallbackResponse: 'bf5e',
  GetConnectivityParametersRequest: 'bf5f',
  GetConnectivityParametersResponse: 'bf5f',
  EuiccMemoryResetRequest: 'bf64',
  EuiccMemoryResetResponse: 'bf64',
  IsdrProprietaryApplicationTemplateIoT: 'e1',
  IpaeActivationRequest: 'bf42',
  IpaeActivationResponse: 'bf42',
  SetDefaultDpAddressRequest: 'bf65',
  SetDefaultDpAddressResponse: 'bf65',
  RetrieveNotificationsListRequest: 'bf2b',
  RetrieveNotificationsListResponse: 'bf2b',
  IpaEuiccDataRequest: 'bf52',
  IpaEuiccDataResponse: 'bf52',
  ProfileDownloadTriggerRequest: 'bf54',
  ProfileDownloadTriggerResult: 'bf54',
  EimAcknowledgements: 'bf53',
  GetEimPackageRequest: 'bf4f',
  GetEimPackageResponse: 'bf4f',
  ProvideEimPackageResult: 'bf50',
  ProvideEimPackageResultResponse: 'bf50',
  TransferEimPackageRequest: 'bf4e',
  TransferEimPackageResponse: 'bf4e',
  InitiateAuthenticationRequestEsipa: 'bf39',
  InitiateAuthenticationResponseEsipa: 'bf39',
  AuthenticateServerResponse: 'bf38',
  AuthenticateClientRequestEsipa: 'bf3b',
  AuthenticateClientRequest: 'bf3b',
  StoreMetadataRequest: 'bf25',
  AuthenticateClientResponseEsipa: 'bf3b',
  PrepareDownloadResponse: 'bf21',
  GetBoundProfilePackageRequestEsipa: 'bf3a',
  GetBoundProfilePackageResponseEsipa: 'bf3a',
  CancelSessionResponse: 'bf41',
  CancelSessionRequestEsipa: 'bf41',
  CancelSessionResponseEsipa: 'bf41',
  HandleNotificationEsipa: 'bf3d',
};

/** The ESipa envelopes: each alternative's tag. */
const ESIPA_TAGS = {
  EsipaMessageFromIpaToEim: {
    initiateAuthenticationRequestEsipa: 'bf39',
    authenticateClientRequestEsipa: 'bf3b',
    getBoundProfilePackageRequestEsipa: 'bf3a',
    cancelSessionRequestEsipa: 'bf41',
    handleNotificationEsipa: 'bf3d',
    transferEimPackageResponse: 'bf4e',
    getEimPackageRequest: 'bf4f',
    provideEimPackageResult: 'bf50',
  },
  EsipaMessageFromEimToIpa: {
    initiateAuthenticationResponseEsipa: 'bf39',
    authenticateClientResponseEsipa: 'bf3b',
    getBoundProfilePackageResponseEsipa: 'bf3a',
    cancelSessionResponseEsipa: 'bf41',
    transferEimPackageRequest: 'bf4e',
    getEimPackageResponse: 'bf4f',
    provideEimPackageResultResponse: 'bf50',
  },
} as const;

describe('SGP.32 codecs: outer tags from the module', () => {
  for (const [name, tag] of Object.entries(MODULE_TAGS)) {
    it(`${name} starts with ${tag.toUpperCase()}`, () => {
      const codec = s.SGP32_MESSAGES[name]!;
      for (const value of fc.sample(SGP32_ARBITRARIES[name]!, { numRuns: 5, seed: 1 })) {
        assert.equal(encode(codec, value).subarray(0, tag.length / 2).toString('hex'), tag);
      }
    });
  }

  for (const [envelope, tags] of Object.entries(ESIPA_TAGS)) {
    it(`${envelope}: every alternative has its module tag, and the tags are distinct`, () => {
      const codec = s.SGP32_MESSAGES[envelope]! as Codec<{ type: string; value: unknown }>;
      const seen = new Map<string, string>();
      fc.assert(
        fc.property(SGP32_ARBITRARIES[envelope]! as fc.Arbitrary<{ type: string; value: unknown }>, (msg) => {
          const expected = (tags as Record<string, string>)[msg.type]!;
          assert.equal(encode(codec, msg).subarray(0, 2).toString('hex'), expected, msg.type);
          seen.set(msg.type, expected);
        }),
        { numRuns: 80, seed: 3 },
      );
      assert.deepStrictEqual([...seen.keys()].sort(), Object.keys(tags).sort());
      assert.equal(new Set(Object.values(tags)).size, Object.keys(tags).length);
    });
  }
});

describe('SGP.32 codecs: property round trips', () => {
  it('has an arbitrary for every codec', () => {
    assert.deepStrictEqual(Object.keys(SGP32_ARBITRARIES).sort(), Object.keys(s.SGP32_MESSAGES).sort());
  });

  for (const [name, codec] of Object.entries(s.SGP32_MESSAGES)) {
    it(`${name}: decode(encode(x)) deep-equals x and encode(decode(bytes)) is byte-identical`, () => {
      fc.assert(
        fc.property(SGP32_ARBITRARIES[name]!, (value) => {
          const der = encode(codec, value);
          const report = decodeWithReport(codec, der);
          assert.deepStrictEqual(report.value, value);
          assert.equal(report.unknown.length, 0);
          assert.ok(encode(codec, report.value).equals(der));
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe('SGP.32 codecs: captured signed parts and EXTENSIBILITY IMPLIED', () => {
  // EuiccPackageSigned with a trailing component of a later version ([20] 94 01 01) after euiccPackage.
  const signedWithExtra = t('30', t('80', utf8('eim.example')), t('5a', EID), t('81', '07'), t('82', TID), t('a0', t('a3', t('5a', ICCID), '0500')), t('94', '01'));
  const request = hex(t('bf51', signedWithExtra, t('5f37', SIG)));

  it('EuiccPackageSigned is kept as received (unknown component included) and re-emitted byte for byte', () => {
    const report = decodeWithReport(s.EuiccPackageRequest, request);
    assert.deepStrictEqual(report.value.euiccPackageSigned.value, enablePackage);
    assert.equal(report.value.euiccPackageSigned.der.toString('hex'), signedWithExtra);
    assert.deepStrictEqual(report.unknown.map((u) => [u.path, u.tag]), [['euiccPackageSigned', '94']]);
    assert.ok(encode(s.EuiccPackageRequest, report.value).equals(request));
  });

  it('signed results and compact notifications relay their signed part byte for byte', () => {
    const data = t('30', t('80', utf8('e1')), t('81', '07'), t('83', '02'), t('30', t('83', '00')), t('9f7f', '00'));
    const result = hex(t('bf51', t('a0', data, t('5f37', SIG))));
    const decoded = decode(s.EuiccPackageResult, result);
    assert.equal(decoded.type, 'euiccPackageResultSigned');
    if (decoded.type !== 'euiccPackageResultSigned') return;
    assert.equal(decoded.value.euiccPackageResultDataSigned.der.toString('hex'), data);
    assert.ok(encode(s.EuiccPackageResult, decoded).equals(result));

    const compact = hex(t('a0', t('a0', t('80', TID), t('02', '01'), t('a2', t('a0', t('4f', '0102')))), t('5f37', SIG)));
    const n = decode(s.PendingNotification, compact);
    assert.equal(n.type, 'compactProfileInstallationResult');
    if (n.type !== 'compactProfileInstallationResult') return;
    assert.equal(n.value.compactProfileInstallationResultData.der.toString('hex'), t('a0', t('80', TID), t('02', '01'), t('a2', t('a0', t('4f', '0102')))));
    assert.ok(encode(s.PendingNotification, n).equals(compact));
  });

  it('unknown trailing components of extensible SEQUENCEs are skipped and reported with their path', () => {
    const cfg = hex(t('30', t('80', utf8('e1')), t('83', '01'), t('9f70', '00')));
    const report = decodeWithReport(s.EimConfigurationData, cfg);
    assert.deepStrictEqual(report.value, { eimId: 'e1', counterValue: 1 });
    assert.deepStrictEqual(report.unknown.map((u) => u.tag), ['9F70']);
    const get = decodeWithReport(s.EsipaMessageFromIpaToEim, hex(t('bf4f', t('5a', EID), t('8a', '00'))));
    assert.deepStrictEqual(get.value, { type: 'getEimPackageRequest', value: { eidValue: EID } });
    assert.deepStrictEqual(get.unknown.map((u) => [u.path, u.tag]), [['getEimPackageRequest', '8A']]);
  });

  it('an unknown component between known ones is UNKNOWN_COMPONENT', () => {
    const bad = hex(t('bf4f', t('5a', EID), t('8a', '00'), t('81', '01')));
    assert.throws(() => decode(s.GetEimPackageRequest, bad), asn1Code('UNKNOWN_COMPONENT'));
  });
});

describe('SGP.32 codecs: hostile input', () => {
  const psmo = t('a4', t('5a', ICCID));
  const pkg = (n: number): Buffer =>
    hex(t('bf51', t('30', t('80', utf8('e')), t('5a', EID), t('81', '01'), t('a0', ...Array<string>(n).fill(psmo))), t('5f37', SIG)));

  it(`a psmoList of more than ${s.MAX_EUICC_PACKAGE_OPERATIONS} operations is SIZE_EXCEEDED, at the list's path`, () => {
    assert.equal(decode(s.EuiccPackageRequest, pkg(s.MAX_EUICC_PACKAGE_OPERATIONS)).euiccPackageSigned.value.euiccPackage.value.length, s.MAX_EUICC_PACKAGE_OPERATIONS);
    assert.throws(
      () => decode(s.EuiccPackageRequest, pkg(s.MAX_EUICC_PACKAGE_OPERATIONS + 1)),
      (e) => asn1Code('SIZE_EXCEEDED')(e) && (e as Asn1Error).path === 'euiccPackageSigned.euiccPackage.psmoList',
    );
  });

  it(`EimAcknowledgements of more than ${s.MAX_EIM_ACKNOWLEDGEMENTS} numbers, and an oversize signature, are SIZE_EXCEEDED`, () => {
    const acks = hex(t('bf53', ...Array<string>(s.MAX_EIM_ACKNOWLEDGEMENTS + 1).fill(t('80', '01'))));
    assert.throws(() => decode(s.EimAcknowledgements, acks), asn1Code('SIZE_EXCEEDED'));
    const longSig = hex(t('bf51', enablePackageSignedHex, t('5f37', Buffer.alloc(rsp.MAX_SIGNATURE + 1))));
    assert.throws(() => decode(s.EuiccPackageRequest, longSig), asn1Code('SIZE_EXCEEDED'));
  });

  it('wrong tags: a BF52 where BF51 is expected, an unknown PSMO, an unknown ESipa message', () => {
    const good = t('bf51', enablePackageSignedHex, t('5f37', SIG));
    assert.throws(() => decode(s.EuiccPackageRequest, hex('bf52' + good.slice(4))), asn1Code('UNEXPECTED_TAG'));
    const unknownPsmo = hex(t('bf51', t('30', t('80', utf8('e')), t('5a', EID), t('81', '01'), t('a0', t('af'))), t('5f37', SIG)));
    assert.throws(
      () => decode(s.EuiccPackageRequest, unknownPsmo),
      (e) => asn1Code('UNEXPECTED_TAG')(e) && (e as Asn1Error).path === 'euiccPackageSigned.euiccPackage.psmoList',
    );
    assert.throws(() => decode(s.EsipaMessageFromIpaToEim, hex(t('bf51', t('a2', t('80', utf8('e1')))))), asn1Code('UNEXPECTED_TAG'));
  });

  it('an empty eimId (SIZE(1..128)) is INVALID_VALUE; a missing eimSignature is MISSING_COMPONENT', () => {
    assert.throws(() => decode(s.EuiccPackageResult, hex(t('bf51', t('a2', t('80', ''))))), asn1Code('INVALID_VALUE'));
    assert.throws(() => decode(s.EuiccPackageRequest, hex(t('bf51', enablePackageSignedHex))), asn1Code('MISSING_COMPONENT'));
  });

  it('every truncation of a valid message is an Asn1Error with a code', () => {
    const full = hex(t('bf51', enablePackageSignedHex, t('5f37', SIG)));
    for (let n = 0; n < full.length; n++) {
      assert.throws(() => decode(s.EuiccPackageRequest, full.subarray(0, n)), (e) => e instanceof Asn1Error && typeof e.code === 'string');
    }
  });

  it('fuzz: mutated ESipa messages decode or fail with an Asn1Error, never another error', () => {
    const seeds = fc.sample(SGP32_ARBITRARIES.EsipaMessageFromIpaToEim!, { numRuns: 30, seed: 32 }).map((v) => encode(s.EsipaMessageFromIpaToEim, v));
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (i, pos, byte) => {
        const input = Buffer.from(seeds[i]!);
        input[pos % input.length] = byte;
        try {
          const v = decode(s.EsipaMessageFromIpaToEim, input);
          // What decodes re-encodes (captured parts relay their bytes).
          encode(s.EsipaMessageFromIpaToEim, v);
        } catch (e) {
          assert.ok(e instanceof Asn1Error, `unexpected ${String(e)}`);
        }
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
