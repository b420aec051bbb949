// fast-check arbitraries of valid SGP.32 v1.2 SGP32Definitions values, one per codec in SGP32_MESSAGES (tests and fuzz seeds).
import fc from 'fast-check';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { capture, type Codec } from '../../src/asn1/schema.js';
import * as rsp from '../../src/asn1/definitions/rsp.js';
import * as s from '../../src/asn1/definitions/sgp32.js';
import { RSP_ARBITRARIES, bitString, bytes, oidArb } from './rsp-arbitraries.js';

function rec<T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: readonly (keyof T)[]): fc.Arbitrary<T> {
  return fc.record(model, { requiredKeys: required as (keyof T)[], noNullPrototype: true }) as unknown as fc.Arbitrary<T>;
}

function chosen<K extends string, V>(type: K, value: fc.Arbitrary<V>): fc.Arbitrary<{ type: K; value: V }> {
  return value.map((v) => ({ type, value: v }));
}

function captureOf<T>(codec: Codec<T>, value: fc.Arbitrary<T>): fc.Arbitrary<{ value: T; der: Buffer }> {
  return value.map((v) => capture(codec, v));
}

function fromRsp<T>(name: string): fc.Arbitrary<T> {
  return RSP_ARBITRARIES[name]! as fc.Arbitrary<T>;
}

const octets = (n: number): fc.Arbitrary<Buffer> => bytes(n, n);
const transactionId = bytes(1, 16);
const iccid = octets(10);
const eid = octets(16);
const signature = bytes(0, 72);
const certificate = bytes(0, 48).map((b) => encodeTlv(0x30, encodeTlv(0x04, b)));
const text = (maxLength = 24): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength });
const eimId = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const int = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });
const small = fc.integer({ min: 0, max: 255 });
const nul = fc.constant(null);
const empty = fc.constant({} as s.Empty);
const list = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(a, { maxLength: 3 });

const eimConfigurationData = rec<s.EimConfigurationData>(
  {
    eimId,
    eimFqdn: text(),
    eimIdType: small,
    counterValue: int,
    associationToken: int,
    eimPublicKeyData: fc.oneof(chosen('eimPublicKey', certificate), chosen('eimCertificate', certificate)),
    trustedPublicKeyDataTls: fc.oneof(chosen('trustedEimPkTls', certificate), chosen('trustedCertificateTls', certificate)),
    eimSupportedProtocol: bitString,
    euiccCiPKId: bytes(0, 24),
    indirectProfileDownload: nul,
  },
  ['eimId'],
);

const iccidOnly = rec<s.IccidOnly>({ iccid }, ['iccid']);
const configureImmediateEnable = rec<s.ConfigureImmediateEnable>({ immediateEnableFlag: nul, defaultSmdpOid: oidArb, defaultSmdpAddress: text() }, []);
const setDefaultDpAddressRequest = rec<s.SetDefaultDpAddressRequest>({ defaultDpAddress: text() }, ['defaultDpAddress']);

const psmo: fc.Arbitrary<s.Psmo> = fc.oneof(
  chosen('enable', rec<s.EnablePsmo>({ iccid, rollbackFlag: nul }, ['iccid'])),
  chosen('disable', iccidOnly),
  chosen('delete', iccidOnly),
  chosen('listProfileInfo', fromRsp<rsp.ProfileInfoListRequest>('ProfileInfoListRequest')),
  chosen('getRAT', empty),
  chosen('configureImmediateEnable', configureImmediateEnable),
  chosen('setFallbackAttribute', iccidOnly),
  chosen('unsetFallbackAttribute', empty),
  chosen('setDefaultDpAddress', setDefaultDpAddressRequest),
) as fc.Arbitrary<s.Psmo>;

const eco: fc.Arbitrary<s.Eco> = fc.oneof(
  chosen('addEim', eimConfigurationData),
  chosen('deleteEim', rec<s.DeleteEim>({ eimId: text() }, ['eimId'])),
  chosen('updateEim', eimConfigurationData),
  chosen('listEim', empty),
) as fc.Arbitrary<s.Eco>;

