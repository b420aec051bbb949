// SGP.32 v1.2 SGP32Definitions (the normative ASN.1 module of SGP.32, Annex A) as typed codecs: eIM packages (PSMO/eCO),
// their results, the ES10b additions and the ESipa messages. Types imported from RSPDefinitions reuse rsp.ts.
import { Asn1Error } from '../errors.js';
import type { BitString } from '../primitives.js';
import {
  alternative,
  application,
  bitString,
  boolean,
  captured,
  choice,
  explicit,
  field,
  implicit,
  integer,
  nullValue,
  octetString,
  oid,
  optional,
  privateTag,
  sequence,
  sequenceOf,
  sizedUtf8String,
  utf8String,
  type Captured,
  type Chosen,
  type Codec,
  type Field,
  type TaggedCodec,
} from '../schema.js';
import { decodeTlv, encodeTlv } from '../tlv.js';
import * as rsp from './rsp.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/** SGP32Definitions declares EXTENSIBILITY IMPLIED: unknown trailing components are skipped and reported. */
function seq<T extends object>(name: string, fields: readonly Field[]): TaggedCodec<T> {
  return sequence<T>(name, fields, { extensible: true });
}

export type Empty = Record<string, never>;

/**
 * A SEQUENCE-typed X.509 value (Certificate, SubjectPublicKeyInfo) under an IMPLICIT context tag (AUTOMATIC TAGS, e.g.
 * `eumCertificate [5] Certificate` is A5 around the certificate's contents): kept as the universal-SEQUENCE DER, so the
 * PKI decodes it as usual; the tagged form is re-emitted byte for byte.
 */
function implicitDer(n: number, name: string): TaggedCodec<Buffer> {
  const base: TaggedCodec<Buffer> = {
    name,
    tag: 0x30,
    constructed: true,
    matches: (t) => t === 0x30,
    decodeContent: (tlv) => encodeTlv(0x30, tlv.value),
    encodeContent: (der) => {
      const t = decodeTlv(der);
      if (t.tag !== 0x30) throw new Asn1Error('ENCODE_ERROR', `${name}: DER must be a SEQUENCE`);
      return Buffer.from(t.value);
    },
    decode: (tlv) => Buffer.from(tlv.raw),
    encode: (der) => Buffer.from(der),
  };
  return implicit(n, base);
}

// ---------------------------------------------------------------------------------------------
// Input budgets (docs/architecture.md, The codec): SGP32Definitions bounds none of its lists; mcim does.
// ---------------------------------------------------------------------------------------------

/** PSMOs or eCOs in one eUICC Package, and results in one EuiccPackageResult. */
export const MAX_EUICC_PACKAGE_OPERATIONS = 32;
/** eIMs associated with one eUICC (eIM configuration data lists, listEim results, AddInitialEim results). */
export const MAX_EIMS = 16;
/** EuiccPackageResults an eUICC keeps and returns (IpaEuiccData.euiccPackageResultList). */
export const MAX_EUICC_PACKAGE_RESULTS = 64;
/** Sequence numbers acknowledged by one EimAcknowledgements. */
export const MAX_EIM_ACKNOWLEDGEMENTS = rsp.MAX_NOTIFICATIONS;
/** profileDownloadError.errorResponse: an ES9+/ESipa error as relayed bytes. */
export const MAX_ERROR_RESPONSE = 4 * 1024;
/** ConnectivityParameters.httpParams: proxy and APN settings of the IoT device. */
export const MAX_CONNECTIVITY_PARAMETERS = 1024;

/** 5F37: a plain r || s signature (EIM_Sign, EUICC_Sign_EPR...). */
const Signature = application(55, octetString({ max: rsp.MAX_SIGNATURE }));
const EidValue = application(26, rsp.Octet16);
const EimId = sizedUtf8String(1, 128);

// ---------------------------------------------------------------------------------------------
// Named values
// ---------------------------------------------------------------------------------------------

export const EimIdType = { eimIdTypeOid: 1, eimIdTypeFqdn: 2, eimIdTypeProprietary: 3 } as const;
export const EimSupportedProtocol = { eimRetrieveHttps: 0, eimRetrieveCoaps: 1, eimInjectHttps: 2, eimInjectCoaps: 3, eimProprietary: 4 } as const;
export const EuiccPackageErrorCode = {
  invalidEid: 3,
  replayError: 4,
  counterValueOutOfRange: 6,
  sizeOverflow: 15,
  ecallActive: 104,
  undefinedError: 127,
} as const;
export const ProcessingTerminated = { resultSizeOverflow: 1, unknownOrDamagedCommand: 2, interruption: 3, undefinedError: 127 } as const;
export const ConfigureImmediateEnableResult = { ok: 0, insufficientMemory: 1, commandError: 7, undefinedError: 127 } as const;
export const EnableProfileResult = {
  ok: 0,
  iccidOrAidNotFound: 1,
  profileNotInDisabledState: 2,
  disallowedByPolicy: 3,
  catBusy: 5,
  rollbackNotAvailable: 20,
  undefinedError: 127,
} as const;
export const DisableProfileResult = { ok: 0, iccidOrAidNotFound: 1, profileNotInEnabledState: 2, disallowedByPolicy: 3, catBusy: 5, undefinedError: 127 } as const;
export const DeleteProfileResult = {
  ok: 0,
  iccidOrAidNotFound: 1,
  profileNotInDisabledState: 2,
  disallowedByPolicy: 3,
  rollbackNotAvailable: 20,
  returnFallbackProfile: 21,
  undefinedError: 127,
} as const;
export const ProfileInfoListError = { incorrectInputValues: 1, profileChangeOngoing: 11, undefinedError: 127 } as const;
export const RollbackProfileResult = { ok: 0, undefinedError: 127 } as const;
export const SetFallbackAttributeResult = { ok: 0, iccidOrAidNotFound: 1, fallbackNotAllowed: 2, fallbackProfileEnabled: 3, undefinedError: 127 } as const;
export const UnsetFallbackAttributeResult = { ok: 0, noFallbackAttribute: 2, fallbackProfileEnabled: 3, commandError: 7, undefinedError: 127 } as const;
export const AddEimResultCode = {
  ok: 0,
  insufficientMemory: 1,
  associatedEimAlreadyExists: 2,
  ciPKUnknown: 3,
  invalidAssociationToken: 5,
  counterValueOutOfRange: 6,
  commandError: 7,
  undefinedError: 127,
} as const;
export const DeleteEimResult = { ok: 0, eimNotFound: 1, lastEimDeleted: 2, commandError: 7, undefinedError: 127 } as const;
export const UpdateEimResult = { ok: 0, eimNotFound: 1, ciPKUnknown: 3, counterValueOutOfRange: 6, commandError: 7, undefinedError: 127 } as const;
export const ListEimError = { undefinedError: 127 } as const;
export const SetDefaultDpAddressResult = { ok: 0, undefinedError: 127 } as const;
export const AddInitialEimError = {
  insufficientMemory: 1,
  associatedEimAlreadyExists: 2,
  ciPKUnknown: 3,
  invalidAssociationToken: 5,
  counterValueOutOfRange: 6,
  commandError: 7,
  undefinedError: 127,
} as const;
/** SGP32-EuiccMemoryResetRequest resetOptions: SGP.22's three bits and SGP.32's additions. */
export const ResetOption = {
  ...rsp.ResetOption,
  deletePreLoadedTestProfiles: 3,
  deleteProvisioningProfiles: 4,
  resetEimConfigData: 5,
  resetImmediateEnableConfig: 6,
} as const;
export const ResetResult = { ok: 0, nothingToDelete: 1, catBusy: 5, ecallActive: 104, undefinedError: 127 } as const;
export const ResetEimResult = { ok: 0, nothingToDelete: 1, eimResetNotSupported: 2, undefinedError: 127 } as const;
export const ResetImmediateEnableConfigResult = { ok: 0, resetIECNotSupported: 1, undefinedError: 127 } as const;
export const GetCertsError = { invalidCiPKId: 1, undfinedError: 127 } as const;
export const ImmediateEnableResult = { ok: 0, immediateEnableNotAvailable: 1, noSessionContext: 4, catBusy: 5, undefinedError: 127 } as const;
export const ProfileRollbackResult = { ok: 0, rollbackNotAllowed: 1, catBusy: 5, commandError: 7, undefinedError: 127 } as const;
export const ConfigImmediateEnableResult = { ok: 0, insufficientMemory: 1, associatedEimAlreadyExists: 2, undefinedError: 127 } as const;
export const ExecuteFallbackMechanismResult = {
  ok: 0,
  profileNotInDisabledState: 2,
  catBusy: 5,
  fallbackNotAvailable: 6,
  commandError: 7,
  ecallActive: 104,
  undefinedError: 127,
} as const;
export const ReturnFromFallbackResult = { ok: 0, catBusy: 5, fallbackNotAvailable: 6, commandError: 7, undefinedError: 127 } as const;
export const EnableEmergencyProfileResult = { ok: 0, profileNotInDisabledState: 2, catBusy: 5, ecallNotAvailable: 8, undefinedError: 127 } as const;
export const DisableEmergencyProfileResult = { ok: 0, profileNotInEnabledState: 2, catBusy: 5, undefinedError: 127 } as const;
export const ConnectivityParametersError = { parametersNotAvailable: 1, undefinedError: 127 } as const;

// ---------------------------------------------------------------------------------------------
// eIM configuration data (SGP.32 2.11.1)
// ---------------------------------------------------------------------------------------------

/** eimPublicKeyData / trustedPublicKeyDataTls: [0] a public key or [1] a certificate, each kept as its universal DER. */
export type EimKeyData<A extends string, B extends string> = Chosen<A, Buffer> | Chosen<B, Buffer>;

export interface EimConfigurationData {
  eimId: string;
  eimFqdn?: string;
  eimIdType?: number;
  counterValue?: number;
  associationToken?: number;
  eimPublicKeyData?: EimKeyData<'eimPublicKey', 'eimCertificate'>;
  trustedPublicKeyDataTls?: EimKeyData<'trustedEimPkTls', 'trustedCertificateTls'>;
  eimSupportedProtocol?: BitString;
  euiccCiPKId?: Buffer;
  indirectProfileDownload?: null;
}

