// fast-check arbitraries of valid SGP.22 RSPDefinitions values, one per codec in RSP_MESSAGES (tests and fuzz seeds).
import fc from 'fast-check';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { capture, type Codec } from '../../src/asn1/schema.js';
import type { BitString } from '../../src/asn1/primitives.js';
import * as rsp from '../../src/asn1/definitions/rsp.js';

/** A record whose keys outside `required` may be absent; plain prototype so deepStrictEqual matches decoded objects. */
function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: readonly (keyof T)[]): fc.Arbitrary<T> {
  return fc.record(model, { requiredKeys: required as (keyof T)[], noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}

function chosen<K extends string, V>(type: K, value: fc.Arbitrary<V>): fc.Arbitrary<{ type: K; value: V }> {
  return value.map((v) => ({ type, value: v }));
}

function captureOf<T>(codec: Codec<T>, value: fc.Arbitrary<T>): fc.Arbitrary<{ value: T; der: Buffer }> {
  return value.map((v) => capture(codec, v));
}

export const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Buffer> =>
  fc.uint8Array({ minLength, maxLength }).map((b) => Buffer.from(b));
const octets = (n: number): fc.Arbitrary<Buffer> => bytes(n, n);
const version = octets(3);
const transactionId = bytes(1, 16);
const iccid = octets(10);
const aid = bytes(1, 16);
const ski = bytes(0, 24);
const signature = bytes(0, 72);
const point = bytes(0, 65);
const text = (maxLength = 24): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength });
const int = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
const small = fc.integer({ min: 0, max: 255 });

/** A valid BIT STRING (unused bits zero), not necessarily in named-bit canonical form. */
export const bitString: fc.Arbitrary<BitString> = fc.tuple(bytes(0, 4), fc.integer({ min: 0, max: 7 })).map(([b, u]) => {
  if (b.length === 0) return { bytes: b, unusedBits: 0 };
  b[b.length - 1]! &= 0xff << u;
  return { bytes: b, unusedBits: u };
});

export const oidArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.nat({ max: 2 ** 32 }), { maxLength: 6 }))
  .map(([a, b, rest]) => [a, b, ...rest].join('.'));

/** A structurally valid certificate stand-in: a SEQUENCE holding an OCTET STRING. */
const certificate = bytes(0, 48).map((b) => encodeTlv(0x30, encodeTlv(0x04, b)));

const certificationDataObject = rec<rsp.CertificationDataObject>({ platformLabel: text(), discoveryBaseURL: text() }, [
  'platformLabel',
  'discoveryBaseURL',
]);

const iotSpecificInfo = rec<rsp.IoTSpecificInfo>(
  { iotVersion: fc.array(version, { maxLength: 3 }), ecallSupported: fc.constant(null), fallbackSupported: fc.constant(null) },
  ['iotVersion'],
);

const euiccInfo1 = rec<rsp.EUICCInfo1>(
  { svn: version, euiccCiPKIdListForVerification: fc.array(ski, { maxLength: 3 }), euiccCiPKIdListForSigning: fc.array(ski, { maxLength: 3 }) },
  ['svn', 'euiccCiPKIdListForVerification', 'euiccCiPKIdListForSigning'],
);

const euiccInfo2 = rec<rsp.EUICCInfo2>(
  {
    profileVersion: version,
    svn: version,
    euiccFirmwareVer: version,
    extCardResource: bytes(0, 16),
    uiccCapability: bitString,
    ts102241Version: version,
    globalplatformVersion: version,
    rspCapability: bitString,
    euiccCiPKIdListForVerification: fc.array(ski, { maxLength: 3 }),
    euiccCiPKIdListForSigning: fc.array(ski, { maxLength: 3 }),
    euiccCategory: small,
    forbiddenProfilePolicyRules: bitString,
    ppVersion: version,
    sasAcreditationNumber: text(64),
    certificationDataObject,
    treProperties: bitString,
    treProductReference: text(),
    additionalEuiccProfilePackageVersions: fc.array(version, { maxLength: 3 }),
    ipaMode: fc.integer({ min: 0, max: 1 }),
    euiccCiPKIdListForSigningV3: fc.array(ski, { maxLength: 2 }),
    additionalEuiccInfo: bytes(0, 32),
    highestSvn: version,
    iotSpecificInfo,
  },
  [
    'profileVersion',
    'svn',
    'euiccFirmwareVer',
    'extCardResource',
    'uiccCapability',
    'rspCapability',
    'euiccCiPKIdListForVerification',
    'euiccCiPKIdListForSigning',
    'ppVersion',
    'sasAcreditationNumber',
  ],
);