const euiccPackageSigned = rec<s.EuiccPackageSigned>(
  {
    eimId,
    eidValue: eid,
    counterValue: int,
    eimTransactionId: transactionId,
    euiccPackage: fc.oneof(chosen('psmoList', list(psmo)), chosen('ecoList', list(eco))) as fc.Arbitrary<s.EuiccPackage>,
  },
  ['eimId', 'eidValue', 'counterValue', 'euiccPackage'],
);

const euiccPackageRequest = rec<s.EuiccPackageRequest>(
  { euiccPackageSigned: captureOf(s.EuiccPackageSigned, euiccPackageSigned), eimSignature: signature },
  ['euiccPackageSigned', 'eimSignature'],
);

const sgp32ProfileInfo = fromRsp<rsp.ProfileInfo>('ProfileInfo').chain((base) =>
  rec<Pick<s.Sgp32ProfileInfo, 'ecallIndication' | 'fallbackAttribute' | 'fallbackAllowed'>>(
    { ecallIndication: fc.boolean(), fallbackAttribute: fc.boolean(), fallbackAllowed: fc.boolean() },
    [],
  ).map((extra) => ({ ...base, ...extra }) as s.Sgp32ProfileInfo),
);
const profileInfoListResponse: fc.Arbitrary<s.Sgp32ProfileInfoListResponse> = fc.oneof(
  chosen('profileInfoListOk', list(sgp32ProfileInfo)),
  chosen('profileInfoListError', small),
);
const eimIdInfo = rec<s.EimIdInfo>({ eimId, eimIdType: small }, ['eimId']);

const euiccResultData: fc.Arbitrary<s.EuiccResultData> = fc.oneof(
  ...(
    [
      'enableResult',
      'disableResult',
      'deleteResult',
      'configureImmediateEnableResult',
      'deleteEimResult',
      'updateEimResult',
      'rollbackResult',
      'setFallbackAttributeResult',
      'unsetFallbackAttributeResult',
      'processingTerminated',
    ] as const
  ).map((k) => chosen(k, small)),
  chosen('listProfileInfoResult', profileInfoListResponse),
  chosen('getRATResult', fromRsp<rsp.GetRatResponse>('GetRatResponse').map((r) => r.rat)),
  chosen('addEimResult', fc.oneof(chosen('associationToken', int), chosen('addEimResultCode', small)) as fc.Arbitrary<s.AddEimResult>),
  chosen('listEimResult', fc.oneof(chosen('eimIdList', list(eimIdInfo)), chosen('listEimError', small)) as fc.Arbitrary<s.ListEimResult>),
  chosen('setDefaultDpAddressResult', rec<s.SetDefaultDpAddressResponse>({ setDefaultDpAddressResult: small }, ['setDefaultDpAddressResult'])),
) as fc.Arbitrary<s.EuiccResultData>;

const euiccPackageResultDataSigned = rec<s.EuiccPackageResultDataSigned>(
  { eimId, counterValue: int, eimTransactionId: transactionId, seqNumber: int, euiccResult: list(euiccResultData) },
  ['eimId', 'counterValue', 'seqNumber', 'euiccResult'],
);
const euiccPackageErrorDataSigned = rec<s.EuiccPackageErrorDataSigned>(
  { eimId, counterValue: int, eimTransactionId: transactionId, euiccPackageErrorCode: small },
  ['eimId', 'counterValue', 'euiccPackageErrorCode'],
);