function keyData<A extends string, B extends string>(n: number, name: string, a: A, b: B): TaggedCodec<EimKeyData<A, B>> {
  return explicit(
    n,
    choice<EimKeyData<A, B>>(name, [alternative(a, implicitDer(0, 'SubjectPublicKeyInfo')), alternative(b, implicitDer(1, 'Certificate'))]),
  );
}

export const EimConfigurationData = seq<EimConfigurationData>('EimConfigurationData', [
  field('eimId', implicit(0, EimId)),
  optional('eimFqdn', implicit(1, utf8String)),
  optional('eimIdType', implicit(2, integer)),
  optional('counterValue', implicit(3, integer)),
  optional('associationToken', implicit(4, integer)),
  optional('eimPublicKeyData', keyData(5, 'eimPublicKeyData', 'eimPublicKey', 'eimCertificate')),
  optional('trustedPublicKeyDataTls', keyData(6, 'trustedPublicKeyDataTls', 'trustedEimPkTls', 'trustedCertificateTls')),
  optional('eimSupportedProtocol', implicit(7, bitString)),
  optional('euiccCiPKId', implicit(8, rsp.SubjectKeyIdentifier)),
  optional('indirectProfileDownload', implicit(9, nullValue)),
]);

const EimConfigurationDataList = sequenceOf(EimConfigurationData, { max: MAX_EIMS });

// ---------------------------------------------------------------------------------------------
// eUICC Package (PSMOs and eCOs) and EuiccPackageRequest (BF51)
// ---------------------------------------------------------------------------------------------

export interface IccidOnly {
  iccid: Buffer;
}
export interface EnablePsmo {
  iccid: Buffer;
  rollbackFlag?: null;
}
export interface ConfigureImmediateEnable {
  immediateEnableFlag?: null;
  defaultSmdpOid?: string;
  defaultSmdpAddress?: string;
}
export interface SetDefaultDpAddressRequest {
  defaultDpAddress: string;
}

/** SGP32-SetDefaultDpAddressRequest, tag BF65. */
export const SetDefaultDpAddressRequest = implicit(
  101,
  seq<SetDefaultDpAddressRequest>('SGP32-SetDefaultDpAddressRequest', [field('defaultDpAddress', implicit(0, utf8String))]),
);

const iccidOnly = (name: string): TaggedCodec<IccidOnly> => seq<IccidOnly>(name, [field('iccid', rsp.Iccid)]);
const ConfigureImmediateEnableFields: readonly Field[] = [
  optional('immediateEnableFlag', implicit(0, nullValue)),
  optional('defaultSmdpOid', implicit(1, oid)),
  optional('defaultSmdpAddress', implicit(2, utf8String)),
];

export type Psmo =
  | Chosen<'enable', EnablePsmo>
  | Chosen<'disable', IccidOnly>
  | Chosen<'delete', IccidOnly>
  | Chosen<'listProfileInfo', rsp.ProfileInfoListRequest>
  | Chosen<'getRAT', Empty>
  | Chosen<'configureImmediateEnable', ConfigureImmediateEnable>
  | Chosen<'setFallbackAttribute', IccidOnly>
  | Chosen<'unsetFallbackAttribute', Empty>
  | Chosen<'setDefaultDpAddress', SetDefaultDpAddressRequest>;

/** Profile State Management Operation: A3 enable, A4 disable, A5 delete, BF2D listProfileInfo, A6 getRAT, A7
 * configureImmediateEnable, A8 setFallbackAttribute, A9 unsetFallbackAttribute, BF65 setDefaultDpAddress. */
export const Psmo = choice<Psmo>('Psmo', [
  alternative('enable', implicit(3, seq<EnablePsmo>('enable', [field('iccid', rsp.Iccid), optional('rollbackFlag', nullValue)]))),
  alternative('disable', implicit(4, iccidOnly('disable'))),
  alternative('delete', implicit(5, iccidOnly('delete'))),
  alternative('listProfileInfo', rsp.ProfileInfoListRequest),
  alternative('getRAT', implicit(6, seq<Empty>('getRAT', []))),
  alternative('configureImmediateEnable', implicit(7, seq<ConfigureImmediateEnable>('configureImmediateEnable', ConfigureImmediateEnableFields))),
  alternative('setFallbackAttribute', implicit(8, iccidOnly('setFallbackAttribute'))),
  alternative('unsetFallbackAttribute', implicit(9, seq<Empty>('unsetFallbackAttribute', []))),
  alternative('setDefaultDpAddress', SetDefaultDpAddressRequest),
]);

export interface DeleteEim {
  eimId: string;
}

export type Eco =
  | Chosen<'addEim', EimConfigurationData>
  | Chosen<'deleteEim', DeleteEim>
  | Chosen<'updateEim', EimConfigurationData>
  | Chosen<'listEim', Empty>;

/** eIM Configuration Operation: A8 addEim, A9 deleteEim, AA updateEim, AB listEim. */
export const Eco = choice<Eco>('Eco', [
  alternative('addEim', implicit(8, EimConfigurationData)),
  alternative('deleteEim', implicit(9, seq<DeleteEim>('deleteEim', [field('eimId', implicit(0, utf8String))]))),
  alternative('updateEim', implicit(10, EimConfigurationData)),
  alternative('listEim', implicit(11, seq<Empty>('listEim', []))),
]);

export type EuiccPackage = Chosen<'psmoList', Psmo[]> | Chosen<'ecoList', Eco[]>;

/** EuiccPackage: A0 (PSMOs) or A1 (eCOs), AUTOMATIC TAGS. */
export const EuiccPackage = choice<EuiccPackage>('EuiccPackage', [
  alternative('psmoList', implicit(0, sequenceOf(Psmo, { max: MAX_EUICC_PACKAGE_OPERATIONS }))),
  alternative('ecoList', implicit(1, sequenceOf(Eco, { max: MAX_EUICC_PACKAGE_OPERATIONS }))),
]);

export interface EuiccPackageSigned {
  eimId: string;
  eidValue: Buffer;
  counterValue: number;
  eimTransactionId?: Buffer;
  euiccPackage: EuiccPackage;
}

export const EuiccPackageSigned = seq<EuiccPackageSigned>('EuiccPackageSigned', [
  field('eimId', implicit(0, EimId)),
  field('eidValue', EidValue),
  field('counterValue', implicit(1, integer)),
  optional('eimTransactionId', implicit(2, rsp.TransactionId)),
  field('euiccPackage', EuiccPackage),
]);

export interface EuiccPackageRequest {
  /** Signed by the eIM over these exact bytes, then `84 len associationToken` (eimSignature). */
  euiccPackageSigned: Captured<EuiccPackageSigned>;
  eimSignature: Buffer;
}

/** EuiccPackageRequest, tag BF51. */
export const EuiccPackageRequest = implicit(
  81,
  seq<EuiccPackageRequest>('EuiccPackageRequest', [field('euiccPackageSigned', captured(EuiccPackageSigned)), field('eimSignature', Signature)]),
);

// ---------------------------------------------------------------------------------------------
// EuiccPackageResult (BF51)
// ---------------------------------------------------------------------------------------------

export interface Sgp32ProfileInfo extends rsp.ProfileInfo {
  ecallIndication?: boolean;
  /** DEFAULT FALSE: absent means not a Fallback Profile. */
  fallbackAttribute?: boolean;
  fallbackAllowed?: boolean;
}

/** SGP32-ProfileInfo, tag E3: SGP.22's ProfileInfo with the eCall and fallback attributes. */
export const Sgp32ProfileInfo = privateTag(
  3,
  seq<Sgp32ProfileInfo>('SGP32-ProfileInfo', [
    optional('iccid', rsp.Iccid),
    optional('isdpAid', rsp.IsdpAid),
    optional('profileState', implicit(112, integer)),
    optional('profileNickname', implicit(16, sizedUtf8String(0, 64))),
    optional('serviceProviderName', implicit(17, sizedUtf8String(0, 32))),
    optional('profileName', implicit(18, sizedUtf8String(0, 64))),
    optional('iconType', implicit(19, integer)),
    optional('icon', implicit(20, octetString({ max: 1024 }))),
    optional('profileClass', implicit(21, integer)),
    optional('notificationConfigurationInfo', implicit(22, sequenceOf(rsp.NotificationConfigurationInformation, { max: rsp.MAX_NOTIFICATION_CONFIGURATIONS }))),
    optional('profileOwner', implicit(23, rsp.OperatorId)),
    optional('dpProprietaryData', implicit(24, rsp.DpProprietaryData)),
    optional('profilePolicyRules', implicit(25, bitString)),
    optional('serviceSpecificDataStoredInEuicc', implicit(34, rsp.VendorSpecificExtension)),
    optional('ecallIndication', implicit(123, boolean)),
    optional('fallbackAttribute', implicit(38, boolean)),
    optional('fallbackAllowed', implicit(103, boolean)),
  ]),
);

export type Sgp32ProfileInfoListResponse = Chosen<'profileInfoListOk', Sgp32ProfileInfo[]> | Chosen<'profileInfoListError', number>;

/** SGP32-ProfileInfoListResponse, tag BF2D around A0 (list of E3) or 81 (error). */
export const Sgp32ProfileInfoListResponse = explicit(
  45,
  choice<Sgp32ProfileInfoListResponse>('SGP32-ProfileInfoListResponse', [
    alternative('profileInfoListOk', implicit(0, sequenceOf(Sgp32ProfileInfo, { max: rsp.MAX_PROFILES }))),
    alternative('profileInfoListError', implicit(1, integer)),
  ]),
);

export interface SetDefaultDpAddressResponse {
  setDefaultDpAddressResult: number;
}

/** SGP32-SetDefaultDpAddressResponse, tag BF65. */
export const SetDefaultDpAddressResponse = implicit(
  101,
  seq<SetDefaultDpAddressResponse>('SGP32-SetDefaultDpAddressResponse', [field('setDefaultDpAddressResult', implicit(0, integer))]),
);

export type AddEimResult = Chosen<'associationToken', number> | Chosen<'addEimResultCode', number>;

export interface EimIdInfo {
  eimId: string;
  eimIdType?: number;
}

export const EimIdInfo = seq<EimIdInfo>('EimIdInfo', [field('eimId', implicit(0, EimId)), optional('eimIdType', implicit(2, integer))]);