const deviceCapabilities = rec<rsp.DeviceCapabilities>(
  {
    gsmSupportedRelease: version,
    utranSupportedRelease: version,
    cdma2000onexSupportedRelease: version,
    cdma2000hrpdSupportedRelease: version,
    cdma2000ehrpdSupportedRelease: version,
    eutranEpcSupportedRelease: version,
    contactlessSupportedRelease: version,
    rspCrlSupportedVersion: version,
    nrEpcSupportedRelease: version,
    nr5gcSupportedRelease: version,
    eutran5gcSupportedRelease: version,
    lpaSvn: version,
    catSupportedClasses: bitString,
    euiccFormFactorType: small,
    deviceAdditionalFeatureSupport: rec<rsp.DeviceAdditionalFeatureSupport>({ naiSupport: version }, []),
  },
  [],
);

const ctxParams1: fc.Arbitrary<rsp.CtxParams1> = chosen(
  'ctxParamsForCommonAuthentication',
  rec<rsp.CtxParamsForCommonAuthentication>(
    {
      matchingId: text(),
      deviceInfo: rec<rsp.DeviceInfo>({ tac: octets(4), deviceCapabilities, imei: octets(8) }, ['tac', 'deviceCapabilities']),
    },
    ['deviceInfo'],
  ),
);

const serverSigned1 = rec<rsp.ServerSigned1>(
  { transactionId, euiccChallenge: octets(16), serverAddress: text(), serverChallenge: octets(16) },
  ['transactionId', 'euiccChallenge', 'serverAddress', 'serverChallenge'],
);

const euiccSigned1 = rec<rsp.EuiccSigned1>(
  { transactionId, serverAddress: text(), serverChallenge: octets(16), euiccInfo2, ctxParams1 },
  ['transactionId', 'serverAddress', 'serverChallenge', 'euiccInfo2', 'ctxParams1'],
);

const authenticateServerResponse: fc.Arbitrary<rsp.AuthenticateServerResponse> = fc.oneof(
  chosen(
    'authenticateResponseOk',
    rec<rsp.AuthenticateResponseOk>(
      {
        euiccSigned1: captureOf(rsp.EuiccSigned1, euiccSigned1),
        euiccSignature1: signature,
        euiccCertificate: certificate,
        eumCertificate: certificate,
      },
      ['euiccSigned1', 'euiccSignature1', 'euiccCertificate', 'eumCertificate'],
    ),
  ),
  chosen(
    'authenticateResponseError',
    rec<rsp.AuthenticateResponseError>({ transactionId, authenticateErrorCode: small }, ['transactionId', 'authenticateErrorCode']),
  ),
);

const smdpSigned2 = rec<rsp.SmdpSigned2>({ transactionId, ccRequiredFlag: fc.boolean(), bppEuiccOtpk: point }, [
  'transactionId',
  'ccRequiredFlag',
]);

const euiccSigned2 = rec<rsp.EUICCSigned2>({ transactionId, euiccOtpk: point, hashCc: octets(32) }, ['transactionId', 'euiccOtpk']);

const prepareDownloadResponse: fc.Arbitrary<rsp.PrepareDownloadResponse> = fc.oneof(
  chosen(
    'downloadResponseOk',
    rec<rsp.PrepareDownloadResponseOk>({ euiccSigned2: captureOf(rsp.EUICCSigned2, euiccSigned2), euiccSignature2: signature }, [
      'euiccSigned2',
      'euiccSignature2',
    ]),
  ),
  chosen(
    'downloadResponseError',
    rec<rsp.PrepareDownloadResponseError>({ transactionId, downloadErrorCode: small }, ['transactionId', 'downloadErrorCode']),
  ),
);

const operatorId = rec<rsp.OperatorId>({ mccMnc: octets(3), gid1: bytes(0, 8), gid2: bytes(0, 8) }, ['mccMnc']);
const notificationConfigurationInformation = rec<rsp.NotificationConfigurationInformation>(
  { profileManagementOperation: bitString, notificationAddress: text() },
  ['profileManagementOperation', 'notificationAddress'],
);
/** Open-type values must be one valid element: an OCTET STRING or a small SEQUENCE. */
const vendorSpecificExtension = fc.array(
  rec<rsp.VendorSpecificExtensionEntry>(
    {
      vendorOid: oidArb,
      vendorSpecificData: fc.oneof(
        bytes(0, 12).map((b) => encodeTlv(0x04, b)),
        bytes(0, 12).map((b) => encodeTlv(0x30, encodeTlv(0x80, b))),
      ),
    },
    ['vendorOid', 'vendorSpecificData'],
  ),
  { maxLength: 2 },
);