const euiccPackageResult: fc.Arbitrary<s.EuiccPackageResult> = fc.oneof(
  chosen(
    'euiccPackageResultSigned',
    rec<s.EuiccPackageResultSigned>(
      { euiccPackageResultDataSigned: captureOf(s.EuiccPackageResultDataSigned, euiccPackageResultDataSigned), euiccSignEPR: signature },
      ['euiccPackageResultDataSigned', 'euiccSignEPR'],
    ),
  ),
  chosen(
    'euiccPackageErrorSigned',
    rec<s.EuiccPackageErrorSigned>(
      { euiccPackageErrorDataSigned: captureOf(s.EuiccPackageErrorDataSigned, euiccPackageErrorDataSigned), euiccSignEPE: signature },
      ['euiccPackageErrorDataSigned', 'euiccSignEPE'],
    ),
  ),
  chosen('euiccPackageErrorUnsigned', rec<s.EuiccPackageErrorUnsigned>({ eimId, eimTransactionId: transactionId, associationToken: int }, ['eimId'])),
) as fc.Arbitrary<s.EuiccPackageResult>;

const refresh = rec<s.RefreshFlagRequest>({ refreshFlag: fc.boolean() }, ['refreshFlag']);
const result = <K extends string>(key: K): fc.Arbitrary<Record<K, number>> => fc.record({ [key]: small } as Record<K, fc.Arbitrary<number>>, { noNullPrototype: true }) as unknown as fc.Arbitrary<Record<K, number>>;

const compactPir = rec<s.CompactProfileInstallationResult>(
  {
    compactProfileInstallationResultData: captureOf(
      s.CompactProfileInstallationResultDataA0,
      rec<s.CompactProfileInstallationResultData>(
        {
          transactionId,
          seqNumber: int,
          iccidPresent: fc.boolean(),
          compactFinalResult: fc.oneof(
            chosen('compactSuccessResult', rec<s.CompactSuccessResult>({ compactAid: octets(2), simaResponse: bytes(0, 12) }, ['compactAid'])),
            chosen('errorResult', rec<rsp.ErrorResult>({ bppCommandId: small, errorReason: small, simaResponse: bytes(0, 12) }, ['bppCommandId', 'errorReason'])),
          ) as fc.Arbitrary<s.CompactFinalResult>,
        },
        ['transactionId', 'seqNumber', 'compactFinalResult'],
      ),
    ),
    euiccSignPIR: signature,
  },
  ['compactProfileInstallationResultData', 'euiccSignPIR'],
);
const compactOther = rec<s.CompactOtherSignedNotification>(
  {
    eidValue: eid,
    tbsOtherNotification: captureOf(rsp.NotificationMetadata, fromRsp<rsp.NotificationMetadata>('NotificationMetadata')),
    euiccNotificationSignature: signature,
  },
  ['tbsOtherNotification', 'euiccNotificationSignature'],
);
const pendingNotification: fc.Arbitrary<s.PendingNotification> = fc.oneof(
  fromRsp<rsp.PendingNotification>('PendingNotification'),
  chosen('compactProfileInstallationResult', compactPir),
  chosen('compactOtherSignedNotification', compactOther),
) as fc.Arbitrary<s.PendingNotification>;

const ipaEuiccDataRequest = rec<s.IpaEuiccDataRequest>(
  {
    tagList: bytes(0, 12),
    euiccCiPKIdentifierToBeUsed: bytes(0, 20),
    searchCriteriaNotification: fc.oneof(chosen('seqNumber', int), chosen('profileManagementOperation', bitString)) as fc.Arbitrary<s.SearchCriteriaNotification>,
    searchCriteriaEuiccPackageResult: chosen('seqNumber', int),
    eimTransactionId: transactionId,
  },
  ['tagList'],
);

const deviceInfo = rec<rsp.DeviceInfo>(
  { tac: octets(4), deviceCapabilities: rec<rsp.DeviceCapabilities>({ eutranEpcSupportedRelease: octets(3), catSupportedClasses: bitString }, []), imei: octets(8) },
  ['tac', 'deviceCapabilities'],
);