export type ListEimResult = Chosen<'eimIdList', EimIdInfo[]> | Chosen<'listEimError', number>;

export type EuiccResultData =
  | Chosen<'enableResult', number>
  | Chosen<'disableResult', number>
  | Chosen<'deleteResult', number>
  | Chosen<'listProfileInfoResult', Sgp32ProfileInfoListResponse>
  | Chosen<'getRATResult', rsp.ProfilePolicyAuthorisationRule[]>
  | Chosen<'configureImmediateEnableResult', number>
  | Chosen<'addEimResult', AddEimResult>
  | Chosen<'deleteEimResult', number>
  | Chosen<'updateEimResult', number>
  | Chosen<'listEimResult', ListEimResult>
  | Chosen<'rollbackResult', number>
  | Chosen<'setFallbackAttributeResult', number>
  | Chosen<'unsetFallbackAttributeResult', number>
  | Chosen<'processingTerminated', number>
  | Chosen<'setDefaultDpAddressResult', SetDefaultDpAddressResponse>;

/** One result per PSMO/eCO: 83..8E by operation (A6 RAT, A8 addEim, AB listEim, BF2D profiles, BF65), 02 processingTerminated. */
export const EuiccResultData = choice<EuiccResultData>('EuiccResultData', [
  alternative('enableResult', implicit(3, integer)),
  alternative('disableResult', implicit(4, integer)),
  alternative('deleteResult', implicit(5, integer)),
  alternative('listProfileInfoResult', Sgp32ProfileInfoListResponse),
  alternative('getRATResult', implicit(6, sequenceOf(rsp.ProfilePolicyAuthorisationRule, { max: rsp.MAX_RAT_RULES }))),
  alternative('configureImmediateEnableResult', implicit(7, integer)),
  alternative(
    'addEimResult',
    explicit(8, choice<AddEimResult>('AddEimResult', [alternative('associationToken', implicit(4, integer)), alternative('addEimResultCode', integer)])),
  ),
  alternative('deleteEimResult', implicit(9, integer)),
  alternative('updateEimResult', implicit(10, integer)),
  alternative(
    'listEimResult',
    explicit(
      11,
      choice<ListEimResult>('ListEimResult', [
        alternative('eimIdList', implicit(0, sequenceOf(EimIdInfo, { max: MAX_EIMS }))),
        alternative('listEimError', implicit(1, integer)),
      ]),
    ),
  ),
  alternative('rollbackResult', implicit(12, integer)),
  alternative('setFallbackAttributeResult', implicit(13, integer)),
  alternative('unsetFallbackAttributeResult', implicit(14, integer)),
  alternative('processingTerminated', integer),
  alternative('setDefaultDpAddressResult', SetDefaultDpAddressResponse),
]);

export interface EuiccPackageResultDataSigned {
  eimId: string;
  counterValue: number;
  eimTransactionId?: Buffer;
  seqNumber: number;
  euiccResult: EuiccResultData[];
}

export const EuiccPackageResultDataSigned = seq<EuiccPackageResultDataSigned>('EuiccPackageResultDataSigned', [
  field('eimId', implicit(0, EimId)),
  field('counterValue', implicit(1, integer)),
  optional('eimTransactionId', implicit(2, rsp.TransactionId)),
  field('seqNumber', implicit(3, integer)),
  field('euiccResult', sequenceOf(EuiccResultData, { max: MAX_EUICC_PACKAGE_OPERATIONS })),
]);

export interface EuiccPackageResultSigned {
  /** Signed by the eUICC over these exact bytes, then `84 len associationToken` (euiccSignEPR). */
  euiccPackageResultDataSigned: Captured<EuiccPackageResultDataSigned>;
  euiccSignEPR: Buffer;
}

export const EuiccPackageResultSigned = seq<EuiccPackageResultSigned>('EuiccPackageResultSigned', [
  field('euiccPackageResultDataSigned', captured(EuiccPackageResultDataSigned)),
  field('euiccSignEPR', Signature),
]);

export interface EuiccPackageErrorDataSigned {
  eimId: string;
  counterValue: number;
  eimTransactionId?: Buffer;
  euiccPackageErrorCode: number;
}

export const EuiccPackageErrorDataSigned = seq<EuiccPackageErrorDataSigned>('EuiccPackageErrorDataSigned', [
  field('eimId', implicit(0, EimId)),
  field('counterValue', implicit(1, integer)),
  optional('eimTransactionId', implicit(2, rsp.TransactionId)),
  field('euiccPackageErrorCode', integer),
]);

export interface EuiccPackageErrorSigned {
  /** Signed by the eUICC over these exact bytes, then `84 len associationToken` (euiccSignEPE). */
  euiccPackageErrorDataSigned: Captured<EuiccPackageErrorDataSigned>;
  euiccSignEPE: Buffer;
}

export const EuiccPackageErrorSigned = seq<EuiccPackageErrorSigned>('EuiccPackageErrorSigned', [
  field('euiccPackageErrorDataSigned', captured(EuiccPackageErrorDataSigned)),
  field('euiccSignEPE', Signature),
]);

export interface EuiccPackageErrorUnsigned {
  eimId: string;
  eimTransactionId?: Buffer;
  associationToken?: number;
}

export const EuiccPackageErrorUnsigned = seq<EuiccPackageErrorUnsigned>('EuiccPackageErrorUnsigned', [
  field('eimId', implicit(0, EimId)),
  optional('eimTransactionId', implicit(2, rsp.TransactionId)),
  optional('associationToken', implicit(4, integer)),
]);

export type EuiccPackageResult =
  | Chosen<'euiccPackageResultSigned', EuiccPackageResultSigned>
  | Chosen<'euiccPackageErrorSigned', EuiccPackageErrorSigned>
  | Chosen<'euiccPackageErrorUnsigned', EuiccPackageErrorUnsigned>;