const storeMetadataRequest = rec<rsp.StoreMetadataRequest>(
  {
    iccid,
    serviceProviderName: text(32),
    profileName: text(64),
    iconType: fc.integer({ min: 0, max: 1 }),
    icon: bytes(0, 64),
    profileClass: fc.integer({ min: 0, max: 2 }),
    notificationConfigurationInfo: fc.array(notificationConfigurationInformation, { maxLength: 3 }),
    profileOwner: operatorId,
    profilePolicyRules: bitString,
    serviceSpecificDataStoredInEuicc: vendorSpecificExtension,
    serviceSpecificDataNotStoredInEuicc: vendorSpecificExtension,
  },
  ['iccid', 'serviceProviderName', 'profileName'],
);

const profileInfo = rec<rsp.ProfileInfo>(
  {
    iccid,
    isdpAid: aid,
    profileState: fc.integer({ min: 0, max: 1 }),
    profileNickname: text(64),
    serviceProviderName: text(32),
    profileName: text(64),
    iconType: fc.integer({ min: 0, max: 1 }),
    icon: bytes(0, 64),
    profileClass: fc.integer({ min: 0, max: 2 }),
    notificationConfigurationInfo: fc.array(notificationConfigurationInformation, { maxLength: 2 }),
    profileOwner: operatorId,
    dpProprietaryData: rec<rsp.DpProprietaryData>({ dpOid: oidArb }, ['dpOid']),
    profilePolicyRules: bitString,
    serviceSpecificDataStoredInEuicc: vendorSpecificExtension,
  },
  [],
);

const profileIdentifier: fc.Arbitrary<rsp.ProfileIdentifier> = fc.oneof(chosen('isdpAid', aid), chosen('iccid', iccid));

const initialiseSecureChannelRequest = rec<rsp.InitialiseSecureChannelRequest>(
  {
    remoteOpId: small,
    transactionId,
    controlRefTemplate: rec<rsp.ControlRefTemplate>({ keyType: octets(1), keyLen: octets(1), hostId: bytes(1, 16) }, [
      'keyType',
      'keyLen',
      'hostId',
    ]),
    smdpOtpk: point,
    smdpSign: signature,
  },
  ['remoteOpId', 'transactionId', 'controlRefTemplate', 'smdpOtpk', 'smdpSign'],
);

const segments = (tag: number): fc.Arbitrary<Buffer[]> => fc.array(bytes(0, 40).map((b) => encodeTlv(tag, b)), { maxLength: 3 });

const notificationMetadata = rec<rsp.NotificationMetadata>(
  { seqNumber: fc.nat({ max: 2 ** 31 }), profileManagementOperation: bitString, notificationAddress: text(), iccid },
  ['seqNumber', 'profileManagementOperation', 'notificationAddress'],
);

const profileInstallationResultData = rec<rsp.ProfileInstallationResultData>(
  {
    transactionId,
    notificationMetadata,
    smdpOid: oidArb,
    finalResult: fc.oneof(
      chosen('successResult', rec<rsp.SuccessResult>({ aid: bytes(5, 16), simaResponse: bytes(0, 16) }, ['aid', 'simaResponse'])),
      chosen(
        'errorResult',
        rec<rsp.ErrorResult>({ bppCommandId: small, errorReason: small, simaResponse: bytes(0, 16) }, ['bppCommandId', 'errorReason']),
      ),
    ) as fc.Arbitrary<rsp.FinalResult>,
  },
  ['transactionId', 'notificationMetadata', 'smdpOid', 'finalResult'],
);

const profileInstallationResult = rec<rsp.ProfileInstallationResult>(
  { profileInstallationResultData: captureOf(rsp.ProfileInstallationResultData, profileInstallationResultData), euiccSignPIR: signature },
  ['profileInstallationResultData', 'euiccSignPIR'],
);

const otherSignedNotification = rec<rsp.OtherSignedNotification>(
  {
    tbsOtherNotification: captureOf(rsp.NotificationMetadata, notificationMetadata),
    euiccNotificationSignature: signature,
    euiccCertificate: certificate,
    eumCertificate: certificate,
  },
  ['tbsOtherNotification', 'euiccNotificationSignature', 'euiccCertificate', 'eumCertificate'],
);