const ipaEuiccData = rec<s.IpaEuiccData>(
  {
    notificationsList: fc.array(pendingNotification, { maxLength: 2 }),
    defaultSmdpAddress: text(),
    euiccPackageResultList: fc.array(euiccPackageResult, { maxLength: 2 }),
    euiccInfo1: fromRsp<rsp.EUICCInfo1>('EUICCInfo1'),
    euiccInfo2: fromRsp<rsp.EUICCInfo2>('EUICCInfo2'),
    rootSmdsAddress: text(),
    associationToken: int,
    eumCertificate: certificate,
    euiccCertificate: certificate,
    eimTransactionId: transactionId,
    ipaCapabilities: rec<s.IpaCapabilities>({ ipaFeatures: bitString, ipaSupportedProtocols: bitString }, ['ipaFeatures']),
    deviceInfo,
  },
  [],
);

const ipaEuiccDataResponse: fc.Arbitrary<s.IpaEuiccDataResponse> = fc.oneof(
  chosen('ipaEuiccData', ipaEuiccData),
  chosen('ipaEuiccDataResponseError', rec<s.IpaEuiccDataResponseError>({ eimTransactionId: transactionId, ipaEuiccDataErrorCode: small }, ['ipaEuiccDataErrorCode'])),
) as fc.Arbitrary<s.IpaEuiccDataResponse>;

const profileDownloadTriggerRequest = rec<s.ProfileDownloadTriggerRequest>(
  {
    profileDownloadData: fc.oneof(
      chosen('activationCode', text(60)),
      chosen('contactDefaultSmdp', nul),
      chosen('contactSmds', rec<s.ContactSmds>({ smdsAddress: text() }, [])),
    ) as fc.Arbitrary<s.ProfileDownloadData>,
    eimTransactionId: transactionId,
  },
  [],
);

const profileDownloadTriggerResult = rec<s.ProfileDownloadTriggerResult>(
  {
    eimTransactionId: transactionId,
    profileDownloadTriggerResultData: fc.oneof(
      chosen('profileInstallationResult', fromRsp<rsp.ProfileInstallationResult>('ProfileInstallationResult')),
      chosen('profileDownloadError', rec<s.ProfileDownloadError>({ profileDownloadErrorReason: small, errorResponse: bytes(0, 16) }, ['profileDownloadErrorReason'])),
    ) as fc.Arbitrary<s.ProfileDownloadTriggerResultData>,
  },
  ['profileDownloadTriggerResultData'],
);

const acknowledgements = list(int);
const ePRAndNotifications = rec<s.EPRAndNotifications>(
  { euiccPackageResult, notificationList: fc.array(pendingNotification, { maxLength: 2 }) },
  ['euiccPackageResult', 'notificationList'],
);

const provideEimPackageResult = rec<s.ProvideEimPackageResult>(
  {
    eidValue: eid,
    eimPackageResult: fc.oneof(
      chosen('euiccPackageResult', euiccPackageResult),
      chosen('ePRAndNotifications', ePRAndNotifications),
      chosen('ipaEuiccDataResponse', ipaEuiccDataResponse),
      chosen('profileDownloadTriggerResult', profileDownloadTriggerResult),
      chosen(
        'eimPackageResultResponseError',
        rec<s.EimPackageResultResponseError>({ eimTransactionId: transactionId, eimPackageResultErrorCode: small }, ['eimPackageResultErrorCode']),
      ),
    ) as fc.Arbitrary<s.EimPackageResult>,
  },
  ['eimPackageResult'],
);

const ctxParams1 = fromRsp<rsp.AuthenticateServerRequest>('AuthenticateServerRequest').map((r) => r.ctxParams1);
const compactEuiccSigned1 = rec<s.CompactEuiccSigned1>({ extCardResource: bytes(0, 16), ctxParams1 }, ['extCardResource']);
const compactSignedData: fc.Arbitrary<s.CompactSignedData> = fc.oneof(
  chosen('euiccSigned1', fromRsp<rsp.EuiccSigned1>('EuiccSigned1')),
  chosen('compactEuiccSigned1', compactEuiccSigned1),
) as fc.Arbitrary<s.CompactSignedData>;
const authenticateServerResponse: fc.Arbitrary<s.AuthenticateServerResponse> = fc.oneof(
  fromRsp<rsp.AuthenticateServerResponse>('AuthenticateServerResponse'),
  chosen(
    'compactAuthenticateResponseOk',
    rec<s.CompactAuthenticateResponseOk>(
      { signedData: captureOf(s.CompactSignedData, compactSignedData), euiccSignature1: signature, euiccCertificate: certificate, eumCertificate: certificate },
      ['signedData', 'euiccSignature1'],
    ),
  ),
) as fc.Arbitrary<s.AuthenticateServerResponse>;