/** EuiccPackageResult, tag BF51 around A0 (signed result), A1 (signed error) or A2 (unsigned error). */
export const EuiccPackageResult = explicit(
  81,
  choice<EuiccPackageResult>('EuiccPackageResult', [
    alternative('euiccPackageResultSigned', implicit(0, EuiccPackageResultSigned)),
    alternative('euiccPackageErrorSigned', implicit(1, EuiccPackageErrorSigned)),
    alternative('euiccPackageErrorUnsigned', implicit(2, EuiccPackageErrorUnsigned)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// ES10b additions of SGP.32 (5.9)
// ---------------------------------------------------------------------------------------------

export interface AddInitialEimRequest {
  eimConfigurationDataList: EimConfigurationData[];
}

/** ES10b.AddInitialEim request, tag BF57. */
export const AddInitialEimRequest = implicit(
  87,
  seq<AddInitialEimRequest>('AddInitialEimRequest', [field('eimConfigurationDataList', implicit(0, EimConfigurationDataList))]),
);

export type AddInitialEimOk = Chosen<'associationToken', number> | Chosen<'addOk', null>;
export type AddInitialEimResponse = Chosen<'addInitialEimOk', AddInitialEimOk[]> | Chosen<'addInitialEimError', number>;

/** ES10b.AddInitialEim response, tag BF57 around A0 (one 84 token or 05 per eIM) or 81 (error). */
export const AddInitialEimResponse = explicit(
  87,
  choice<AddInitialEimResponse>('AddInitialEimResponse', [
    alternative(
      'addInitialEimOk',
      implicit(
        0,
        sequenceOf(choice<AddInitialEimOk>('AddInitialEimOk', [alternative('associationToken', implicit(4, integer)), alternative('addOk', nullValue)]), {
          max: MAX_EIMS,
        }),
      ),
    ),
    alternative('addInitialEimError', implicit(1, integer)),
  ]),
);

export interface GetEimConfigurationDataRequest {
  searchCriteria?: Chosen<'eimId', string>;
}

/** ES10b.GetEimConfigurationData request, tag BF55; searchCriteria A0 around 80 eimId. */
export const GetEimConfigurationDataRequest = implicit(
  85,
  seq<GetEimConfigurationDataRequest>('GetEimConfigurationDataRequest', [
    optional('searchCriteria', explicit(0, choice<Chosen<'eimId', string>>('searchCriteria', [alternative('eimId', implicit(0, EimId))]))),
  ]),
);

export interface GetEimConfigurationDataResponse {
  eimConfigurationDataList: EimConfigurationData[];
}

/** ES10b.GetEimConfigurationData response, tag BF55. */
export const GetEimConfigurationDataResponse = implicit(
  85,
  seq<GetEimConfigurationDataResponse>('GetEimConfigurationDataResponse', [field('eimConfigurationDataList', implicit(0, EimConfigurationDataList))]),
);

export interface GetCertsRequest {
  euiccCiPKId?: Buffer;
}

/** ES10b.GetCerts request, tag BF56. */
export const GetCertsRequest = implicit(86, seq<GetCertsRequest>('GetCertsRequest', [optional('euiccCiPKId', implicit(0, rsp.SubjectKeyIdentifier))]));

export interface Certs {
  /** Universal-SEQUENCE DER of CERT.EUM.ECDSA (A5 on the wire). */
  eumCertificate: Buffer;
  /** Universal-SEQUENCE DER of CERT.EUICC.ECDSA (A6 on the wire). */
  euiccCertificate: Buffer;
}

export type GetCertsResponse = Chosen<'certs', Certs> | Chosen<'getCertsError', number>;

/** ES10b.GetCerts response, tag BF56 around A0 {A5 eum, A6 euicc} or 81 (error). */
export const GetCertsResponse = explicit(
  86,
  choice<GetCertsResponse>('GetCertsResponse', [
    alternative(
      'certs',
      implicit(0, seq<Certs>('certs', [field('eumCertificate', implicitDer(5, 'Certificate')), field('euiccCertificate', implicitDer(6, 'Certificate'))])),
    ),
    alternative('getCertsError', implicit(1, integer)),
  ]),
);

export interface RefreshFlagRequest {
  refreshFlag: boolean;
}

function refreshFlagRequest(n: number, name: string): TaggedCodec<RefreshFlagRequest> {
  return implicit(n, seq<RefreshFlagRequest>(name, [field('refreshFlag', implicit(0, boolean))]));
}

function resultResponse<K extends string>(n: number, name: string, key: K): TaggedCodec<Record<K, number>> {
  return implicit(n, seq<Record<K, number>>(name, [field(key, implicit(0, integer))]));
}

/** ES10b.ImmediateEnable, tag BF5A. */
export const ImmediateEnableRequest = refreshFlagRequest(90, 'ImmediateEnableRequest');
export const ImmediateEnableResponse = resultResponse(90, 'ImmediateEnableResponse', 'immediateEnableResult');

/** ES10b.ProfileRollback request, tag BF58. */
export const ProfileRollbackRequest = refreshFlagRequest(88, 'ProfileRollbackRequest');

export interface ProfileRollbackResponse {
  cmdResult: number;
  eUICCPackageResult?: EuiccPackageResult;
}

/** ES10b.ProfileRollback response, tag BF58: 02 cmdResult (a tagged sibling turns AUTOMATIC TAGS off), BF51 result. */
export const ProfileRollbackResponse = implicit(
  88,
  seq<ProfileRollbackResponse>('ProfileRollbackResponse', [field('cmdResult', integer), optional('eUICCPackageResult', EuiccPackageResult)]),
);

/** ES10b.ConfigureImmediateProfileEnabling request, tag BF59. */
export const ConfigureImmediateProfileEnablingRequest = implicit(
  89,
  seq<ConfigureImmediateEnable>('ConfigureImmediateProfileEnablingRequest', ConfigureImmediateEnableFields),
);
export const ConfigureImmediateProfileEnablingResponse = resultResponse(89, 'ConfigureImmediateProfileEnablingResponse', 'configImmediateEnableResult');

/** ES10b.EnableEmergencyProfile (BF5B) and DisableEmergencyProfile (BF5C). */
export const EnableEmergencyProfileRequest = refreshFlagRequest(91, 'EnableEmergencyProfileRequest');
export const EnableEmergencyProfileResponse = resultResponse(91, 'EnableEmergencyProfileResponse', 'enableEmergencyProfileResult');
export const DisableEmergencyProfileRequest = refreshFlagRequest(92, 'DisableEmergencyProfileRequest');
export const DisableEmergencyProfileResponse = resultResponse(92, 'DisableEmergencyProfileResponse', 'disableEmergencyProfileResult');

/** ES10b.ExecuteFallbackMechanism (BF5D) and ReturnFromFallback (BF5E). */
export const ExecuteFallbackMechanismRequest = refreshFlagRequest(93, 'ExecuteFallbackMechanismRequest');
export const ExecuteFallbackMechanismResponse = resultResponse(93, 'ExecuteFallbackMechanismResponse', 'executeFallbackMechanismResult');
export const ReturnFromFallbackRequest = refreshFlagRequest(94, 'ReturnFromFallbackRequest');
export const ReturnFromFallbackResponse = resultResponse(94, 'ReturnFromFallbackResponse', 'returnFromFallbackResult');

/** ES10b.GetConnectivityParameters, tag BF5F. */
export const GetConnectivityParametersRequest = implicit(95, seq<Empty>('GetConnectivityParametersRequest', []));

export interface ConnectivityParameters {
  httpParams?: Buffer;
}
export type GetConnectivityParametersResponse = Chosen<'connectivityParameters', ConnectivityParameters> | Chosen<'connectivityParametersError', number>;

export const GetConnectivityParametersResponse = explicit(
  95,
  choice<GetConnectivityParametersResponse>('GetConnectivityParametersResponse', [
    alternative(
      'connectivityParameters',
      implicit(0, seq<ConnectivityParameters>('ConnectivityParameters', [optional('httpParams', implicit(1, octetString({ max: MAX_CONNECTIVITY_PARAMETERS })))])),
    ),
    alternative('connectivityParametersError', implicit(1, integer)),
  ]),
);

export interface EuiccMemoryResetRequest {
  resetOptions: BitString;
}

/** SGP32-EuiccMemoryResetRequest, tag BF64 (SGP.22's BF34 moved), with resetEimConfigData (5) and resetImmediateEnableConfig (6). */
export const EuiccMemoryResetRequest = implicit(
  100,
  seq<EuiccMemoryResetRequest>('SGP32-EuiccMemoryResetRequest', [field('resetOptions', implicit(2, bitString))]),
);

export interface EuiccMemoryResetResponse {
  resetResult: number;
  resetEimResult?: number;
  resetImmediateEnableConfigResult?: number;
}

/** SGP32-EuiccMemoryResetResponse, tag BF64. */
export const EuiccMemoryResetResponse = implicit(
  100,
  seq<EuiccMemoryResetResponse>('SGP32-EuiccMemoryResetResponse', [
    field('resetResult', implicit(0, integer)),
    optional('resetEimResult', implicit(1, integer)),
    optional('resetImmediateEnableConfigResult', implicit(2, integer)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// IPA in the eUICC (IPAe): ISD-R proprietary data and ES10b.IpaeActivation
// ---------------------------------------------------------------------------------------------

export const EuiccConfiguration = { ipaeSupported: 0, enabledProfile: 1 } as const;

export interface IsdrProprietaryApplicationTemplateIoT {
  euiccConfiguration: BitString;
}

/** ISDRProprietaryApplicationTemplateIoT, tag E1 (in the ISD-R's SELECT response). */
export const IsdrProprietaryApplicationTemplateIoT = privateTag(
  1,
  seq<IsdrProprietaryApplicationTemplateIoT>('ISDRProprietaryApplicationTemplateIoT', [field('euiccConfiguration', implicit(0, bitString))]),
);

export const IpaeOption = { activateIpae: 0 } as const;

export interface IpaeActivationRequest {
  ipaeOption: BitString;
}

/** ES10b.IpaeActivation request, tag BF42. */
export const IpaeActivationRequest = implicit(66, seq<IpaeActivationRequest>('IpaeActivationRequest', [field('ipaeOption', implicit(0, bitString))]));

export const IpaeActivationResult = { ok: 0, notSupported: 1 } as const;

/** ES10b.IpaeActivation response, tag BF42. */
export const IpaeActivationResponse = resultResponse(66, 'IpaeActivationResponse', 'ipaeActivationResult');

// ---------------------------------------------------------------------------------------------
// Notifications in SGP.32 (compact forms) and ES10b.RetrieveNotificationsList
// ---------------------------------------------------------------------------------------------

export interface CompactSuccessResult {
  compactAid: Buffer;
  simaResponse?: Buffer;
}

export const CompactSuccessResult = seq<CompactSuccessResult>('CompactSuccessResult', [
  field('compactAid', application(15, octetString(2))),
  optional('simaResponse', octetString({ max: rsp.MAX_SIMA_RESPONSE })),
]);

export type CompactFinalResult = Chosen<'compactSuccessResult', CompactSuccessResult> | Chosen<'errorResult', rsp.ErrorResult>;

export interface CompactProfileInstallationResultData {
  transactionId: Buffer;
  seqNumber: number;
  /** DEFAULT TRUE: absent means the ICCID is present in the notification. */
  iccidPresent?: boolean;
  compactFinalResult: CompactFinalResult;
}

export const CompactProfileInstallationResultData = seq<CompactProfileInstallationResultData>('CompactProfileInstallationResultData', [
  field('transactionId', implicit(0, rsp.TransactionId)),
  field('seqNumber', integer),
  optional('iccidPresent', boolean),
  field(
    'compactFinalResult',
    explicit(
      2,
      choice<CompactFinalResult>('compactFinalResult', [
        alternative('compactSuccessResult', implicit(0, CompactSuccessResult)),
        alternative('errorResult', implicit(1, rsp.ErrorResult)),
      ]),
    ),
  ),
]);

/** compactProfileInstallationResultData as it travels: [0], tag A0. */
export const CompactProfileInstallationResultDataA0 = implicit(0, CompactProfileInstallationResultData);

export interface CompactProfileInstallationResult {
  /** Signed by the eUICC over these exact bytes (euiccSignPIR). */
  compactProfileInstallationResultData: Captured<CompactProfileInstallationResultData>;
  euiccSignPIR: Buffer;
}

export const CompactProfileInstallationResult = seq<CompactProfileInstallationResult>('CompactProfileInstallationResult', [
  field('compactProfileInstallationResultData', captured(CompactProfileInstallationResultDataA0)),
  field('euiccSignPIR', Signature),
]);

export interface CompactOtherSignedNotification {
  eidValue?: Buffer;
  /** Signed by the eUICC over these exact bytes (euiccNotificationSignature). */
  tbsOtherNotification: Captured<rsp.NotificationMetadata>;
  euiccNotificationSignature: Buffer;
}

export const CompactOtherSignedNotification = seq<CompactOtherSignedNotification>('CompactOtherSignedNotification', [
  optional('eidValue', EidValue),
  field('tbsOtherNotification', captured(rsp.NotificationMetadata)),
  field('euiccNotificationSignature', Signature),
]);

export type PendingNotification =
  | rsp.PendingNotification
  | Chosen<'compactProfileInstallationResult', CompactProfileInstallationResult>
  | Chosen<'compactOtherSignedNotification', CompactOtherSignedNotification>;

/** SGP32-PendingNotification: BF37 (PIR), SEQUENCE (other), A0 (compact PIR) or A1 (compact other). */
export const PendingNotification = choice<PendingNotification>('SGP32-PendingNotification', [
  alternative('profileInstallationResult', rsp.ProfileInstallationResult),
  alternative('otherSignedNotification', rsp.OtherSignedNotification),
  alternative('compactProfileInstallationResult', implicit(0, CompactProfileInstallationResult)),
  alternative('compactOtherSignedNotification', implicit(1, CompactOtherSignedNotification)),
]);

const PendingNotificationList = sequenceOf(PendingNotification, { max: rsp.MAX_NOTIFICATIONS });
const EuiccPackageResultList = sequenceOf(EuiccPackageResult, { max: MAX_EUICC_PACKAGE_RESULTS });

export type RetrieveNotificationsSearchCriteria =
  | Chosen<'seqNumber', number>
  | Chosen<'profileManagementOperation', BitString>
  | Chosen<'euiccPackageResults', null>;

export interface RetrieveNotificationsListRequest {
  searchCriteria?: RetrieveNotificationsSearchCriteria;
}

/** SGP32-RetrieveNotificationsListRequest, tag BF2B; searchCriteria A0 around 80, 81 or 82 (eUICC Package results). */
export const RetrieveNotificationsListRequest = implicit(
  43,
  seq<RetrieveNotificationsListRequest>('SGP32-RetrieveNotificationsListRequest', [
    optional(
      'searchCriteria',
      explicit(
        0,
        choice<RetrieveNotificationsSearchCriteria>('searchCriteria', [
          alternative('seqNumber', implicit(0, integer)),
          alternative('profileManagementOperation', implicit(1, bitString)),
          alternative('euiccPackageResults', implicit(2, nullValue)),
        ]),
      ),
    ),
  ]),
);

export type RetrieveNotificationsListResponse =
  | Chosen<'notificationList', PendingNotification[]>
  | Chosen<'notificationsListResultError', number>
  | Chosen<'euiccPackageResultList', EuiccPackageResult[]>;

/** SGP32-RetrieveNotificationsListResponse, tag BF2B around A0 (notifications), 81 (error) or A2 (package results). */
export const RetrieveNotificationsListResponse = explicit(
  43,
  choice<RetrieveNotificationsListResponse>('SGP32-RetrieveNotificationsListResponse', [
    alternative('notificationList', implicit(0, PendingNotificationList)),
    alternative('notificationsListResultError', implicit(1, integer)),
    alternative('euiccPackageResultList', implicit(2, EuiccPackageResultList)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// eIM packages other than eUICC Packages: IpaEuiccData (BF52), ProfileDownloadTrigger (BF54), EimAcknowledgements (BF53)
// ---------------------------------------------------------------------------------------------

export type SearchCriteriaNotification = Chosen<'seqNumber', number> | Chosen<'profileManagementOperation', BitString>;

export interface IpaEuiccDataRequest {
  tagList: Buffer;
  euiccCiPKIdentifierToBeUsed?: Buffer;
  searchCriteriaNotification?: SearchCriteriaNotification;
  searchCriteriaEuiccPackageResult?: Chosen<'seqNumber', number>;
  eimTransactionId?: Buffer;
}

/** IpaEuiccDataRequest, tag BF52. */
export const IpaEuiccDataRequest = implicit(
  82,
  seq<IpaEuiccDataRequest>('IpaEuiccDataRequest', [
    field('tagList', application(28, octetString({ max: rsp.MAX_TAG_LIST }))),
    optional('euiccCiPKIdentifierToBeUsed', rsp.SubjectKeyIdentifier),
    optional(
      'searchCriteriaNotification',
      explicit(
        1,
        choice<SearchCriteriaNotification>('searchCriteriaNotification', [
          alternative('seqNumber', implicit(0, integer)),
          alternative('profileManagementOperation', implicit(1, bitString)),
        ]),
      ),
    ),
    optional(
      'searchCriteriaEuiccPackageResult',
      explicit(2, choice<Chosen<'seqNumber', number>>('searchCriteriaEuiccPackageResult', [alternative('seqNumber', implicit(0, integer))])),
    ),
    optional('eimTransactionId', implicit(3, rsp.TransactionId)),
  ]),
);

export interface IpaCapabilities {
  ipaFeatures: BitString;
  ipaSupportedProtocols?: BitString;
}

export const IpaFeature = {
  directRspServerCommunication: 0,
  indirectRspServerCommunication: 1,
  eimDownloadDataHandling: 2,
  eimCtxParams1Generation: 3,
  eimProfileMetadataVerification: 4,
  minimizeEsipaBytes: 5,
} as const;
export const IpaSupportedProtocol = { ipaRetrieveHttps: 0, ipaRetrieveCoaps: 1, ipaInjectHttps: 2, ipaInjectCoaps: 3, ipaProprietary: 4 } as const;

export const IpaCapabilities = seq<IpaCapabilities>('IpaCapabilities', [
  field('ipaFeatures', implicit(0, bitString)),
  optional('ipaSupportedProtocols', implicit(1, bitString)),
]);

export interface IpaEuiccData {
  notificationsList?: PendingNotification[];
  defaultSmdpAddress?: string;
  euiccPackageResultList?: EuiccPackageResult[];
  euiccInfo1?: rsp.EUICCInfo1;
  euiccInfo2?: rsp.EUICCInfo2;
  rootSmdsAddress?: string;
  associationToken?: number;
  /** Universal-SEQUENCE DER (A5 on the wire). */
  eumCertificate?: Buffer;
  /** Universal-SEQUENCE DER (A6 on the wire). */
  euiccCertificate?: Buffer;
  eimTransactionId?: Buffer;
  ipaCapabilities?: IpaCapabilities;
  deviceInfo?: rsp.DeviceInfo;
}

export const IpaEuiccData = seq<IpaEuiccData>('IpaEuiccData', [
  optional('notificationsList', implicit(0, PendingNotificationList)),
  optional('defaultSmdpAddress', implicit(1, utf8String)),
  optional('euiccPackageResultList', implicit(2, EuiccPackageResultList)),
  optional('euiccInfo1', rsp.EUICCInfo1),
  optional('euiccInfo2', rsp.EUICCInfo2),
  optional('rootSmdsAddress', implicit(3, utf8String)),
  optional('associationToken', implicit(4, integer)),
  optional('eumCertificate', implicitDer(5, 'Certificate')),
  optional('euiccCertificate', implicitDer(6, 'Certificate')),
  optional('eimTransactionId', implicit(7, rsp.TransactionId)),
  optional('ipaCapabilities', implicit(8, IpaCapabilities)),
  optional('deviceInfo', implicit(9, rsp.DeviceInfo)),
]);

export const IpaEuiccDataErrorCode = { incorrectTagList: 1, euiccCiPKIdNotFound: 5, ecallActive: 104, undefinedError: 127 } as const;

export interface IpaEuiccDataResponseError {
  eimTransactionId?: Buffer;
  ipaEuiccDataErrorCode: number;
}

export type IpaEuiccDataResponse = Chosen<'ipaEuiccData', IpaEuiccData> | Chosen<'ipaEuiccDataResponseError', IpaEuiccDataResponseError>;

/** IpaEuiccDataResponse, tag BF52 around A0 (data) or A1 (error). */
export const IpaEuiccDataResponse = explicit(
  82,
  choice<IpaEuiccDataResponse>('IpaEuiccDataResponse', [
    alternative('ipaEuiccData', implicit(0, IpaEuiccData)),
    alternative(
      'ipaEuiccDataResponseError',
      implicit(
        1,
        seq<IpaEuiccDataResponseError>('IpaEuiccDataResponseError', [
          optional('eimTransactionId', implicit(0, rsp.TransactionId)),
          field('ipaEuiccDataErrorCode', integer),
        ]),
      ),
    ),
  ]),
);

export interface ContactSmds {
  smdsAddress?: string;
}

export type ProfileDownloadData = Chosen<'activationCode', string> | Chosen<'contactDefaultSmdp', null> | Chosen<'contactSmds', ContactSmds>;

export interface ProfileDownloadTriggerRequest {
  profileDownloadData?: ProfileDownloadData;
  eimTransactionId?: Buffer;
}

/** ProfileDownloadTriggerRequest, tag BF54; profileDownloadData A0 around 80 (activation code), 81 (default SM-DP+) or A2 (SM-DS). */
export const ProfileDownloadTriggerRequest = implicit(
  84,
  seq<ProfileDownloadTriggerRequest>('ProfileDownloadTriggerRequest', [
    optional(
      'profileDownloadData',
      explicit(
        0,
        choice<ProfileDownloadData>('ProfileDownloadData', [
          alternative('activationCode', implicit(0, sizedUtf8String(0, 255))),
          alternative('contactDefaultSmdp', implicit(1, nullValue)),
          alternative('contactSmds', implicit(2, seq<ContactSmds>('contactSmds', [optional('smdsAddress', implicit(0, utf8String))]))),
        ]),
      ),
    ),
    optional('eimTransactionId', implicit(2, rsp.TransactionId)),
  ]),
);

export const ProfileDownloadErrorReason = { ecallActive: 104, undefinedError: 127 } as const;

export interface ProfileDownloadError {
  profileDownloadErrorReason: number;
  errorResponse?: Buffer;
}

export type ProfileDownloadTriggerResultData =
  | Chosen<'profileInstallationResult', rsp.ProfileInstallationResult>
  | Chosen<'profileDownloadError', ProfileDownloadError>;

export interface ProfileDownloadTriggerResult {
  eimTransactionId?: Buffer;
  profileDownloadTriggerResultData: ProfileDownloadTriggerResultData;
}

/** ProfileDownloadTriggerResult, tag BF54: 82 eimTransactionId, then BF37 (PIR) or SEQUENCE (error). */
export const ProfileDownloadTriggerResult = implicit(
  84,
  seq<ProfileDownloadTriggerResult>('ProfileDownloadTriggerResult', [
    optional('eimTransactionId', implicit(2, rsp.TransactionId)),
    field(
      'profileDownloadTriggerResultData',
      choice<ProfileDownloadTriggerResultData>('profileDownloadTriggerResultData', [
        alternative('profileInstallationResult', rsp.ProfileInstallationResult),
        alternative(
          'profileDownloadError',
          seq<ProfileDownloadError>('profileDownloadError', [
            field('profileDownloadErrorReason', implicit(0, integer)),
            optional('errorResponse', octetString({ max: MAX_ERROR_RESPONSE })),
          ]),
        ),
      ]),
    ),
  ]),
);

/** EimAcknowledgements, tag BF53: the sequence numbers (80) the eIM has stored. */
export const EimAcknowledgements = implicit(83, sequenceOf(implicit(0, integer), { max: MAX_EIM_ACKNOWLEDGEMENTS }));

// ---------------------------------------------------------------------------------------------
// ESipa eIM package exchange: GetEimPackage (BF4F), ProvideEimPackageResult (BF50), TransferEimPackage (BF4E)
// ---------------------------------------------------------------------------------------------

export const StateChangeCause = {
  otherEim: 0,
  fallback: 1,
  emergencyProfile: 2,
  local: 3,
  reset: 4,
  immediateEnableProfile: 5,
  deviceChange: 6,
  undefined: 127,
} as const;

export interface GetEimPackageRequest {
  eidValue: Buffer;
  notifyStateChange?: null;
  stateChangeCause?: number;
  rPLMN?: Buffer;
}

/** ESipa.GetEimPackage request, tag BF4F. */
export const GetEimPackageRequest = implicit(
  79,
  seq<GetEimPackageRequest>('GetEimPackageRequest', [
    field('eidValue', EidValue),
    optional('notifyStateChange', implicit(0, nullValue)),
    optional('stateChangeCause', implicit(1, integer)),
    optional('rPLMN', implicit(2, octetString(3))),
  ]),
);

export const EimPackageError = { noEimPackageAvailable: 1, eidNotFound: 2, invalidEid: 3, missingEid: 4, undefinedError: 127 } as const;

export type GetEimPackageResponse =
  | Chosen<'euiccPackageRequest', EuiccPackageRequest>
  | Chosen<'ipaEuiccDataRequest', IpaEuiccDataRequest>
  | Chosen<'profileDownloadTriggerRequest', ProfileDownloadTriggerRequest>
  | Chosen<'eimPackageError', number>;

/** ESipa.GetEimPackage response, tag BF4F around BF51, BF52, BF54 or 02 (eimPackageError). */
export const GetEimPackageResponse = explicit(
  79,
  choice<GetEimPackageResponse>('GetEimPackageResponse', [
    alternative('euiccPackageRequest', EuiccPackageRequest),
    alternative('ipaEuiccDataRequest', IpaEuiccDataRequest),
    alternative('profileDownloadTriggerRequest', ProfileDownloadTriggerRequest),
    alternative('eimPackageError', integer),
  ]),
);

export interface EPRAndNotifications {
  euiccPackageResult: EuiccPackageResult;
  notificationList: PendingNotification[];
}

const EPRAndNotifications = seq<EPRAndNotifications>('ePRAndNotifications', [
  field('euiccPackageResult', EuiccPackageResult),
  field('notificationList', implicit(0, PendingNotificationList)),
]);

export const EimPackageResultErrorCode = { invalidPackageFormat: 1, unknownPackage: 2, undefinedError: 127 } as const;

export interface EimPackageResultResponseError {
  eimTransactionId?: Buffer;
  eimPackageResultErrorCode: number;
}

export type EimPackageResult =
  | Chosen<'euiccPackageResult', EuiccPackageResult>
  | Chosen<'ePRAndNotifications', EPRAndNotifications>
  | Chosen<'ipaEuiccDataResponse', IpaEuiccDataResponse>
  | Chosen<'profileDownloadTriggerResult', ProfileDownloadTriggerResult>
  | Chosen<'eimPackageResultResponseError', EimPackageResultResponseError>;

export const EimPackageResult = choice<EimPackageResult>('EimPackageResult', [
  alternative('euiccPackageResult', EuiccPackageResult),
  alternative('ePRAndNotifications', EPRAndNotifications),
  alternative('ipaEuiccDataResponse', IpaEuiccDataResponse),
  alternative('profileDownloadTriggerResult', ProfileDownloadTriggerResult),
  alternative(
    'eimPackageResultResponseError',
    implicit(
      0,
      seq<EimPackageResultResponseError>('EimPackageResultResponseError', [
        optional('eimTransactionId', implicit(0, rsp.TransactionId)),
        field('eimPackageResultErrorCode', integer),
      ]),
    ),
  ),
]);

export interface ProvideEimPackageResult {
  eidValue?: Buffer;
  eimPackageResult: EimPackageResult;
}

/** ESipa.ProvideEimPackageResult request, tag BF50. */
export const ProvideEimPackageResult = implicit(
  80,
  seq<ProvideEimPackageResult>('ProvideEimPackageResult', [optional('eidValue', EidValue), field('eimPackageResult', EimPackageResult)]),
);

export const ProvideEimPackageResultError = { eidNotFound: 2, invalidEid: 3, missingEid: 4, undefinedError: 127 } as const;

export type ProvideEimPackageResultResponse =
  | Chosen<'eimAcknowledgements', number[]>
  | Chosen<'emptyResponse', Empty>
  | Chosen<'provideEimPackageResultError', number>;

/** ESipa.ProvideEimPackageResult response, tag BF50 around BF53 (acknowledgements), 30 (empty) or 02 (error). */
export const ProvideEimPackageResultResponse = explicit(
  80,
  choice<ProvideEimPackageResultResponse>('ProvideEimPackageResultResponse', [
    alternative('eimAcknowledgements', EimAcknowledgements),
    alternative('emptyResponse', seq<Empty>('emptyResponse', [])),
    alternative('provideEimPackageResultError', integer),
  ]),
);

export type TransferEimPackageRequest =
  | Chosen<'euiccPackageRequest', EuiccPackageRequest>
  | Chosen<'ipaEuiccDataRequest', IpaEuiccDataRequest>
  | Chosen<'eimAcknowledgements', number[]>
  | Chosen<'profileDownloadTriggerRequest', ProfileDownloadTriggerRequest>;

/** ESipa.TransferEimPackage request (inject mode), tag BF4E around BF51, BF52, BF53 or BF54. */
export const TransferEimPackageRequest = explicit(
  78,
  choice<TransferEimPackageRequest>('TransferEimPackageRequest', [
    alternative('euiccPackageRequest', EuiccPackageRequest),
    alternative('ipaEuiccDataRequest', IpaEuiccDataRequest),
    alternative('eimAcknowledgements', EimAcknowledgements),
    alternative('profileDownloadTriggerRequest', ProfileDownloadTriggerRequest),
  ]),
);

export type TransferEimPackageResponse =
  | Chosen<'euiccPackageResult', EuiccPackageResult>
  | Chosen<'ePRAndNotifications', EPRAndNotifications>
  | Chosen<'ipaEuiccDataResponse', IpaEuiccDataResponse>
  | Chosen<'eimPackageReceived', null>
  | Chosen<'eimPackageError', number>;

/** ESipa.TransferEimPackage response, tag BF4E around BF51, 30, BF52, 05 (received) or 02 (error). */
export const TransferEimPackageResponse = explicit(
  78,
  choice<TransferEimPackageResponse>('TransferEimPackageResponse', [
    alternative('euiccPackageResult', EuiccPackageResult),
    alternative('ePRAndNotifications', EPRAndNotifications),
    alternative('ipaEuiccDataResponse', IpaEuiccDataResponse),
    alternative('eimPackageReceived', nullValue),
    alternative('eimPackageError', integer),
  ]),
);

// ---------------------------------------------------------------------------------------------
// ESipa profile download messages (InitiateAuthentication, AuthenticateClient, GetBoundProfilePackage, CancelSession,
// HandleNotification) and their compact ES10b forms
// ---------------------------------------------------------------------------------------------

export interface InitiateAuthenticationRequestEsipa {
  euiccChallenge: Buffer;
  smdpAddress?: string;
  euiccInfo1?: rsp.EUICCInfo1;
  eimTransactionId?: Buffer;
}

/** ESipa.InitiateAuthentication request, tag BF39. */
export const InitiateAuthenticationRequestEsipa = implicit(
  57,
  seq<InitiateAuthenticationRequestEsipa>('InitiateAuthenticationRequestEsipa', [
    field('euiccChallenge', implicit(1, rsp.Octet16)),
    optional('smdpAddress', implicit(3, utf8String)),
    optional('euiccInfo1', rsp.EUICCInfo1),
    optional('eimTransactionId', implicit(2, rsp.TransactionId)),
  ]),
);

export interface InitiateAuthenticationOkEsipa {
  transactionId?: Buffer;
  /** Signed by the SM-DP+ over these exact bytes (serverSignature1). */
  serverSigned1: Captured<rsp.ServerSigned1>;
  serverSignature1: Buffer;
  euiccCiPKIdentifierToBeUsed: Buffer;
  serverCertificate: Buffer;
  matchingId?: string;
  ctxParams1?: rsp.CtxParams1;
}

export const InitiateAuthenticationErrorEsipa = {
  invalidDpAddress: 1,
  euiccVersionNotSupportedByDp: 2,
  ciPKIdNotSupported: 3,
  smdpAddressMismatch: 50,
  smdpOidMismatch: 51,
  invalidEimTransactionId: 52,
  undefinedError: 127,
} as const;

export type InitiateAuthenticationResponseEsipa =
  | Chosen<'initiateAuthenticationOkEsipa', InitiateAuthenticationOkEsipa>
  | Chosen<'initiateAuthenticationErrorEsipa', number>;

/** ESipa.InitiateAuthentication response, tag BF39 around A0 (ok) or 81 (error). */
export const InitiateAuthenticationResponseEsipa = explicit(
  57,
  choice<InitiateAuthenticationResponseEsipa>('InitiateAuthenticationResponseEsipa', [
    alternative(
      'initiateAuthenticationOkEsipa',
      implicit(
        0,
        seq<InitiateAuthenticationOkEsipa>('InitiateAuthenticationOkEsipa', [
          optional('transactionId', implicit(0, rsp.TransactionId)),
          field('serverSigned1', captured(rsp.ServerSigned1)),
          field('serverSignature1', Signature),
          field('euiccCiPKIdentifierToBeUsed', rsp.SubjectKeyIdentifier),
          field('serverCertificate', rsp.CertificateDer),
          optional('matchingId', utf8String),
          optional('ctxParams1', explicit(2, rsp.CtxParams1)),
        ]),
      ),
    ),
    alternative('initiateAuthenticationErrorEsipa', implicit(1, integer)),
  ]),
);

export interface CompactEuiccSigned1 {
  extCardResource: Buffer;
  ctxParams1?: rsp.CtxParams1;
}

export const CompactEuiccSigned1 = seq<CompactEuiccSigned1>('CompactEuiccSigned1', [
  field('extCardResource', implicit(4, octetString({ max: rsp.MAX_EXT_CARD_RESOURCE }))),
  optional('ctxParams1', explicit(2, rsp.CtxParams1)),
]);

export type CompactSignedData = Chosen<'euiccSigned1', rsp.EuiccSigned1> | Chosen<'compactEuiccSigned1', CompactEuiccSigned1>;

/** CompactAuthenticateResponseOk.signedData: a full EuiccSigned1 (30) or the compact one (A0). */
export const CompactSignedData = choice<CompactSignedData>('signedData', [
  alternative('euiccSigned1', rsp.EuiccSigned1),
  alternative('compactEuiccSigned1', implicit(0, CompactEuiccSigned1)),
]);

export interface CompactAuthenticateResponseOk {
  /** Signed by the eUICC over these exact bytes (euiccSignature1). */
  signedData: Captured<CompactSignedData>;
  euiccSignature1: Buffer;
  /** Universal-SEQUENCE DER (A1 on the wire). */
  euiccCertificate?: Buffer;
  /** Universal-SEQUENCE DER (A2 on the wire). */
  eumCertificate?: Buffer;
}

export const CompactAuthenticateResponseOk = seq<CompactAuthenticateResponseOk>('CompactAuthenticateResponseOk', [
  field('signedData', captured(CompactSignedData)),
  field('euiccSignature1', Signature),
  optional('euiccCertificate', implicitDer(1, 'Certificate')),
  optional('eumCertificate', implicitDer(2, 'Certificate')),
]);

export type AuthenticateServerResponse =
  | rsp.AuthenticateServerResponse
  | Chosen<'compactAuthenticateResponseOk', CompactAuthenticateResponseOk>;

/** SGP32-AuthenticateServerResponse, tag BF38 around A0 (ok), A1 (error) or A2 (compact ok). */
export const AuthenticateServerResponse = explicit(
  56,
  choice<AuthenticateServerResponse>('SGP32-AuthenticateServerResponse', [
    alternative('authenticateResponseOk', implicit(0, rsp.AuthenticateResponseOk)),
    alternative('authenticateResponseError', implicit(1, rsp.AuthenticateResponseError)),
    alternative('compactAuthenticateResponseOk', implicit(2, CompactAuthenticateResponseOk)),
  ]),
);

export interface AuthenticateClientRequestEsipa {
  transactionId: Buffer;
  authenticateServerResponse: AuthenticateServerResponse;
}

/** ESipa.AuthenticateClient request, tag BF3B. */
export const AuthenticateClientRequestEsipa = implicit(
  59,
  seq<AuthenticateClientRequestEsipa>('AuthenticateClientRequestEsipa', [
    field('transactionId', implicit(0, rsp.TransactionId)),
    field('authenticateServerResponse', AuthenticateServerResponse),
  ]),
);

/** SGP32-AuthenticateClientRequest, tag BF3B: ES9+.AuthenticateClient as SGP.32 relays it (possibly compact). */
export const AuthenticateClientRequest = implicit(
  59,
  seq<AuthenticateClientRequestEsipa>('SGP32-AuthenticateClientRequest', [
    field('transactionId', implicit(0, rsp.TransactionId)),
    field('authenticateServerResponse', AuthenticateServerResponse),
  ]),
);

export interface StoreMetadataRequest extends rsp.StoreMetadataRequest {
  ecallIndication?: boolean;
  fallbackAllowed?: boolean;
}

/** SGP32-StoreMetadataRequest, tag BF25: SGP.22's with ecallIndication (9F7B) and fallbackAllowed (9F67). */
export const StoreMetadataRequest = implicit(
  37,
  seq<StoreMetadataRequest>('SGP32-StoreMetadataRequest', [
    field('iccid', rsp.Iccid),
    field('serviceProviderName', implicit(17, sizedUtf8String(0, 32))),
    field('profileName', implicit(18, sizedUtf8String(0, 64))),
    optional('iconType', implicit(19, integer)),
    optional('icon', implicit(20, octetString({ max: 1024 }))),
    optional('profileClass', implicit(21, integer)),
    optional('notificationConfigurationInfo', implicit(22, sequenceOf(rsp.NotificationConfigurationInformation, { max: rsp.MAX_NOTIFICATION_CONFIGURATIONS }))),
    optional('profileOwner', implicit(23, rsp.OperatorId)),
    optional('profilePolicyRules', implicit(25, bitString)),
    optional('serviceSpecificDataStoredInEuicc', implicit(34, rsp.VendorSpecificExtension)),
    optional('serviceSpecificDataNotStoredInEuicc', implicit(35, rsp.VendorSpecificExtension)),
    optional('ecallIndication', implicit(123, boolean)),
    optional('fallbackAllowed', implicit(103, boolean)),
  ]),
);

export interface AuthenticateClientOkDPEsipa {
  transactionId?: Buffer;
  profileMetaData?: StoreMetadataRequest;
  /** Signed by the SM-DP+ over these exact bytes (smdpSignature2). */
  smdpSigned2: Captured<rsp.SmdpSigned2>;
  smdpSignature2: Buffer;
  smdpCertificate: Buffer;
  hashCc?: Buffer;
}

export interface AuthenticateClientOkDSEsipa {
  transactionId: Buffer;
  profileDownloadTrigger?: ProfileDownloadTriggerRequest;
}

export const AuthenticateClientErrorEsipa = {
  eumCertificateInvalid: 1,
  eumCertificateExpired: 2,
  euiccCertificateInvalid: 3,
  euiccCertificateExpired: 4,
  euiccSignatureInvalid: 5,
  matchingIdRefused: 6,
  eidMismatch: 7,
  noEligibleProfile: 8,
  ciPKUnknown: 9,
  invalidTransactionId: 10,
  insufficientMemory: 11,
  pprNotAllowed: 50,
  eventIdUnknown: 56,
  undefinedError: 127,
} as const;

export type AuthenticateClientResponseEsipa =
  | Chosen<'authenticateClientOkDPEsipa', AuthenticateClientOkDPEsipa>
  | Chosen<'authenticateClientOkDSEsipa', AuthenticateClientOkDSEsipa>
  | Chosen<'authenticateClientErrorEsipa', number>;

/** ESipa.AuthenticateClient response, tag BF3B around A0 (SM-DP+), A1 (SM-DS) or 82 (error). */
export const AuthenticateClientResponseEsipa = explicit(
  59,
  choice<AuthenticateClientResponseEsipa>('AuthenticateClientResponseEsipa', [
    alternative(
      'authenticateClientOkDPEsipa',
      implicit(
        0,
        seq<AuthenticateClientOkDPEsipa>('AuthenticateClientOkDPEsipa', [
          optional('transactionId', implicit(0, rsp.TransactionId)),
          optional('profileMetaData', StoreMetadataRequest),
          field('smdpSigned2', captured(rsp.SmdpSigned2)),
          field('smdpSignature2', Signature),
          field('smdpCertificate', rsp.CertificateDer),
          optional('hashCc', rsp.Octet32),
        ]),
      ),
    ),
    alternative(
      'authenticateClientOkDSEsipa',
      implicit(
        1,
        seq<AuthenticateClientOkDSEsipa>('AuthenticateClientOkDSEsipa', [
          field('transactionId', implicit(0, rsp.TransactionId)),
          optional('profileDownloadTrigger', ProfileDownloadTriggerRequest),
        ]),
      ),
    ),
    alternative('authenticateClientErrorEsipa', implicit(2, integer)),
  ]),
);

export interface CompactEuiccSigned2 {
  euiccOtpk?: Buffer;
  hashCc?: Buffer;
}

export const CompactEuiccSigned2 = seq<CompactEuiccSigned2>('CompactEuiccSigned2', [
  optional('euiccOtpk', application(73, octetString({ max: rsp.MAX_PUBLIC_KEY }))),
  optional('hashCc', rsp.Octet32),
]);

export interface CompactPrepareDownloadResponseOk {
  /** Signed by the eUICC over these exact bytes (euiccSignature2). */
  compactEuiccSigned2: Captured<CompactEuiccSigned2>;
  euiccSignature2: Buffer;
}

export type PrepareDownloadResponse =
  | rsp.PrepareDownloadResponse
  | Chosen<'compactDownloadResponseOk', CompactPrepareDownloadResponseOk>;

/** SGP32-PrepareDownloadResponse, tag BF21 around A0 (ok), A1 (error) or A2 (compact ok). */
export const PrepareDownloadResponse = explicit(
  33,
  choice<PrepareDownloadResponse>('SGP32-PrepareDownloadResponse', [
    alternative('downloadResponseOk', implicit(0, rsp.PrepareDownloadResponseOk)),
    alternative('downloadResponseError', implicit(1, rsp.PrepareDownloadResponseError)),
    alternative(
      'compactDownloadResponseOk',
      implicit(
        2,
        seq<CompactPrepareDownloadResponseOk>('CompactPrepareDownloadResponseOk', [
          field('compactEuiccSigned2', captured(CompactEuiccSigned2)),
          field('euiccSignature2', Signature),
        ]),
      ),
    ),
  ]),
);

export interface GetBoundProfilePackageRequestEsipa {
  transactionId: Buffer;
  prepareDownloadResponse: PrepareDownloadResponse;
}

/** ESipa.GetBoundProfilePackage request, tag BF3A. */
export const GetBoundProfilePackageRequestEsipa = implicit(
  58,
  seq<GetBoundProfilePackageRequestEsipa>('GetBoundProfilePackageRequestEsipa', [
    field('transactionId', implicit(0, rsp.TransactionId)),
    field('prepareDownloadResponse', PrepareDownloadResponse),
  ]),
);

export interface GetBoundProfilePackageOkEsipa {
  transactionId?: Buffer;
  boundProfilePackage: rsp.BoundProfilePackage;
}

export const GetBoundProfilePackageErrorEsipa = {
  euiccSignatureInvalid: 1,
  confirmationCodeMissing: 2,
  confirmationCodeRefused: 3,
  confirmationCodeRetriesExceeded: 4,
  bppRebindingRefused: 5,
  downloadOrderExpired: 6,
  metadataMismatch: 50,
  invalidTransactionId: 95,
  undefinedError: 127,
} as const;

export type GetBoundProfilePackageResponseEsipa =
  | Chosen<'getBoundProfilePackageOkEsipa', GetBoundProfilePackageOkEsipa>
  | Chosen<'getBoundProfilePackageErrorEsipa', number>;

/** ESipa.GetBoundProfilePackage response, tag BF3A around A0 (BPP) or 81 (error). */
export const GetBoundProfilePackageResponseEsipa = explicit(
  58,
  choice<GetBoundProfilePackageResponseEsipa>('GetBoundProfilePackageResponseEsipa', [
    alternative(
      'getBoundProfilePackageOkEsipa',
      implicit(
        0,
        seq<GetBoundProfilePackageOkEsipa>('GetBoundProfilePackageOkEsipa', [
          optional('transactionId', implicit(0, rsp.TransactionId)),
          field('boundProfilePackage', rsp.BoundProfilePackage),
        ]),
      ),
    ),
    alternative('getBoundProfilePackageErrorEsipa', implicit(1, integer)),
  ]),
);

export interface CompactEuiccCancelSessionSigned {
  reason?: number;
}

export const CompactEuiccCancelSessionSigned = seq<CompactEuiccCancelSessionSigned>('CompactEuiccCancelSessionSigned', [
  optional('reason', implicit(0, integer)),
]);

export interface CompactCancelSessionResponseOk {
  /** Signed by the eUICC over these exact bytes (euiccCancelSessionSignature). */
  compactEuiccCancelSessionSigned: Captured<CompactEuiccCancelSessionSigned>;
  euiccCancelSessionSignature: Buffer;
}

export type CancelSessionResponse = rsp.CancelSessionResponse | Chosen<'compactCancelSessionResponseOk', CompactCancelSessionResponseOk>;

const CancelSessionResponseChoice = choice<CancelSessionResponse>('SGP32-CancelSessionResponse', [
  alternative('cancelSessionResponseOk', implicit(0, rsp.CancelSessionResponseOk)),
  alternative('cancelSessionResponseError', implicit(1, integer)),
  alternative(
    'compactCancelSessionResponseOk',
    implicit(
      2,
      seq<CompactCancelSessionResponseOk>('CompactCancelSessionResponseOk', [
        field(
          'compactEuiccCancelSessionSigned',
          captured(CompactEuiccCancelSessionSigned),
        ),
        field('euiccCancelSessionSignature', Signature),
      ]),
    ),
  ),
]);

/** SGP32-CancelSessionResponse, tag BF41 around A0 (ok), 81 (error) or A2 (compact ok). */
export const CancelSessionResponse = explicit(65, CancelSessionResponseChoice);

export interface CancelSessionRequestEsipa {
  transactionId: Buffer;
  cancelSessionResponse: CancelSessionResponse;
}

/** ESipa.CancelSession request, tag BF41: 80 transactionId, A1 around the eUICC's response (AUTOMATIC TAGS replace BF41). */
export const CancelSessionRequestEsipa = implicit(
  65,
  seq<CancelSessionRequestEsipa>('CancelSessionRequestEsipa', [
    field('transactionId', implicit(0, rsp.TransactionId)),
    field('cancelSessionResponse', explicit(1, CancelSessionResponseChoice)),
  ]),
);

export const CancelSessionErrorEsipa = { invalidTransactionId: 1, euiccSignatureInvalid: 2, undefinedError: 127 } as const;

export type CancelSessionResponseEsipa = Chosen<'cancelSessionOk', Empty> | Chosen<'cancelSessionError', number>;

/** ESipa.CancelSession response, tag BF41 around A0 (ok) or 81 (error). */
export const CancelSessionResponseEsipa = explicit(
  65,
  choice<CancelSessionResponseEsipa>('CancelSessionResponseEsipa', [
    alternative('cancelSessionOk', implicit(0, seq<Empty>('SGP32-CancelSessionOk', []))),
    alternative('cancelSessionError', implicit(1, integer)),
  ]),
);

export type HandleNotificationEsipa = Chosen<'pendingNotification', PendingNotification> | Chosen<'provideEimPackageResult', ProvideEimPackageResult>;

/** ESipa.HandleNotification, tag BF3D around A0 (a notification) or BF50 (an eIM package result). */
export const HandleNotificationEsipa = explicit(
  61,
  choice<HandleNotificationEsipa>('HandleNotificationEsipa', [
    alternative('pendingNotification', explicit(0, PendingNotification)),
    alternative('provideEimPackageResult', ProvideEimPackageResult),
  ]),
);

// ---------------------------------------------------------------------------------------------
// ESipa message envelopes (the bodies of the ASN.1 binding)
// ---------------------------------------------------------------------------------------------

export type EsipaMessageFromIpaToEim =
  | Chosen<'initiateAuthenticationRequestEsipa', InitiateAuthenticationRequestEsipa>
  | Chosen<'authenticateClientRequestEsipa', AuthenticateClientRequestEsipa>
  | Chosen<'getBoundProfilePackageRequestEsipa', GetBoundProfilePackageRequestEsipa>
  | Chosen<'cancelSessionRequestEsipa', CancelSessionRequestEsipa>
  | Chosen<'handleNotificationEsipa', HandleNotificationEsipa>
  | Chosen<'transferEimPackageResponse', TransferEimPackageResponse>
  | Chosen<'getEimPackageRequest', GetEimPackageRequest>
  | Chosen<'provideEimPackageResult', ProvideEimPackageResult>;

/** An ESipa message from the IPA: BF39, BF3B, BF3A, BF41, BF3D, BF4E, BF4F or BF50. */
export const EsipaMessageFromIpaToEim = choice<EsipaMessageFromIpaToEim>('EsipaMessageFromIpaToEim', [
  alternative('initiateAuthenticationRequestEsipa', InitiateAuthenticationRequestEsipa),
  alternative('authenticateClientRequestEsipa', AuthenticateClientRequestEsipa),
  alternative('getBoundProfilePackageRequestEsipa', GetBoundProfilePackageRequestEsipa),
  alternative('cancelSessionRequestEsipa', CancelSessionRequestEsipa),
  alternative('handleNotificationEsipa', HandleNotificationEsipa),
  alternative('transferEimPackageResponse', TransferEimPackageResponse),
  alternative('getEimPackageRequest', GetEimPackageRequest),
  alternative('provideEimPackageResult', ProvideEimPackageResult),
]);

export type EsipaMessageFromEimToIpa =
  | Chosen<'initiateAuthenticationResponseEsipa', InitiateAuthenticationResponseEsipa>
  | Chosen<'authenticateClientResponseEsipa', AuthenticateClientResponseEsipa>
  | Chosen<'getBoundProfilePackageResponseEsipa', GetBoundProfilePackageResponseEsipa>
  | Chosen<'cancelSessionResponseEsipa', CancelSessionResponseEsipa>
  | Chosen<'transferEimPackageRequest', TransferEimPackageRequest>
  | Chosen<'getEimPackageResponse', GetEimPackageResponse>
  | Chosen<'provideEimPackageResultResponse', ProvideEimPackageResultResponse>;

/** An ESipa message from the eIM: BF39, BF3B, BF3A, BF41, BF4E, BF4F or BF50. */
export const EsipaMessageFromEimToIpa = choice<EsipaMessageFromEimToIpa>('EsipaMessageFromEimToIpa', [
  alternative('initiateAuthenticationResponseEsipa', InitiateAuthenticationResponseEsipa),
  alternative('authenticateClientResponseEsipa', AuthenticateClientResponseEsipa),
  alternative('getBoundProfilePackageResponseEsipa', GetBoundProfilePackageResponseEsipa),
  alternative('cancelSessionResponseEsipa', CancelSessionResponseEsipa),
  alternative('transferEimPackageRequest', TransferEimPackageRequest),
  alternative('getEimPackageResponse', GetEimPackageResponse),
  alternative('provideEimPackageResultResponse', ProvideEimPackageResultResponse),
]);

/** Every SGP.32 message codec above by its ASN.1 type name (SGP32- prefixes dropped), for tools, tests and the fuzzer. */
export const SGP32_MESSAGES: Readonly<Record<string, Codec<unknown>>> = Object.freeze({
  EuiccPackageSigned,
  EuiccPackageRequest,
  EimConfigurationData,
  EuiccPackageResultDataSigned,
  EuiccPackageErrorDataSigned,
  EuiccPackageResult,
  ProfileInfoListResponse: Sgp32ProfileInfoListResponse,
  AddInitialEimRequest,
  AddInitialEimResponse,
  GetEimConfigurationDataRequest,
  GetEimConfigurationDataResponse,
  GetCertsRequest,
  GetCertsResponse,
  ImmediateEnableRequest,
  ImmediateEnableResponse,
  ProfileRollbackRequest,
  ProfileRollbackResponse,
  ConfigureImmediateProfileEnablingRequest,
  ConfigureImmediateProfileEnablingResponse,
  EnableEmergencyProfileRequest,
  EnableEmergencyProfileResponse,
  DisableEmergencyProfileRequest,
  DisableEmergencyProfileResponse,
  ExecuteFallbackMechanismRequest,
  ExecuteFallbackMechanismResponse,
  ReturnFromFallbackRequest,
  ReturnFromFallbackResponse,
  GetConnectivityParametersRequest,
  GetConnectivityParametersResponse,
  EuiccMemoryResetRequest,
  EuiccMemoryResetResponse,
  IsdrProprietaryApplicationTemplateIoT,
  IpaeActivationRequest,
  IpaeActivationResponse,
  SetDefaultDpAddressRequest,
  SetDefaultDpAddressResponse,
  PendingNotification,
  RetrieveNotificationsListRequest,
  RetrieveNotificationsListResponse,
  IpaEuiccDataRequest,
  IpaEuiccDataResponse,
  ProfileDownloadTriggerRequest,
  ProfileDownloadTriggerResult,
  EimAcknowledgements,
  GetEimPackageRequest,
  GetEimPackageResponse,
  ProvideEimPackageResult,
  ProvideEimPackageResultResponse,
  TransferEimPackageRequest,
  TransferEimPackageResponse,
  InitiateAuthenticationRequestEsipa,
  InitiateAuthenticationResponseEsipa,
  AuthenticateServerResponse,
  AuthenticateClientRequestEsipa,
  AuthenticateClientRequest,
  StoreMetadataRequest,
  AuthenticateClientResponseEsipa,
  PrepareDownloadResponse,
  GetBoundProfilePackageRequestEsipa,
  GetBoundProfilePackageResponseEsipa,
  CancelSessionResponse,
  CancelSessionRequestEsipa,
  CancelSessionResponseEsipa,
  HandleNotificationEsipa,
  EsipaMessageFromIpaToEim,
  EsipaMessageFromEimToIpa,
} as Record<string, Codec<unknown>>);
