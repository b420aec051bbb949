// SGP.22 RSPDefinitions codecs: decode(encode(x)) = x for every message, and bytes checked against the spec's tags.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Asn1Error } from '../../src/asn1/errors.js';
import { capture, decode, decodeWithReport, encode, type Codec } from '../../src/asn1/schema.js';
import * as rsp from '../../src/asn1/definitions/rsp.js';
import { hex } from '../helpers/fixtures.js';
import { RSP_ARBITRARIES } from './rsp-arbitraries.js';

/** Hand assembly of a TLV from the spec's tag (hex) and contents, independent of the library's encoder. */
function t(tag: string, ...parts: (string | Buffer)[]): string {
  const value = Buffer.concat(parts.map((p) => (typeof p === 'string' ? hex(p) : p)));
  const n = value.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return tag + Buffer.from(len).toString('hex') + value.toString('hex');
}

const ICCID = hex('98001032547698103214');
const SKI_A = hex('f54172bdf98a95d65cbeb88a38a1c11d800a85c3');
const SKI_B = hex('c0bc70ba36929d43b467ff57570530e57ab8fcd8');
const CHALLENGE = hex('000102030405060708090a0b0c0d0e0f');
const CERT = t('30', t('04', 'cafe'));
const SIG = Buffer.alloc(64, 0x5a);

function roundTrip<T>(codec: Codec<T>, value: T, expectedHex: string): void {
  const der = encode(codec, value);
  assert.equal(der.toString('hex'), expectedHex);
  assert.deepStrictEqual(decode(codec, der), value);
}