const storeMetadataRequest = fromRsp<rsp.StoreMetadataRequest>('StoreMetadataRequest').chain((base) =>
  rec<Pick<s.StoreMetadataRequest, 'ecallIndication' | 'fallbackAllowed'>>({ ecallIndication: fc.boolean(), fallbackAllowed: fc.boolean() }, []).map(
    (extra) => ({ ...base, ...extra }) as s.StoreMetadataRequest,
  ),
);

const prepareDownloadResponse: fc.Arbitrary<s.PrepareDownloadResponse> = fc.oneof(
  fromRsp<rsp.PrepareDownloadResponse>('PrepareDownloadResponse'),
  chosen(
    'compactDownloadResponseOk',
    rec<s.CompactPrepareDownloadResponseOk>(
      {
        compactEuiccSigned2: captureOf(s.CompactEuiccSigned2, rec<s.CompactEuiccSigned2>({ euiccOtpk: bytes(0, 65), hashCc: octets(32) }, [])),
        euiccSignature2: signature,
      },
      ['compactEuiccSigned2', 'euiccSignature2'],
    ),
  ),
) as fc.Arbitrary<s.PrepareDownloadResponse>;

const cancelSessionResponse: fc.Arbitrary<s.CancelSessionResponse> = fc.oneof(
  fromRsp<rsp.CancelSessionResponse>('CancelSessionResponse'),
  chosen(
    'compactCancelSessionResponseOk',
    rec<s.CompactCancelSessionResponseOk>(
      {
        compactEuiccCancelSessionSigned: captureOf(s.CompactEuiccCancelSessionSigned, rec<s.CompactEuiccCancelSessionSigned>({ reason: small }, [])),
        euiccCancelSessionSignature: signature,
      },
      ['compactEuiccCancelSessionSigned', 'euiccCancelSessionSignature'],
    ),
  ),
) as fc.Arbitrary<s.CancelSessionResponse>;

const handleNotificationEsipa: fc.Arbitrary<s.HandleNotificationEsipa> = fc.oneof(
  chosen('pendingNotification', pendingNotification),
  chosen('provideEimPackageResult', provideEimPackageResult),
) as fc.Arbitrary<s.HandleNotificationEsipa>;

const transferEimPackageResponse: fc.Arbitrary<s.TransferEimPackageResponse> = fc.oneof(
  chosen('euiccPackageResult', euiccPackageResult),
  chosen('ePRAndNotifications', ePRAndNotifications),
  chosen('ipaEuiccDataResponse', ipaEuiccDataResponse),
  chosen('eimPackageReceived', nul),
  chosen('eimPackageError', small),
) as fc.Arbitrary<s.TransferEimPackageResponse>;

const getEimPackageRequest = rec<s.GetEimPackageRequest>({ eidValue: eid, notifyStateChange: nul, stateChangeCause: small, rPLMN: octets(3) }, ['eidValue']);

const initiateAuthenticationRequestEsipa = rec<s.InitiateAuthenticationRequestEsipa>(
  { euiccChallenge: octets(16), smdpAddress: text(), euiccInfo1: fromRsp<rsp.EUICCInfo1>('EUICCInfo1'), eimTransactionId: transactionId },
  ['euiccChallenge'],
);
const authenticateClientRequestEsipa = rec<s.AuthenticateClientRequestEsipa>({ transactionId, authenticateServerResponse }, [
  'transactionId',
  'authenticateServerResponse',
]);
const getBoundProfilePackageRequestEsipa = rec<s.GetBoundProfilePackageRequestEsipa>({ transactionId, prepareDownloadResponse }, [
  'transactionId',
  'prepareDownloadResponse',
]);
const cancelSessionRequestEsipa = rec<s.CancelSessionRequestEsipa>({ transactionId, cancelSessionResponse }, ['transactionId', 'cancelSessionResponse']);