const pendingNotification: fc.Arbitrary<rsp.PendingNotification> = fc.oneof(
  chosen('profileInstallationResult', profileInstallationResult),
  chosen('otherSignedNotification', otherSignedNotification),
);

const euiccCancelSessionSigned = rec<rsp.EuiccCancelSessionSigned>({ transactionId, smdpOid: oidArb, reason: small }, [
  'transactionId',
  'smdpOid',
  'reason',
]);

const profileSwitchRequest = rec<rsp.ProfileSwitchRequest>({ profileIdentifier, refreshFlag: fc.boolean() }, [
  'profileIdentifier',
  'refreshFlag',
]);

const empty = fc.constant({});

/** One arbitrary per entry of rsp.RSP_MESSAGES, under the same name. */
export const RSP_ARBITRARIES: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  GetEuiccInfo1Request: empty,
  EUICCInfo1: euiccInfo1,
  GetEuiccInfo2Request: empty,
  EUICCInfo2: euiccInfo2,
  ServerSigned1: serverSigned1,
  AuthenticateServerRequest: rec<rsp.AuthenticateServerRequest>(
    {
      serverSigned1: captureOf(rsp.ServerSigned1, serverSigned1),
      serverSignature1: signature,
      euiccCiPKIdToBeUsed: ski,
      serverCertificate: certificate,
      ctxParams1,
    },
    ['serverSigned1', 'serverSignature1', 'euiccCiPKIdToBeUsed', 'serverCertificate', 'ctxParams1'],
  ),
  EuiccSigned1: euiccSigned1,
  AuthenticateServerResponse: authenticateServerResponse,
  SmdpSigned2: smdpSigned2,
  PrepareDownloadRequest: rec<rsp.PrepareDownloadRequest>(
    { smdpSigned2: captureOf(rsp.SmdpSigned2, smdpSigned2), smdpSignature2: signature, hashCc: octets(32), smdpCertificate: certificate },
    ['smdpSigned2', 'smdpSignature2', 'smdpCertificate'],
  ),
  EUICCSigned2: euiccSigned2,
  PrepareDownloadResponse: prepareDownloadResponse,
  StoreMetadataRequest: storeMetadataRequest,
  ProfileInfo: profileInfo,
  ProfileInfoListRequest: rec<rsp.ProfileInfoListRequest>(
    {
      searchCriteria: fc.oneof(profileIdentifier, chosen('profileClass', fc.integer({ min: 0, max: 2 }))) as fc.Arbitrary<rsp.ProfileInfoSearchCriteria>,
      tagList: bytes(0, 8),
    },
    [],
  ),
  ProfileInfoListResponse: fc.oneof(
    chosen('profileInfoListOk', fc.array(profileInfo, { maxLength: 3 })),
    chosen('profileInfoListError', small),
  ),
  InitialiseSecureChannelRequest: initialiseSecureChannelRequest,
  ConfigureISDPRequest: rec<rsp.ConfigureISDPRequest>({ dpProprietaryData: rec<rsp.DpProprietaryData>({ dpOid: oidArb }, ['dpOid']) }, []),
  ReplaceSessionKeysRequest: rec<rsp.ReplaceSessionKeysRequest>(
    { initialMacChainingValue: bytes(0, 16), ppkEnc: bytes(0, 16), ppkCmac: bytes(0, 16) },
    ['initialMacChainingValue', 'ppkEnc', 'ppkCmac'],
  ),
  BoundProfilePackage: rec<rsp.BoundProfilePackage>(
    {
      initialiseSecureChannelRequest: captureOf(rsp.InitialiseSecureChannelRequest, initialiseSecureChannelRequest),
      firstSequenceOf87: segments(0x87),
      sequenceOf88: segments(0x88),
      secondSequenceOf87: segments(0x87),
      sequenceOf86: segments(0x86),
    },
    ['initialiseSecureChannelRequest', 'firstSequenceOf87', 'sequenceOf88', 'sequenceOf86'],
  ),
  NotificationMetadata: notificationMetadata,
  ProfileInstallationResultData: profileInstallationResultData,
  ProfileInstallationResult: profileInstallationResult,
  OtherSignedNotification: otherSignedNotification,
  PendingNotification: pendingNotification,
  ListNotificationRequest: rec<rsp.ListNotificationRequest>({ profileManagementOperation: bitString }, []),
  ListNotificationResponse: fc.oneof(
    chosen('notificationMetadataList', fc.array(notificationMetadata, { maxLength: 3 })),
    chosen('listNotificationsResultError', small),
  ),
  RetrieveNotificationsListRequest: rec<rsp.RetrieveNotificationsListRequest>(
    {
      searchCriteria: fc.oneof(chosen('seqNumber', int), chosen('profileManagementOperation', bitString)) as fc.Arbitrary<rsp.RetrieveNotificationsSearchCriteria>,
    },
    [],
  ),
  RetrieveNotificationsListResponse: fc.oneof(
    chosen('notificationList', fc.array(pendingNotification, { maxLength: 2 })),
    chosen('notificationsListResultError', small),
  ),
  NotificationSentRequest: rec<rsp.NotificationSentRequest>({ seqNumber: int }, ['seqNumber']),
  NotificationSentResponse: rec<rsp.NotificationSentResponse>({ deleteNotificationStatus: small }, ['deleteNotificationStatus']),
  CancelSessionRequest: rec<rsp.CancelSessionRequest>({ transactionId, reason: small }, ['transactionId', 'reason']),
  EuiccCancelSessionSigned: euiccCancelSessionSigned,
  CancelSessionResponse: fc.oneof(
    chosen(
      'cancelSessionResponseOk',
      rec<rsp.CancelSessionResponseOk>(
        { euiccCancelSessionSigned: captureOf(rsp.EuiccCancelSessionSigned, euiccCancelSessionSigned), euiccCancelSessionSignature: signature },
        ['euiccCancelSessionSigned', 'euiccCancelSessionSignature'],
      ),
    ),
    chosen('cancelSessionResponseError', small),
  ),
  GetEuiccChallengeRequest: empty,
  GetEuiccChallengeResponse: rec<rsp.GetEuiccChallengeResponse>({ euiccChallenge: octets(16) }, ['euiccChallenge']),
  GetEuiccDataRequest: rec<rsp.GetEuiccDataRequest>({ tagList: octets(1) }, ['tagList']),
  GetEuiccDataResponse: rec<rsp.GetEuiccDataResponse>({ eidValue: octets(16) }, ['eidValue']),
  EnableProfileRequest: profileSwitchRequest,
  EnableProfileResponse: rec<rsp.EnableProfileResponse>({ enableResult: small }, ['enableResult']),
  DisableProfileRequest: profileSwitchRequest,
  DisableProfileResponse: rec<rsp.DisableProfileResponse>({ disableResult: small }, ['disableResult']),
  DeleteProfileRequest: profileIdentifier,
  DeleteProfileResponse: rec<rsp.DeleteProfileResponse>({ deleteResult: small }, ['deleteResult']),
  EuiccMemoryResetRequest: rec<rsp.EuiccMemoryResetRequest>({ resetOptions: bitString }, ['resetOptions']),
  EuiccMemoryResetResponse: rec<rsp.EuiccMemoryResetResponse>({ resetResult: small }, ['resetResult']),
  SetNicknameRequest: rec<rsp.SetNicknameRequest>({ iccid, profileNickname: text(64) }, ['iccid', 'profileNickname']),
  SetNicknameResponse: rec<rsp.SetNicknameResponse>({ setNicknameResult: small }, ['setNicknameResult']),
  EuiccConfiguredAddressesRequest: empty,
  EuiccConfiguredAddressesResponse: rec<rsp.EuiccConfiguredAddressesResponse>({ defaultDpAddress: text(), rootDsAddress: text() }, [
    'rootDsAddress',
  ]),
  SetDefaultDpAddressRequest: rec<rsp.SetDefaultDpAddressRequest>({ defaultDpAddress: text() }, ['defaultDpAddress']),
  SetDefaultDpAddressResponse: rec<rsp.SetDefaultDpAddressResponse>({ setDefaultDpAddressResult: small }, ['setDefaultDpAddressResult']),
  GetRatRequest: empty,
  GetRatResponse: rec<rsp.GetRatResponse>(
    {
      rat: fc.array(
        rec<rsp.ProfilePolicyAuthorisationRule>(
          { pprIds: bitString, allowedOperators: fc.array(operatorId, { maxLength: 2 }), pprFlags: bitString },
          ['pprIds', 'allowedOperators', 'pprFlags'],
        ),
        { maxLength: 2 },
      ),
    },
    ['rat'],
  ),
};