describe('RSP codecs: property round trips', () => {
  it('has an arbitrary for every codec', () => {
    assert.deepStrictEqual(Object.keys(RSP_ARBITRARIES).sort(), Object.keys(rsp.RSP_MESSAGES).sort());
  });

  for (const [name, codec] of Object.entries(rsp.RSP_MESSAGES)) {
    it(`${name}: decode(encode(x)) deep-equals x, with no unknown components`, () => {
      fc.assert(
        fc.property(RSP_ARBITRARIES[name]!, (value) => {
          const der = encode(codec, value);
          const report = decodeWithReport(codec, der);
          assert.deepStrictEqual(report.value, value);
          assert.equal(report.unknown.length, 0);
          assert.ok(encode(codec, report.value).equals(der));
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe('RSP codecs: bytes from the spec tags', () => {
  it('GetEuiccDataRequest is BF3E { 5C 5A }', () => {
    roundTrip(rsp.GetEuiccDataRequest, { tagList: hex('5a') }, 'bf3e035c015a');
  });

  it('GetEuiccDataResponse is BF3E { 5A eid }', () => {
    const eid = hex('89049032123451234512345678901235');
    roundTrip(rsp.GetEuiccDataResponse, { eidValue: eid }, t('bf3e', t('5a', eid)));
  });

  it('GetEuiccChallengeRequest/Response are BF2E {} and BF2E { 80 challenge }', () => {
    roundTrip(rsp.GetEuiccChallengeRequest, {}, 'bf2e00');
    roundTrip(rsp.GetEuiccChallengeResponse, { euiccChallenge: CHALLENGE }, t('bf2e', t('80', CHALLENGE)));
  });

  it('EUICCInfo1 is BF20 { 82 svn, A9 { 04 ski }, AA { 04 ski } }', () => {
    roundTrip(
      rsp.EUICCInfo1,
      { svn: hex('020500'), euiccCiPKIdListForVerification: [SKI_A, SKI_B], euiccCiPKIdListForSigning: [SKI_A] },
      t('bf20', t('82', '020500'), t('a9', t('04', SKI_A), t('04', SKI_B)), t('aa', t('04', SKI_A))),
    );
  });

  it('EUICCInfo2 uses context tags 81..AA, untagged ppVersion (04) and sasAcreditationNumber (0C), 99 and AC', () => {
    const value: rsp.EUICCInfo2 = {
      profileVersion: hex('020300'),
      svn: hex('020500'),
      euiccFirmwareVer: hex('010203'),
      extCardResource: hex('8101008204000100008302fe00'),
      uiccCapability: rsp.namedBitString([1, 2, 3, 4, 8]),
      globalplatformVersion: hex('020300'),
      rspCapability: rsp.namedBitString([rsp.RspCapability.additionalProfile, rsp.RspCapability.testProfileSupport]),
      euiccCiPKIdListForVerification: [SKI_A],
      euiccCiPKIdListForSigning: [SKI_A],
      euiccCategory: 2,
      forbiddenProfilePolicyRules: rsp.namedBitString([rsp.PprId.ppr1]),
      ppVersion: hex('010000'),
      sasAcreditationNumber: 'GI-BA-UP-0419',
      certificationDataObject: { platformLabel: 'PL', discoveryBaseURL: 'https://d' },
    };
    roundTrip(
      rsp.EUICCInfo2,
      value,
      t(
        'bf22',
        t('81', '020300'),
        t('82', '020500'),
        t('83', '010203'),
        t('84', '8101008204000100008302fe00'),
        t('85', '077880'),
        t('87', '020300'),
        t('88', '0490'),
        t('a9', t('04', SKI_A)),
        t('aa', t('04', SKI_A)),
        t('8b', '02'),
        t('99', '0640'),
        t('04', '010000'),
        t('0c', Buffer.from('GI-BA-UP-0419')),
        t('ac', t('80', Buffer.from('PL')), t('81', Buffer.from('https://d'))),
      ),
    );
  });

  it('AuthenticateServerRequest is BF38 { 30 serverSigned1, 5F37, 04, cert, A0 { 80 matchingId, A1 deviceInfo } }', () => {
    const signed: rsp.ServerSigned1 = {
      transactionId: hex('01020304'),
      euiccChallenge: CHALLENGE,
      serverAddress: 'smdp.example',
      serverChallenge: CHALLENGE,
    };
    const signedHex = t('30', t('80', '01020304'), t('81', CHALLENGE), t('83', Buffer.from('smdp.example')), t('84', CHALLENGE));
    const value: rsp.AuthenticateServerRequest = {
      serverSigned1: capture(rsp.ServerSigned1, signed),
      serverSignature1: SIG,
      euiccCiPKIdToBeUsed: SKI_A,
      serverCertificate: hex(CERT),
      ctxParams1: {
        type: 'ctxParamsForCommonAuthentication',
        value: {
          matchingId: 'ABC',
          deviceInfo: { tac: hex('35290611'), deviceCapabilities: { eutranEpcSupportedRelease: hex('0f0000') } },
        },
      },
    };
    roundTrip(
      rsp.AuthenticateServerRequest,
      value,
      t(
        'bf38',
        signedHex,
        t('5f37', SIG),
        t('04', SKI_A),
        CERT,
        t('a0', t('80', Buffer.from('ABC')), t('a1', t('80', '35290611'), t('a1', t('85', '0f0000')))),
      ),
    );
    assert.equal(value.serverSigned1.der.toString('hex'), signedHex);
  });

  it('AuthenticateServerResponse error is BF38 { A1 { 80 txid, 02 code } }', () => {
    roundTrip(
      rsp.AuthenticateServerResponse,
      { type: 'authenticateResponseError', value: { transactionId: hex('aa'), authenticateErrorCode: rsp.AuthenticateErrorCode.invalidOid } },
      'bf3808a1068001aa020105',
    );
  });

  it('PrepareDownloadRequest is BF21 { 30 { 80, 01, 5F49 }, 5F37, 04 hashCc, cert }', () => {
    const otpk = Buffer.alloc(65, 4);
    const hashCc = Buffer.alloc(32, 0xcc);
    const value: rsp.PrepareDownloadRequest = {
      smdpSigned2: capture(rsp.SmdpSigned2, { transactionId: hex('01'), ccRequiredFlag: true, bppEuiccOtpk: otpk }),
      smdpSignature2: SIG,
      hashCc,
      smdpCertificate: hex(CERT),
    };
    roundTrip(
      rsp.PrepareDownloadRequest,
      value,
      t('bf21', t('30', t('80', '01'), t('01', 'ff'), t('5f49', otpk)), t('5f37', SIG), t('04', hashCc), CERT),
    );
  });

  it('PrepareDownloadResponse ok is BF21 { A0 { 30 { 80, 5F49 }, 5F37 } }', () => {
    const otpk = Buffer.alloc(65, 4);
    roundTrip(
      rsp.PrepareDownloadResponse,
      {
        type: 'downloadResponseOk',
        value: { euiccSigned2: capture(rsp.EUICCSigned2, { transactionId: hex('0102'), euiccOtpk: otpk }), euiccSignature2: SIG },
      },
      t('bf21', t('a0', t('30', t('80', '0102'), t('5f49', otpk)), t('5f37', SIG))),
    );
  });

  it('StoreMetadataRequest is BF25 { 5A, 91, 92, 95, B6 { 30 { 80, 81 } }, B7 { 80 }, 99 }', () => {
    const value: rsp.StoreMetadataRequest = {
      iccid: ICCID,
      serviceProviderName: 'SP',
      profileName: 'Test',
      profileClass: rsp.ProfileClass.test,
      notificationConfigurationInfo: [
        { profileManagementOperation: rsp.namedBitString([rsp.NotificationEvent.notificationInstall]), notificationAddress: 'n.example' },
      ],
      profileOwner: { mccMnc: hex('00f110') },
      profilePolicyRules: rsp.namedBitString([rsp.PprId.ppr2]),
    };
    roundTrip(
      rsp.StoreMetadataRequest,
      value,
      t(
        'bf25',
        t('5a', ICCID),
        t('91', Buffer.from('SP')),
        t('92', Buffer.from('Test')),
        t('95', '00'),
        t('b6', t('30', t('80', '0780'), t('81', Buffer.from('n.example')))),
        t('b7', t('80', '00f110')),
        t('99', '0520'),
      ),
    );
  });

  it('ProfileInfoListRequest/Response: BF2D { A0 { 5A } , 5C } and BF2D { A0 { E3 { 5A, 9F70, 95 } } }', () => {
    roundTrip(
      rsp.ProfileInfoListRequest,
      { searchCriteria: { type: 'iccid', value: ICCID }, tagList: hex('5a9f70') },
      t('bf2d', t('a0', t('5a', ICCID)), t('5c', '5a9f70')),
    );
    roundTrip(
      rsp.ProfileInfoListResponse,
      { type: 'profileInfoListOk', value: [{ iccid: ICCID, profileState: rsp.ProfileState.enabled, profileClass: 2 }] },
      t('bf2d', t('a0', t('e3', t('5a', ICCID), t('9f70', '01'), t('95', '02')))),
    );
    roundTrip(rsp.ProfileInfoListResponse, { type: 'profileInfoListError', value: 127 }, 'bf2d0381017f');
  });

  it('EnableProfile/DisableProfile/DeleteProfile requests wrap the identifier as the spec tags it', () => {
    const id: rsp.ProfileIdentifier = { type: 'iccid', value: ICCID };
    roundTrip(rsp.EnableProfileRequest, { profileIdentifier: id, refreshFlag: true }, t('bf31', t('a0', t('5a', ICCID)), '8101ff'));
    roundTrip(
      rsp.DisableProfileRequest,
      { profileIdentifier: { type: 'isdpAid', value: hex('a0000005591010ffffffff8900001000') }, refreshFlag: false },
      t('bf32', t('a0', t('4f', 'a0000005591010ffffffff8900001000')), '810100'),
    );
    roundTrip(rsp.DeleteProfileRequest, id, t('bf33', t('5a', ICCID)));
    roundTrip(rsp.EnableProfileResponse, { enableResult: 0 }, 'bf3103800100');
    roundTrip(rsp.DisableProfileResponse, { disableResult: 2 }, 'bf3203800102');
    roundTrip(rsp.DeleteProfileResponse, { deleteResult: 1 }, 'bf3303800101');
  });

  it('notification list requests: BF28 { 81 }, BF2B { A0 { 80 } }, BF30 { 80 }', () => {
    roundTrip(rsp.ListNotificationRequest, { profileManagementOperation: rsp.namedBitString([0]) }, 'bf28048102' + '0780');
    roundTrip(rsp.RetrieveNotificationsListRequest, { searchCriteria: { type: 'seqNumber', value: 3 } }, 'bf2b05a003800103');
    roundTrip(rsp.RetrieveNotificationsListRequest, {}, 'bf2b00');
    roundTrip(rsp.NotificationSentRequest, { seqNumber: 5 }, 'bf3003800105');
    roundTrip(rsp.NotificationSentResponse, { deleteNotificationStatus: 0 }, 'bf3003800100');
  });

  it('EuiccMemoryReset, SetNickname, configured addresses, default DP address', () => {
    roundTrip(
      rsp.EuiccMemoryResetRequest,
      { resetOptions: rsp.namedBitString([rsp.ResetOption.deleteOperationalProfiles, rsp.ResetOption.deleteFieldLoadedTestProfiles]) },
      'bf3404820206c0',
    );
    roundTrip(rsp.EuiccMemoryResetResponse, { resetResult: 1 }, 'bf3403800101');
    roundTrip(rsp.SetNicknameRequest, { iccid: ICCID, profileNickname: 'Ab' }, t('bf29', t('5a', ICCID), t('90', Buffer.from('Ab'))));
    roundTrip(rsp.SetNicknameResponse, { setNicknameResult: 0 }, 'bf2903800100');
    roundTrip(
      rsp.EuiccConfiguredAddressesResponse,
      { defaultDpAddress: 'dp', rootDsAddress: 'ds' },
      t('bf3c', t('80', Buffer.from('dp')), t('81', Buffer.from('ds'))),
    );
    roundTrip(rsp.EuiccConfiguredAddressesRequest, {}, 'bf3c00');
    roundTrip(rsp.SetDefaultDpAddressRequest, { defaultDpAddress: 'dp' }, t('bf3f', t('80', Buffer.from('dp'))));
    roundTrip(rsp.SetDefaultDpAddressResponse, { setDefaultDpAddressResult: 0 }, 'bf3f03800100');
  });

  it('CancelSession: BF41 { 80, 81 } and BF41 { A0 { 30 { 80, 81 oid, 82 }, 5F37 } }', () => {
    roundTrip(rsp.CancelSessionRequest, { transactionId: hex('aa'), reason: rsp.CancelSessionReason.postponed }, 'bf41068001aa810101');
    const signed: rsp.EuiccCancelSessionSigned = { transactionId: hex('aa'), smdpOid: '2.999.10', reason: 0 };
    roundTrip(
      rsp.CancelSessionResponse,
      { type: 'cancelSessionResponseOk', value: { euiccCancelSessionSigned: capture(rsp.EuiccCancelSessionSigned, signed), euiccCancelSessionSignature: SIG } },
      t('bf41', t('a0', t('30', t('80', 'aa'), t('81', '88370a'), t('82', '00')), t('5f37', SIG))),
    );
    roundTrip(rsp.CancelSessionResponse, { type: 'cancelSessionResponseError', value: 5 }, 'bf4103810105');
  });

  it('GetRAT: BF43 {} and BF43 { A0 { 30 { 80, A1 { 30 { 80 } }, 82 } } }', () => {
    roundTrip(rsp.GetRatRequest, {}, 'bf4300');
    roundTrip(
      rsp.GetRatResponse,
      { rat: [{ pprIds: rsp.namedBitString([1]), allowedOperators: [{ mccMnc: hex('00f110') }], pprFlags: rsp.namedBitString([0]) }] },
      t('bf43', t('a0', t('30', t('80', '0640'), t('a1', t('30', t('80', '00f110'))), t('82', '0780')))),
    );
  });

  it('BoundProfilePackage is BF36 { BF23 { 82, 80, A6 { 80, 81, 84 }, 5F49, 5F37 }, A0 {87}, A1 {88}, A2 {87}, A3 {86 86} }', () => {
    const otpk = Buffer.alloc(65, 4);
    const isc: rsp.InitialiseSecureChannelRequest = {
      remoteOpId: 1,
      transactionId: hex('0102'),
      controlRefTemplate: { keyType: hex('88'), keyLen: hex('10'), hostId: hex('0011') },
      smdpOtpk: otpk,
      smdpSign: SIG,
    };
    const iscHex = t('bf23', t('82', '01'), t('80', '0102'), t('a6', t('80', '88'), t('81', '10'), t('84', '0011')), t('5f49', otpk), t('5f37', SIG));
    const value: rsp.BoundProfilePackage = {
      initialiseSecureChannelRequest: capture(rsp.InitialiseSecureChannelRequest, isc),
      firstSequenceOf87: [hex(t('87', 'aabb'))],
      sequenceOf88: [hex(t('88', 'ccdd'))],
      secondSequenceOf87: [hex(t('87', 'eeff'))],
      sequenceOf86: [hex(t('86', '01')), hex(t('86', Buffer.alloc(300, 2)))],
    };
    roundTrip(
      rsp.BoundProfilePackage,
      value,
      t('bf36', iscHex, t('a0', t('87', 'aabb')), t('a1', t('88', 'ccdd')), t('a2', t('87', 'eeff')), t('a3', t('86', '01'), t('86', Buffer.alloc(300, 2)))),
    );
    assert.equal(value.initialiseSecureChannelRequest.der.toString('hex'), iscHex);
  });

  it('ConfigureISDP and ReplaceSessionKeys: BF24 { B8 { 80 oid } }, BF26 { 80, 81, 82 }', () => {
    roundTrip(rsp.ConfigureISDPRequest, { dpProprietaryData: { dpOid: '2.999.1' } }, 'bf2407b805800388' + '3701');
    roundTrip(
      rsp.ReplaceSessionKeysRequest,
      { initialMacChainingValue: hex('01'), ppkEnc: hex('02'), ppkCmac: hex('03') },
      'bf2609800101810102820103',
    );
  });

  it('ProfileInstallationResult is BF37 { BF27 { 80, BF2F { 80, 81, 0C, 5A }, 06, A2 { A0 { 4F, 04 } } }, 5F37 }', () => {
    const data: rsp.ProfileInstallationResultData = {
      transactionId: hex('0102'),
      notificationMetadata: {
        seqNumber: 1,
        profileManagementOperation: rsp.namedBitString([rsp.NotificationEvent.notificationInstall]),
        notificationAddress: 'dp',
        iccid: ICCID,
      },
      smdpOid: '2.999.10',
      finalResult: { type: 'successResult', value: { aid: hex('a0000005591010ffffffff8900001000'), simaResponse: hex('3003300100') } },
    };
    const dataHex = t(
      'bf27',
      t('80', '0102'),
      t('bf2f', t('80', '01'), t('81', '0780'), t('0c', Buffer.from('dp')), t('5a', ICCID)),
      t('06', '88370a'),
      t('a2', t('a0', t('4f', 'a0000005591010ffffffff8900001000'), t('04', '3003300100'))),
    );
    const pir: rsp.ProfileInstallationResult = { profileInstallationResultData: capture(rsp.ProfileInstallationResultData, data), euiccSignPIR: SIG };
    roundTrip(rsp.ProfileInstallationResult, pir, t('bf37', dataHex, t('5f37', SIG)));
    roundTrip(
      rsp.PendingNotification,
      { type: 'profileInstallationResult', value: pir },
      t('bf37', dataHex, t('5f37', SIG)),
    );
    const error: rsp.FinalResult = { type: 'errorResult', value: { bppCommandId: rsp.BppCommandId.loadProfileElements, errorReason: rsp.ErrorReason.installFailedDueToDataMismatch } };
    roundTrip(
      rsp.ProfileInstallationResultData,
      { ...data, finalResult: error },
      t(
        'bf27',
        t('80', '0102'),
        t('bf2f', t('80', '01'), t('81', '0780'), t('0c', Buffer.from('dp')), t('5a', ICCID)),
        t('06', '88370a'),
        t('a2', t('a1', t('80', '05'), t('81', '0d'))),
      ),
    );
  });

  it('RetrieveNotificationsListResponse holds other signed notifications as SEQUENCE { BF2F, 5F37, cert, cert }', () => {
    const meta: rsp.NotificationMetadata = { seqNumber: 7, profileManagementOperation: rsp.namedBitString([1]), notificationAddress: 'dp' };
    const other: rsp.OtherSignedNotification = {
      tbsOtherNotification: capture(rsp.NotificationMetadata, meta),
      euiccNotificationSignature: SIG,
      euiccCertificate: hex(CERT),
      eumCertificate: hex(CERT),
    };
    roundTrip(
      rsp.RetrieveNotificationsListResponse,
      { type: 'notificationList', value: [{ type: 'otherSignedNotification', value: other }] },
      t('bf2b', t('a0', t('30', t('bf2f', t('80', '07'), t('81', '0640'), t('0c', Buffer.from('dp'))), t('5f37', SIG), CERT, CERT))),
    );
  });
});

describe('RSP codecs: decoding what peers send', () => {
  it('keeps the received bytes of signed parts, including unknown extension components', () => {
    // A v3-style ServerSigned1 with a trailing [5] component this version does not know.
    const signedHex = t('30', t('80', '01'), t('81', CHALLENGE), t('83', Buffer.from('dp')), t('84', CHALLENGE), t('a5', t('80', '00')));
    const msg = hex(t('bf38', signedHex, t('5f37', SIG), t('04', SKI_A), CERT, t('a0', t('a1', t('80', '35290611'), t('a1', '')))));
    const report = decodeWithReport(rsp.AuthenticateServerRequest, msg);
    assert.equal(report.value.serverSigned1.der.toString('hex'), signedHex);
    assert.equal(report.value.serverSigned1.value.serverAddress, 'dp');
    assert.deepStrictEqual(report.unknown.map((u) => [u.path, u.tag]), [['serverSigned1', 'A5']]);
    assert.ok(encode(rsp.AuthenticateServerRequest, report.value).equals(msg));
  });

  it('rejects wrong tags, missing or duplicate components, unknown alternatives and size violations', () => {
    const code = (codec: Codec<unknown>, h: string): string => {
      try {
        decode(codec, hex(h));
      } catch (e) {
        assert.ok(e instanceof Asn1Error);
        return e.code;
      }
      return 'decoded';
    };
    assert.equal(code(rsp.GetEuiccDataRequest, 'bf2003' + '5c015a'), 'UNEXPECTED_TAG');
    assert.equal(code(rsp.EnableProfileRequest, t('bf31', t('a0', t('5a', ICCID)))), 'MISSING_COMPONENT');
    assert.equal(code(rsp.AuthenticateServerResponse, 'bf3805a203800101'), 'UNEXPECTED_TAG');
    assert.equal(code(rsp.PendingNotification, 'a203800101'), 'UNEXPECTED_TAG');
    assert.equal(code(rsp.GetEuiccDataResponse, t('bf3e', t('5a', '0102'))), 'INVALID_VALUE');
    assert.equal(code(rsp.SetNicknameRequest, t('bf29', t('5a', ICCID), t('90', Buffer.alloc(65, 0x41)))), 'INVALID_VALUE');
    assert.equal(code(rsp.NotificationSentRequest, t('bf30', t('80', '05'), t('80', '06'))), 'UNKNOWN_COMPONENT');
  });

  it('named BIT STRING helpers list, build and test bits', () => {
    const bits = rsp.namedBitString([0, 3, 9]);
    assert.deepStrictEqual(bits, { bytes: hex('9040'), unusedBits: 6 });
    assert.deepStrictEqual(rsp.namedBitList(bits), [0, 3, 9]);
    assert.equal(rsp.hasNamedBit(bits, 3), true);
    assert.equal(rsp.hasNamedBit(bits, 4), false);
    assert.equal(rsp.hasNamedBit(bits, 40), false);
    // A non-canonical fixed-length form (trailing zero bits) as some eUICCs send it still reads correctly.
    assert.deepStrictEqual(rsp.namedBitList({ bytes: hex('9000'), unusedBits: 0 }), [0, 3]);
    assert.throws(() => rsp.namedBitString([-1]), (e) => e instanceof Asn1Error && e.code === 'ENCODE_ERROR');
  });
});