const initiateAuthenticationResponseEsipa: fc.Arbitrary<s.InitiateAuthenticationResponseEsipa> = fc.oneof(
  chosen(
    'initiateAuthenticationOkEsipa',
    rec<s.InitiateAuthenticationOkEsipa>(
      {
        transactionId,
        serverSigned1: captureOf(rsp.ServerSigned1, fromRsp<rsp.ServerSigned1>('ServerSigned1')),
        serverSignature1: signature,
        euiccCiPKIdentifierToBeUsed: bytes(0, 20),
        serverCertificate: certificate,
        matchingId: text(),
        ctxParams1,
      },
      ['serverSigned1', 'serverSignature1', 'euiccCiPKIdentifierToBeUsed', 'serverCertificate'],
    ),
  ),
  chosen('initiateAuthenticationErrorEsipa', small),
) as fc.Arbitrary<s.InitiateAuthenticationResponseEsipa>;

const authenticateClientResponseEsipa: fc.Arbitrary<s.AuthenticateClientResponseEsipa> = fc.oneof(
  chosen(
    'authenticateClientOkDPEsipa',
    rec<s.AuthenticateClientOkDPEsipa>(
      {
        transactionId,
        profileMetaData: storeMetadataRequest,
        smdpSigned2: captureOf(rsp.SmdpSigned2, fromRsp<rsp.SmdpSigned2>('SmdpSigned2')),
        smdpSignature2: signature,
        smdpCertificate: certificate,
        hashCc: octets(32),
      },
      ['smdpSigned2', 'smdpSignature2', 'smdpCertificate'],
    ),
  ),
  chosen(
    'authenticateClientOkDSEsipa',
    rec<s.AuthenticateClientOkDSEsipa>({ transactionId, profileDownloadTrigger: profileDownloadTriggerRequest }, ['transactionId']),
  ),
  chosen('authenticateClientErrorEsipa', small),
) as fc.Arbitrary<s.AuthenticateClientResponseEsipa>;

const getBoundProfilePackageResponseEsipa: fc.Arbitrary<s.GetBoundProfilePackageResponseEsipa> = fc.oneof(
  chosen(
    'getBoundProfilePackageOkEsipa',
    rec<s.GetBoundProfilePackageOkEsipa>({ transactionId, boundProfilePackage: fromRsp<rsp.BoundProfilePackage>('BoundProfilePackage') }, [
      'boundProfilePackage',
    ]),
  ),
  chosen('getBoundProfilePackageErrorEsipa', small),
) as fc.Arbitrary<s.GetBoundProfilePackageResponseEsipa>;

const cancelSessionResponseEsipa: fc.Arbitrary<s.CancelSessionResponseEsipa> = fc.oneof(
  chosen('cancelSessionOk', empty),
  chosen('cancelSessionError', small),
) as fc.Arbitrary<s.CancelSessionResponseEsipa>;

const transferEimPackageRequest: fc.Arbitrary<s.TransferEimPackageRequest> = fc.oneof(
  chosen('euiccPackageRequest', euiccPackageRequest),
  chosen('ipaEuiccDataRequest', ipaEuiccDataRequest),
  chosen('eimAcknowledgements', acknowledgements),
  chosen('profileDownloadTriggerRequest', profileDownloadTriggerRequest),
) as fc.Arbitrary<s.TransferEimPackageRequest>;

const getEimPackageResponse: fc.Arbitrary<s.GetEimPackageResponse> = fc.oneof(
  chosen('euiccPackageRequest', euiccPackageRequest),
  chosen('ipaEuiccDataRequest', ipaEuiccDataRequest),
  chosen('profileDownloadTriggerRequest', profileDownloadTriggerRequest),
  chosen('eimPackageError', small),
) as fc.Arbitrary<s.GetEimPackageResponse>;

const provideEimPackageResultResponse: fc.Arbitrary<s.ProvideEimPackageResultResponse> = fc.oneof(
  chosen('eimAcknowledgements', acknowledgements),
  chosen('emptyResponse', empty),
  chosen('provideEimPackageResultError', small),
) as fc.Arbitrary<s.ProvideEimPackageResultResponse>;

export const SGP32_ARBITRARIES: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  EuiccPackageSigned: euiccPackageSigned,
  EuiccPackageRequest: euiccPackageRequest,
  EimConfigurationData: eimConfigurationData,
  EuiccPackageResultDataSigned: euiccPackageResultDataSigned,
  EuiccPackageErrorDataSigned: euiccPackageErrorDataSigned,
  EuiccPackageResult: euiccPackageResult,
  ProfileInfoListResponse: profileInfoListResponse,
  AddInitialEimRequest: rec<s.AddInitialEimRequest>({ eimConfigurationDataList: list(eimConfigurationData) }, ['eimConfigurationDataList']),
  AddInitialEimResponse: fc.oneof(
    chosen('addInitialEimOk', list(fc.oneof(chosen('associationToken', int), chosen('addOk', nul)))),
    chosen('addInitialEimError', small),
  ),
  GetEimConfigurationDataRequest: rec<s.GetEimConfigurationDataRequest>({ searchCriteria: chosen('eimId', eimId) }, []),
  GetEimConfigurationDataResponse: rec<s.GetEimConfigurationDataResponse>({ eimConfigurationDataList: list(eimConfigurationData) }, [
    'eimConfigurationDataList',
  ]),
  GetCertsRequest: rec<s.GetCertsRequest>({ euiccCiPKId: bytes(0, 20) }, []),
  GetCertsResponse: fc.oneof(
    chosen('certs', rec<s.Certs>({ eumCertificate: certificate, euiccCertificate: certificate }, ['eumCertificate', 'euiccCertificate'])),
    chosen('getCertsError', small),
  ),
  ImmediateEnableRequest: refresh,
  ImmediateEnableResponse: result('immediateEnableResult'),
  ProfileRollbackRequest: refresh,
  ProfileRollbackResponse: rec<s.ProfileRollbackResponse>({ cmdResult: small, eUICCPackageResult: euiccPackageResult }, ['cmdResult']),
  ConfigureImmediateProfileEnablingRequest: configureImmediateEnable,
  ConfigureImmediateProfileEnablingResponse: result('configImmediateEnableResult'),
  EnableEmergencyProfileRequest: refresh,
  EnableEmergencyProfileResponse: result('enableEmergencyProfileResult'),
  DisableEmergencyProfileRequest: refresh,
  DisableEmergencyProfileResponse: result('disableEmergencyProfileResult'),
  ExecuteFallbackMechanismRequest: refresh,
  ExecuteFallbackMechanismResponse: result('executeFallbackMechanismResult'),
  ReturnFromFallbackRequest: refresh,
  ReturnFromFallbackResponse: result('returnFromFallbackResult'),
  GetConnectivityParametersRequest: empty,
  GetConnectivityParametersResponse: fc.oneof(
    chosen('connectivityParameters', rec<s.ConnectivityParameters>({ httpParams: bytes(0, 24) }, [])),
    chosen('connectivityParametersError', small),
  ),
  EuiccMemoryResetRequest: rec<s.EuiccMemoryResetRequest>({ resetOptions: bitString }, ['resetOptions']),
  EuiccMemoryResetResponse: rec<s.EuiccMemoryResetResponse>(
    { resetResult: small, resetEimResult: small, resetImmediateEnableConfigResult: small },
    ['resetResult'],
  ),
  IsdrProprietaryApplicationTemplateIoT: rec<s.IsdrProprietaryApplicationTemplateIoT>({ euiccConfiguration: bitString }, ['euiccConfiguration']),
  IpaeActivationRequest: rec<s.IpaeActivationRequest>({ ipaeOption: bitString }, ['ipaeOption']),
  IpaeActivationResponse: result('ipaeActivationResult'),
  SetDefaultDpAddressRequest: setDefaultDpAddressRequest,
  SetDefaultDpAddressResponse: result('setDefaultDpAddressResult'),
  PendingNotification: pendingNotification,
  RetrieveNotificationsListRequest: rec<s.RetrieveNotificationsListRequest>(
    { searchCriteria: fc.oneof(chosen('seqNumber', int), chosen('profileManagementOperation', bitString), chosen('euiccPackageResults', nul)) },
    [],
  ),
  RetrieveNotificationsListResponse: fc.oneof(
    chosen('notificationList', fc.array(pendingNotification, { maxLength: 2 })),
    chosen('notificationsListResultError', small),
    chosen('euiccPackageResultList', fc.array(euiccPackageResult, { maxLength: 2 })),
  ),
  IpaEuiccDataRequest: ipaEuiccDataRequest,
  IpaEuiccDataResponse: ipaEuiccDataResponse,
  ProfileDownloadTriggerRequest: profileDownloadTriggerRequest,
  ProfileDownloadTriggerResult: profileDownloadTriggerResult,
  EimAcknowledgements: acknowledgements,
  GetEimPackageRequest: getEimPackageRequest,
  GetEimPackageResponse: getEimPackageResponse,
  ProvideEimPackageResult: provideEimPackageResult,
  ProvideEimPackageResultResponse: provideEimPackageResultResponse,
  TransferEimPackageRequest: transferEimPackageRequest,
  TransferEimPackageResponse: transferEimPackageResponse,
  InitiateAuthenticationRequestEsipa: initiateAuthenticationRequestEsipa,
  InitiateAuthenticationResponseEsipa: initiateAuthenticationResponseEsipa,
  AuthenticateServerResponse: authenticateServerResponse,
  AuthenticateClientRequestEsipa: authenticateClientRequestEsipa,
  AuthenticateClientRequest: authenticateClientRequestEsipa,
  StoreMetadataRequest: storeMetadataRequest,
  AuthenticateClientResponseEsipa: authenticateClientResponseEsipa,
  PrepareDownloadResponse: prepareDownloadResponse,
  GetBoundProfilePackageRequestEsipa: getBoundProfilePackageRequestEsipa,
  GetBoundProfilePackageResponseEsipa: getBoundProfilePackageResponseEsipa,
  CancelSessionResponse: cancelSessionResponse,
  CancelSessionRequestEsipa: cancelSessionRequestEsipa,
  CancelSessionResponseEsipa: cancelSessionResponseEsipa,
  HandleNotificationEsipa: handleNotificationEsipa,
  EsipaMessageFromIpaToEim: fc.oneof(
    chosen('initiateAuthenticationRequestEsipa', initiateAuthenticationRequestEsipa),
    chosen('authenticateClientRequestEsipa', authenticateClientRequestEsipa),
    chosen('getBoundProfilePackageRequestEsipa', getBoundProfilePackageRequestEsipa),
    chosen('cancelSessionRequestEsipa', cancelSessionRequestEsipa),
    chosen('handleNotificationEsipa', handleNotificationEsipa),
    chosen('transferEimPackageResponse', transferEimPackageResponse),
    chosen('getEimPackageRequest', getEimPackageRequest),
    chosen('provideEimPackageResult', provideEimPackageResult),
  ),
  EsipaMessageFromEimToIpa: fc.oneof(
    chosen('initiateAuthenticationResponseEsipa', initiateAuthenticationResponseEsipa),
    chosen('authenticateClientResponseEsipa', authenticateClientResponseEsipa),
    chosen('getBoundProfilePackageResponseEsipa', getBoundProfilePackageResponseEsipa),
    chosen('cancelSessionResponseEsipa', cancelSessionResponseEsipa),
    chosen('transferEimPackageRequest', transferEimPackageRequest),
    chosen('getEimPackageResponse', getEimPackageResponse),
    chosen('provideEimPackageResultResponse', provideEimPackageResultResponse),
  ),
};
