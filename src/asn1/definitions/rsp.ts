// SGP.22 v2.5 RSPDefinitions (the normative ASN.1 module of SGP.22, Annex H) as typed codecs: ES10x, ES8+ and ES9+ data objects.
import { Asn1Error } from '../errors.js';
import * as prim from '../primitives.js';
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
  rawElement,
  sequence,
  sequenceOf,
  sizedUtf8String,
  utf8String,
  anyElement,
  type Captured,
  type Chosen,
  type Codec,
  type Field,
  type TaggedCodec,
} from '../schema.js';

import { certificateList, type CertificateList } from './x509.js';

export type { BitString } from '../primitives.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers and basic types
// ---------------------------------------------------------------------------------------------

/** Every RSPDefinitions type is extensible (EXTENSIBILITY IMPLIED): unknown trailing components are skipped. */
function seq<T extends object>(name: string, fields: readonly Field[]): TaggedCodec<T> {
  return sequence<T>(name, fields, { extensible: true });
}

/** The set bit positions of a named BIT STRING, in increasing order. */
export function namedBitList(bits: BitString): number[] {
  const out: number[] = [];
  const total = bits.bytes.length * 8 - bits.unusedBits;
  for (let i = 0; i < total; i++) if ((bits.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0) out.push(i);
  return out;
}

/** A named BIT STRING with the given bits set, in its DER form (trailing zero bits removed). */
export function namedBitString(positions: readonly number[]): BitString {
  for (const p of positions) {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new Asn1Error('ENCODE_ERROR', `invalid bit position ${p}`);
  }
  return prim.decodeBitString(prim.encodeNamedBits(positions));
}

/** True when bit `position` of a named BIT STRING is set. */
export function hasNamedBit(bits: BitString, position: number): boolean {
  if (position < 0 || position >= bits.bytes.length * 8 - bits.unusedBits) return false;
  return (bits.bytes[position >> 3]! & (0x80 >> (position & 7))) !== 0;
}

// ---------------------------------------------------------------------------------------------
// Input budgets (docs/architecture.md, The codec): the module bounds few of its SEQUENCE OFs and OCTET STRINGs, so
// mcim bounds the rest. Every SEQUENCE OF and OCTET STRING of a message that arrives from the network carries a
// finite SIZE; more is SIZE_EXCEEDED, refused before any element of the oversize list is decoded.
// ---------------------------------------------------------------------------------------------

/** CI public key identifiers an eUICC lists (euiccCiPKIdListForVerification/ForSigning[V3]): a handful in practice. */
export const MAX_CI_PKID_LIST = 16;
/** Version lists (additionalEuiccProfilePackageVersions, SGP.32 iotVersion). */
export const MAX_VERSION_LIST = 16;
/** A subject key identifier: 20 bytes (SHA-1 of the key, RFC 5280 4.2.1.2 method 1); room for a SHA-256 one. */
export const MAX_KEY_IDENTIFIER = 32;
/** extCardResource: a few TLVs (installed applications, free non-volatile and volatile memory). */
export const MAX_EXT_CARD_RESOURCE = 128;
/** A plain r || s signature (5F37) or a one-time public key (5F49): 64 or 65 bytes on the 256-bit curves. */
export const MAX_SIGNATURE = 128;
export const MAX_PUBLIC_KEY = 128;
/** GID1/GID2 of an OperatorId: the contents of EF GID1/GID2. */
export const MAX_GID = 128;
/** simaResponse: the EUICCResponse of the profile package (PEStatus entries). */
export const MAX_SIMA_RESPONSE = 8 * 1024;
/** ReplaceSessionKeys: initialMacChainingValue, PPK-ENC, PPK-MAC (16-byte AES keys; room for 32). */
export const MAX_SESSION_KEY = 32;
/** ProfileInfoListRequest.tagList: the tags of ProfileInfo, one or two bytes each. */
export const MAX_TAG_LIST = 64;
/** notificationConfigurationInfo: one or a few addresses per operation. */
export const MAX_NOTIFICATION_CONFIGURATIONS = 16;
/** VendorSpecificExtension entries (serviceSpecificData...). */
export const MAX_VENDOR_EXTENSIONS = 32;
/** Profiles an eUICC lists (ProfileInfoListResponse), notifications it lists or returns. */
export const MAX_PROFILES = 256;
export const MAX_NOTIFICATIONS = 1024;
/** RulesAuthorisationTable entries and allowedOperators of one rule. */
export const MAX_RAT_RULES = 64;
export const MAX_ALLOWED_OPERATORS = 64;
/** BoundProfilePackage: '87' segments (ConfigureISDP, ReplaceSessionKeys: one each in practice), '88' segments
 * (StoreMetadata in 1020-byte segments: at most some KB), '86' segments (the profile: 4096 x 1020 bytes ~ 4 MB). */
export const MAX_BPP_87_SEGMENTS = 16;
export const MAX_BPP_88_SEGMENTS = 64;
export const MAX_BPP_86_SEGMENTS = 4096;

export const Octet1 = octetString(1);
export const Octet2 = octetString(2);
export const Octet4 = octetString(4);
export const Octet8 = octetString(8);
export const Octet16 = octetString(16);
export const Octet32 = octetString(32);
export const OctetTo16 = octetString({ min: 1, max: 16 });
/** Major, minor, revision as three binary bytes ('02 05 00' is v2.5.0). */
export const VersionType = octetString(3);
/** ICCID as coded in EF_ICCID (nibble-swapped BCD, F padded), tag 5A. */
export const Iccid = application(26, octetString(10));
export const TransactionId = octetString({ min: 1, max: 16 });
/** An ISD-P AID, tag 4F. */
export const IsdpAid = application(15, OctetTo16);
/** SubjectKeyIdentifier (RFC 5280): an OCTET STRING, 20 bytes for the RSP PKI. */
export const SubjectKeyIdentifier = octetString({ max: MAX_KEY_IDENTIFIER });
/** An X.509 certificate relayed as its exact DER (decode it with the PKI codecs). */
export const CertificateDer = rawElement(0x30, 'Certificate');
/** A signature in the plain r || s format (BSI TR-03111), tag 5F37. */
const Signature = application(55, octetString({ max: MAX_SIGNATURE }));
/** An ephemeral public key (uncompressed point), tag 5F49. */
const OtPk = application(73, octetString({ max: MAX_PUBLIC_KEY }));

// ---------------------------------------------------------------------------------------------
// Named values
// ---------------------------------------------------------------------------------------------

export const NotificationEvent = {
  notificationInstall: 0,
  notificationEnable: 1,
  notificationDisable: 2,
  notificationDelete: 3,
} as const;

export const RspCapability = {
  additionalProfile: 0,
  crlSupport: 1,
  rpmSupport: 2,
  testProfileSupport: 3,
  deviceInfoExtensibilitySupport: 4,
  serviceSpecificDataSupport: 5,
} as const;

export const PprId = { pprUpdateControl: 0, ppr1: 1, ppr2: 2 } as const;
export const ProfileClass = { test: 0, provisioning: 1, operational: 2 } as const;
export const ProfileState = { disabled: 0, enabled: 1 } as const;
export const IconType = { jpg: 0, png: 1 } as const;
export const ResetOption = { deleteOperationalProfiles: 0, deleteFieldLoadedTestProfiles: 1, resetDefaultSmdpAddress: 2 } as const;

export const CancelSessionReason = {
  endUserRejection: 0,
  postponed: 1,
  timeout: 2,
  pprNotAllowed: 3,
  metadataMismatch: 4,
  loadBppExecutionError: 5,
  undefinedReason: 127,
} as const;

export const AuthenticateErrorCode = {
  invalidCertificate: 1,
  invalidSignature: 2,
  unsupportedCurve: 3,
  noSessionContext: 4,
  invalidOid: 5,
  euiccChallengeMismatch: 6,
  ciPKUnknown: 7,
  undefinedError: 127,
} as const;

export const DownloadErrorCode = {
  invalidCertificate: 1,
  invalidSignature: 2,
  unsupportedCurve: 3,
  noSessionContext: 4,
  invalidTransactionId: 5,
  undefinedError: 127,
} as const;

export const BppCommandId = {
  initialiseSecureChannel: 0,
  configureISDP: 1,
  storeMetadata: 2,
  storeMetadata2: 3,
  replaceSessionKeys: 4,
  loadProfileElements: 5,
} as const;

export const ErrorReason = {
  incorrectInputValues: 1,
  invalidSignature: 2,
  invalidTransactionId: 3,
  unsupportedCrtValues: 4,
  unsupportedRemoteOperationType: 5,
  unsupportedProfileClass: 6,
  scp03tStructureError: 7,
  scp03tSecurityError: 8,
  installFailedDueToIccidAlreadyExistsOnEuicc: 9,
  installFailedDueToInsufficientMemoryForProfile: 10,
  installFailedDueToInterruption: 11,
  installFailedDueToPEProcessingError: 12,
  installFailedDueToDataMismatch: 13,
  testProfileInstallFailedDueToInvalidNaaKey: 14,
  pprNotAllowed: 15,
  installFailedDueToUnknownError: 127,
} as const;


// ---------------------------------------------------------------------------------------------
// EUICCInfo1 / EUICCInfo2
// ---------------------------------------------------------------------------------------------

export type Empty = Record<string, never>;

/** GetEuiccInfo1Request, tag BF20, no content. */
export const GetEuiccInfo1Request = implicit(32, seq<Empty>('GetEuiccInfo1Request', []));
/** GetEuiccInfo2Request, tag BF22, no content. */
export const GetEuiccInfo2Request = implicit(34, seq<Empty>('GetEuiccInfo2Request', []));

export interface EUICCInfo1 {
  svn: Buffer;
  euiccCiPKIdListForVerification: Buffer[];
  euiccCiPKIdListForSigning: Buffer[];
}

/** SEQUENCE OF SubjectKeyIdentifier (the CI lists of EUICCInfo1/2), at most MAX_CI_PKID_LIST. */
const CiPKIdList = sequenceOf(SubjectKeyIdentifier, { max: MAX_CI_PKID_LIST });

/** EUICCInfo1, tag BF20. */
export const EUICCInfo1 = implicit(
  32,
  seq<EUICCInfo1>('EUICCInfo1', [
    field('svn', implicit(2, VersionType)),
    field('euiccCiPKIdListForVerification', implicit(9, CiPKIdList)),
    field('euiccCiPKIdListForSigning', implicit(10, CiPKIdList)),
  ]),
);

export interface CertificationDataObject {
  platformLabel: string;
  discoveryBaseURL: string;
}

export const CertificationDataObject = seq<CertificationDataObject>('CertificationDataObject', [
  field('platformLabel', implicit(0, utf8String)),
  field('discoveryBaseURL', implicit(1, utf8String)),
]);

export interface IoTSpecificInfo {
  iotVersion: Buffer[];
  ecallSupported?: null;
  fallbackSupported?: null;
}

/** SGP.32 IoTSpecificInfo (EUICCInfo2 [20]). */
export const IoTSpecificInfo = seq<IoTSpecificInfo>('IoTSpecificInfo', [
  field('iotVersion', implicit(0, sequenceOf(VersionType, { max: MAX_VERSION_LIST }))),
  optional('ecallSupported', implicit(1, nullValue)),
  optional('fallbackSupported', implicit(2, nullValue)),
]);

export interface EUICCInfo2 {
  profileVersion: Buffer;
  svn: Buffer;
  euiccFirmwareVer: Buffer;
  extCardResource: Buffer;
  uiccCapability: BitString;
  ts102241Version?: Buffer;
  globalplatformVersion?: Buffer;
  rspCapability: BitString;
  euiccCiPKIdListForVerification: Buffer[];
  euiccCiPKIdListForSigning: Buffer[];
  euiccCategory?: number;
  forbiddenProfilePolicyRules?: BitString;
  ppVersion: Buffer;
  sasAcreditationNumber: string;
  certificationDataObject?: CertificationDataObject;
  treProperties?: BitString;
  treProductReference?: string;
  additionalEuiccProfilePackageVersions?: Buffer[];
  /** SGP.32 v1.2 (and SGP.22 v3) additions. */
  ipaMode?: number;
  euiccCiPKIdListForSigningV3?: Buffer[];
  additionalEuiccInfo?: Buffer;
  highestSvn?: Buffer;
  iotSpecificInfo?: IoTSpecificInfo;
}

/** EUICCInfo2, tag BF22, with the optional SGP.32 v1.2 components [16]..[20]. */
export const EUICCInfo2 = implicit(
  34,
  seq<EUICCInfo2>('EUICCInfo2', [
    field('profileVersion', implicit(1, VersionType)),
    field('svn', implicit(2, VersionType)),
    field('euiccFirmwareVer', implicit(3, VersionType)),
    field('extCardResource', implicit(4, octetString({ max: MAX_EXT_CARD_RESOURCE }))),
    field('uiccCapability', implicit(5, bitString)),
    optional('ts102241Version', implicit(6, VersionType)),
    optional('globalplatformVersion', implicit(7, VersionType)),
    field('rspCapability', implicit(8, bitString)),
    field('euiccCiPKIdListForVerification', implicit(9, CiPKIdList)),
    field('euiccCiPKIdListForSigning', implicit(10, CiPKIdList)),
    optional('euiccCategory', implicit(11, integer)),
    optional('forbiddenProfilePolicyRules', implicit(25, bitString)),
    field('ppVersion', VersionType),
    field('sasAcreditationNumber', sizedUtf8String(0, 64)),
    optional('certificationDataObject', implicit(12, CertificationDataObject)),
    optional('treProperties', implicit(13, bitString)),
    optional('treProductReference', implicit(14, utf8String)),
    optional('additionalEuiccProfilePackageVersions', implicit(15, sequenceOf(VersionType, { max: MAX_VERSION_LIST }))),
    optional('ipaMode', implicit(16, integer)),
    optional('euiccCiPKIdListForSigningV3', implicit(17, CiPKIdList)),
    optional('additionalEuiccInfo', implicit(18, octetString({ max: 32 }))),
    optional('highestSvn', implicit(19, VersionType)),
    optional('iotSpecificInfo', implicit(20, IoTSpecificInfo)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// Device information and common mutual authentication (ES10b.AuthenticateServer)
// ---------------------------------------------------------------------------------------------

export interface DeviceAdditionalFeatureSupport {
  naiSupport?: Buffer;
}

export const DeviceAdditionalFeatureSupport = seq<DeviceAdditionalFeatureSupport>('DeviceAdditionalFeatureSupport', [
  optional('naiSupport', implicit(0, VersionType)),
]);

export interface DeviceCapabilities {
  gsmSupportedRelease?: Buffer;
  utranSupportedRelease?: Buffer;
  cdma2000onexSupportedRelease?: Buffer;
  cdma2000hrpdSupportedRelease?: Buffer;
  cdma2000ehrpdSupportedRelease?: Buffer;
  eutranEpcSupportedRelease?: Buffer;
  contactlessSupportedRelease?: Buffer;
  rspCrlSupportedVersion?: Buffer;
  nrEpcSupportedRelease?: Buffer;
  nr5gcSupportedRelease?: Buffer;
  eutran5gcSupportedRelease?: Buffer;
  lpaSvn?: Buffer;
  catSupportedClasses?: BitString;
  euiccFormFactorType?: number;
  deviceAdditionalFeatureSupport?: DeviceAdditionalFeatureSupport;
}

const RELEASES = [
  'gsmSupportedRelease',
  'utranSupportedRelease',
  'cdma2000onexSupportedRelease',
  'cdma2000hrpdSupportedRelease',
  'cdma2000ehrpdSupportedRelease',
  'eutranEpcSupportedRelease',
  'contactlessSupportedRelease',
  'rspCrlSupportedVersion',
  'nrEpcSupportedRelease',
  'nr5gcSupportedRelease',
  'eutran5gcSupportedRelease',
  'lpaSvn',
] as const;

export const DeviceCapabilities = seq<DeviceCapabilities>('DeviceCapabilities', [
  ...RELEASES.map((key, i) => optional(key, implicit(i, VersionType))),
  optional('catSupportedClasses', implicit(12, bitString)),
  optional('euiccFormFactorType', implicit(13, integer)),
  optional('deviceAdditionalFeatureSupport', implicit(14, DeviceAdditionalFeatureSupport)),
]);

export interface DeviceInfo {
  tac: Buffer;
  deviceCapabilities: DeviceCapabilities;
  imei?: Buffer;
}

export const DeviceInfo = seq<DeviceInfo>('DeviceInfo', [
  field('tac', implicit(0, Octet4)),
  field('deviceCapabilities', implicit(1, DeviceCapabilities)),
  optional('imei', implicit(2, Octet8)),
]);

export interface CtxParamsForCommonAuthentication {
  matchingId?: string;
  deviceInfo: DeviceInfo;
}

export const CtxParamsForCommonAuthentication = seq<CtxParamsForCommonAuthentication>('CtxParamsForCommonAuthentication', [
  optional('matchingId', implicit(0, utf8String)),
  field('deviceInfo', implicit(1, DeviceInfo)),
]);

export type CtxParams1 = Chosen<'ctxParamsForCommonAuthentication', CtxParamsForCommonAuthentication>;

/** CtxParams1 CHOICE: ctxParamsForCommonAuthentication is tag A0. */
export const CtxParams1 = choice<CtxParams1>('CtxParams1', [
  alternative('ctxParamsForCommonAuthentication', implicit(0, CtxParamsForCommonAuthentication)),
]);

export interface ServerSigned1 {
  transactionId: Buffer;
  euiccChallenge: Buffer;
  serverAddress: string;
  serverChallenge: Buffer;
}

export const ServerSigned1 = seq<ServerSigned1>('ServerSigned1', [
  field('transactionId', implicit(0, TransactionId)),
  field('euiccChallenge', implicit(1, Octet16)),
  field('serverAddress', implicit(3, utf8String)),
  field('serverChallenge', implicit(4, Octet16)),
]);

export interface AuthenticateServerRequest {
  /** Signed by the server over these exact bytes (serverSignature1). */
  serverSigned1: Captured<ServerSigned1>;
  serverSignature1: Buffer;
  euiccCiPKIdToBeUsed: Buffer;
  serverCertificate: Buffer;
  ctxParams1: CtxParams1;
}

/** ES10b.AuthenticateServer request, tag BF38. */
export const AuthenticateServerRequest = implicit(
  56,
  seq<AuthenticateServerRequest>('AuthenticateServerRequest', [
    field('serverSigned1', captured(ServerSigned1)),
    field('serverSignature1', Signature),
    field('euiccCiPKIdToBeUsed', SubjectKeyIdentifier),
    field('serverCertificate', CertificateDer),
    field('ctxParams1', CtxParams1),
  ]),
);

export interface EuiccSigned1 {
  transactionId: Buffer;
  serverAddress: string;
  serverChallenge: Buffer;
  euiccInfo2: EUICCInfo2;
  ctxParams1: CtxParams1;
}

export const EuiccSigned1 = seq<EuiccSigned1>('EuiccSigned1', [
  field('transactionId', implicit(0, TransactionId)),
  field('serverAddress', implicit(3, utf8String)),
  field('serverChallenge', implicit(4, Octet16)),
  field('euiccInfo2', EUICCInfo2),
  field('ctxParams1', CtxParams1),
]);

export interface AuthenticateResponseOk {
  /** Signed by the eUICC over these exact bytes (euiccSignature1). */
  euiccSigned1: Captured<EuiccSigned1>;
  euiccSignature1: Buffer;
  euiccCertificate: Buffer;
  eumCertificate: Buffer;
}

export const AuthenticateResponseOk = seq<AuthenticateResponseOk>('AuthenticateResponseOk', [
  field('euiccSigned1', captured(EuiccSigned1)),
  field('euiccSignature1', Signature),
  field('euiccCertificate', CertificateDer),
  field('eumCertificate', CertificateDer),
]);

export interface AuthenticateResponseError {
  transactionId: Buffer;
  authenticateErrorCode: number;
}

export const AuthenticateResponseError = seq<AuthenticateResponseError>('AuthenticateResponseError', [
  field('transactionId', implicit(0, TransactionId)),
  field('authenticateErrorCode', integer),
]);

export type AuthenticateServerResponse =
  | Chosen<'authenticateResponseOk', AuthenticateResponseOk>
  | Chosen<'authenticateResponseError', AuthenticateResponseError>;

/** ES10b.AuthenticateServer response, tag BF38 around A0 (ok) or A1 (error). */
export const AuthenticateServerResponse = explicit(
  56,
  choice<AuthenticateServerResponse>('AuthenticateServerResponse', [
    alternative('authenticateResponseOk', implicit(0, AuthenticateResponseOk)),
    alternative('authenticateResponseError', implicit(1, AuthenticateResponseError)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// ES10b.PrepareDownload
// ---------------------------------------------------------------------------------------------

export interface SmdpSigned2 {
  transactionId: Buffer;
  ccRequiredFlag: boolean;
  bppEuiccOtpk?: Buffer;
}

export const SmdpSigned2 = seq<SmdpSigned2>('SmdpSigned2', [
  field('transactionId', implicit(0, TransactionId)),
  field('ccRequiredFlag', boolean),
  optional('bppEuiccOtpk', OtPk),
]);

export interface PrepareDownloadRequest {
  /** Signed by the SM-DP+ (smdpSignature2 covers these bytes, then the euiccSignature1 TLV). */
  smdpSigned2: Captured<SmdpSigned2>;
  smdpSignature2: Buffer;
  hashCc?: Buffer;
  smdpCertificate: Buffer;
}

/** ES10b.PrepareDownload request, tag BF21. */
export const PrepareDownloadRequest = implicit(
  33,
  seq<PrepareDownloadRequest>('PrepareDownloadRequest', [
    field('smdpSigned2', captured(SmdpSigned2)),
    field('smdpSignature2', Signature),
    optional('hashCc', Octet32),
    field('smdpCertificate', CertificateDer),
  ]),
);

export interface EUICCSigned2 {
  transactionId: Buffer;
  euiccOtpk: Buffer;
  hashCc?: Buffer;
}

export const EUICCSigned2 = seq<EUICCSigned2>('EUICCSigned2', [
  field('transactionId', implicit(0, TransactionId)),
  field('euiccOtpk', OtPk),
  optional('hashCc', Octet32),
]);

export interface PrepareDownloadResponseOk {
  /** Signed by the eUICC (euiccSignature2 covers these bytes, then the smdpSignature2 TLV). */
  euiccSigned2: Captured<EUICCSigned2>;
  euiccSignature2: Buffer;
}

export const PrepareDownloadResponseOk = seq<PrepareDownloadResponseOk>('PrepareDownloadResponseOk', [
  field('euiccSigned2', captured(EUICCSigned2)),
  field('euiccSignature2', Signature),
]);

export interface PrepareDownloadResponseError {
  transactionId: Buffer;
  downloadErrorCode: number;
}

export const PrepareDownloadResponseError = seq<PrepareDownloadResponseError>('PrepareDownloadResponseError', [
  field('transactionId', implicit(0, TransactionId)),
  field('downloadErrorCode', integer),
]);

export type PrepareDownloadResponse =
  | Chosen<'downloadResponseOk', PrepareDownloadResponseOk>
  | Chosen<'downloadResponseError', PrepareDownloadResponseError>;

/** ES10b.PrepareDownload response, tag BF21 around A0 (ok) or A1 (error). */
export const PrepareDownloadResponse = explicit(
  33,
  choice<PrepareDownloadResponse>('PrepareDownloadResponse', [
    alternative('downloadResponseOk', implicit(0, PrepareDownloadResponseOk)),
    alternative('downloadResponseError', implicit(1, PrepareDownloadResponseError)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// Profile metadata (StoreMetadataRequest, ProfileInfo)
// ---------------------------------------------------------------------------------------------

export interface OperatorId {
  mccMnc: Buffer;
  gid1?: Buffer;
  gid2?: Buffer;
}

export const OperatorId = seq<OperatorId>('OperatorId', [
  field('mccMnc', implicit(0, octetString(3))),
  optional('gid1', implicit(1, octetString({ max: MAX_GID }))),
  optional('gid2', implicit(2, octetString({ max: MAX_GID }))),
]);

export interface NotificationConfigurationInformation {
  profileManagementOperation: BitString;
  notificationAddress: string;
}

export const NotificationConfigurationInformation = seq<NotificationConfigurationInformation>(
  'NotificationConfigurationInformation',
  [field('profileManagementOperation', implicit(0, bitString)), field('notificationAddress', implicit(1, utf8String))],
);

export interface VendorSpecificExtensionEntry {
  vendorOid: string;
  /** The open-type value: one element, kept as its exact DER. */
  vendorSpecificData: Buffer;
}

export type VendorSpecificExtension = VendorSpecificExtensionEntry[];

export const VendorSpecificExtension = sequenceOf(
  seq<VendorSpecificExtensionEntry>('VendorSpecificExtension', [
    field('vendorOid', implicit(0, oid)),
    field('vendorSpecificData', explicit(1, anyElement)),
  ]),
  { max: MAX_VENDOR_EXTENSIONS },
);

export interface DpProprietaryData {
  dpOid: string;
}

export const DpProprietaryData = seq<DpProprietaryData>('DpProprietaryData', [field('dpOid', implicit(0, oid))]);

const ServiceProviderName = implicit(17, sizedUtf8String(0, 32));
const ProfileName = implicit(18, sizedUtf8String(0, 64));
const Icon = implicit(20, octetString({ max: 1024 }));
const NotificationConfigurationInfo = implicit(22, sequenceOf(NotificationConfigurationInformation, { max: MAX_NOTIFICATION_CONFIGURATIONS }));

export interface StoreMetadataRequest {
  iccid: Buffer;
  serviceProviderName: string;
  profileName: string;
  iconType?: number;
  icon?: Buffer;
  /** DEFAULT operational(2): absent means operational. */
  profileClass?: number;
  notificationConfigurationInfo?: NotificationConfigurationInformation[];
  profileOwner?: OperatorId;
  profilePolicyRules?: BitString;
  serviceSpecificDataStoredInEuicc?: VendorSpecificExtension;
  serviceSpecificDataNotStoredInEuicc?: VendorSpecificExtension;
}

/** ES8+.StoreMetadata request (profile metadata), tag BF25. */
export const StoreMetadataRequest = implicit(
  37,
  seq<StoreMetadataRequest>('StoreMetadataRequest', [
    field('iccid', Iccid),
    field('serviceProviderName', ServiceProviderName),
    field('profileName', ProfileName),
    optional('iconType', implicit(19, integer)),
    optional('icon', Icon),
    optional('profileClass', implicit(21, integer)),
    optional('notificationConfigurationInfo', NotificationConfigurationInfo),
    optional('profileOwner', implicit(23, OperatorId)),
    optional('profilePolicyRules', implicit(25, bitString)),
    optional('serviceSpecificDataStoredInEuicc', implicit(34, VendorSpecificExtension)),
    optional('serviceSpecificDataNotStoredInEuicc', implicit(35, VendorSpecificExtension)),
  ]),
);

export interface ProfileInfo {
  iccid?: Buffer;
  isdpAid?: Buffer;
  profileState?: number;
  profileNickname?: string;
  serviceProviderName?: string;
  profileName?: string;
  iconType?: number;
  icon?: Buffer;
  profileClass?: number;
  notificationConfigurationInfo?: NotificationConfigurationInformation[];
  profileOwner?: OperatorId;
  dpProprietaryData?: DpProprietaryData;
  profilePolicyRules?: BitString;
  serviceSpecificDataStoredInEuicc?: VendorSpecificExtension;
}

/** ProfileInfo, tag E3. */
export const ProfileInfo = privateTag(
  3,
  seq<ProfileInfo>('ProfileInfo', [
    optional('iccid', Iccid),
    optional('isdpAid', IsdpAid),
    optional('profileState', implicit(112, integer)),
    optional('profileNickname', implicit(16, sizedUtf8String(0, 64))),
    optional('serviceProviderName', ServiceProviderName),
    optional('profileName', ProfileName),
    optional('iconType', implicit(19, integer)),
    optional('icon', Icon),
    optional('profileClass', implicit(21, integer)),
    optional('notificationConfigurationInfo', NotificationConfigurationInfo),
    optional('profileOwner', implicit(23, OperatorId)),
    optional('dpProprietaryData', implicit(24, DpProprietaryData)),
    optional('profilePolicyRules', implicit(25, bitString)),
    optional('serviceSpecificDataStoredInEuicc', implicit(34, VendorSpecificExtension)),
  ]),
);

export type ProfileIdentifier = Chosen<'isdpAid', Buffer> | Chosen<'iccid', Buffer>;

const ProfileIdentifierChoice = choice<ProfileIdentifier>('ProfileIdentifier', [
  alternative('isdpAid', IsdpAid),
  alternative('iccid', Iccid),
]);

export type ProfileInfoSearchCriteria = ProfileIdentifier | Chosen<'profileClass', number>;

export interface ProfileInfoListRequest {
  searchCriteria?: ProfileInfoSearchCriteria;
  tagList?: Buffer;
}

/** ES10c.GetProfilesInfo request, tag BF2D. */
export const ProfileInfoListRequest = implicit(
  45,
  seq<ProfileInfoListRequest>('ProfileInfoListRequest', [
    optional(
      'searchCriteria',
      explicit(
        0,
        choice<ProfileInfoSearchCriteria>('ProfileInfoSearchCriteria', [
          alternative('isdpAid', IsdpAid),
          alternative('iccid', Iccid),
          alternative('profileClass', implicit(21, integer)),
        ]),
      ),
    ),
    optional('tagList', application(28, octetString({ max: MAX_TAG_LIST }))),
  ]),
);

export type ProfileInfoListResponse = Chosen<'profileInfoListOk', ProfileInfo[]> | Chosen<'profileInfoListError', number>;

/** ES10c.GetProfilesInfo response, tag BF2D around A0 (list of E3) or 81 (error). */
export const ProfileInfoListResponse = explicit(
  45,
  choice<ProfileInfoListResponse>('ProfileInfoListResponse', [
    alternative('profileInfoListOk', implicit(0, sequenceOf(ProfileInfo, { max: MAX_PROFILES }))),
    alternative('profileInfoListError', implicit(1, integer)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// Bound Profile Package (ES8+)
// ---------------------------------------------------------------------------------------------

export interface ControlRefTemplate {
  keyType: Buffer;
  keyLen: Buffer;
  hostId: Buffer;
}

export const ControlRefTemplate = seq<ControlRefTemplate>('ControlRefTemplate', [
  field('keyType', implicit(0, Octet1)),
  field('keyLen', implicit(1, Octet1)),
  field('hostId', implicit(4, OctetTo16)),
]);

export interface InitialiseSecureChannelRequest {
  remoteOpId: number;
  transactionId: Buffer;
  controlRefTemplate: ControlRefTemplate;
  smdpOtpk: Buffer;
  smdpSign: Buffer;
}

/** ES8+.InitialiseSecureChannel, tag BF23. */
export const InitialiseSecureChannelRequest = implicit(
  35,
  seq<InitialiseSecureChannelRequest>('InitialiseSecureChannelRequest', [
    field('remoteOpId', implicit(2, integer)),
    field('transactionId', implicit(0, TransactionId)),
    field('controlRefTemplate', implicit(6, ControlRefTemplate)),
    field('smdpOtpk', OtPk),
    field('smdpSign', Signature),
  ]),
);

export interface ConfigureISDPRequest {
  dpProprietaryData?: DpProprietaryData;
}

/** ES8+.ConfigureISDP, tag BF24. */
export const ConfigureISDPRequest = implicit(
  36,
  seq<ConfigureISDPRequest>('ConfigureISDPRequest', [optional('dpProprietaryData', implicit(24, DpProprietaryData))]),
);

export interface ReplaceSessionKeysRequest {
  initialMacChainingValue: Buffer;
  ppkEnc: Buffer;
  ppkCmac: Buffer;
}

/** ES8+.ReplaceSessionKeys, tag BF26. */
export const ReplaceSessionKeysRequest = implicit(
  38,
  seq<ReplaceSessionKeysRequest>('ReplaceSessionKeysRequest', [
    field('initialMacChainingValue', implicit(0, octetString({ max: MAX_SESSION_KEY }))),
    field('ppkEnc', implicit(1, octetString({ max: MAX_SESSION_KEY }))),
    field('ppkCmac', implicit(2, octetString({ max: MAX_SESSION_KEY }))),
  ]),
);

export interface BoundProfilePackage {
  /** Kept with its received bytes: smdpSign covers its components as sent. */
  initialiseSecureChannelRequest: Captured<InitialiseSecureChannelRequest>;
  /** Whole '87' TLVs (ConfigureISDP, encrypted and MACed). */
  firstSequenceOf87: Buffer[];
  /** Whole '88' TLVs (StoreMetadata, MACed). */
  sequenceOf88: Buffer[];
  /** Whole '87' TLVs (ReplaceSessionKeys), when profile protection keys are used. */
  secondSequenceOf87?: Buffer[];
  /** Whole '86' TLVs (the profile package segments). */
  sequenceOf86: Buffer[];
}

/** BoundProfilePackage, tag BF36: BF23, A0 {87...}, A1 {88...}, [A2 {87...}], A3 {86...}; segments kept raw. */
export const BoundProfilePackage = implicit(
  54,
  seq<BoundProfilePackage>('BoundProfilePackage', [
    field('initialiseSecureChannelRequest', captured(InitialiseSecureChannelRequest)),
    field('firstSequenceOf87', implicit(0, sequenceOf(rawElement(0x87, 'segment 87'), { max: MAX_BPP_87_SEGMENTS }))),
    field('sequenceOf88', implicit(1, sequenceOf(rawElement(0x88, 'segment 88'), { max: MAX_BPP_88_SEGMENTS }))),
    optional('secondSequenceOf87', implicit(2, sequenceOf(rawElement(0x87, 'segment 87'), { max: MAX_BPP_87_SEGMENTS }))),
    field('sequenceOf86', implicit(3, sequenceOf(rawElement(0x86, 'segment 86'), { max: MAX_BPP_86_SEGMENTS }))),
  ]),
);

// ---------------------------------------------------------------------------------------------
// Notifications and the Profile Installation Result
// ---------------------------------------------------------------------------------------------

export interface NotificationMetadata {
  seqNumber: number;
  profileManagementOperation: BitString;
  notificationAddress: string;
  iccid?: Buffer;
}

/** NotificationMetadata, tag BF2F. */
export const NotificationMetadata = implicit(
  47,
  seq<NotificationMetadata>('NotificationMetadata', [
    field('seqNumber', implicit(0, integer)),
    field('profileManagementOperation', implicit(1, bitString)),
    field('notificationAddress', utf8String),
    optional('iccid', Iccid),
  ]),
);

export interface SuccessResult {
  aid: Buffer;
  simaResponse: Buffer;
}

export const SuccessResult = seq<SuccessResult>('SuccessResult', [
  field('aid', application(15, octetString({ min: 5, max: 16 }))),
  field('simaResponse', octetString({ max: MAX_SIMA_RESPONSE })),
]);

export interface ErrorResult {
  bppCommandId: number;
  errorReason: number;
  simaResponse?: Buffer;
}

export const ErrorResult = seq<ErrorResult>('ErrorResult', [
  field('bppCommandId', implicit(0, integer)),
  field('errorReason', implicit(1, integer)),
  optional('simaResponse', implicit(2, octetString({ max: MAX_SIMA_RESPONSE }))),
]);

export type FinalResult = Chosen<'successResult', SuccessResult> | Chosen<'errorResult', ErrorResult>;

export interface ProfileInstallationResultData {
  transactionId: Buffer;
  notificationMetadata: NotificationMetadata;
  smdpOid: string;
  finalResult: FinalResult;
}

/** ProfileInstallationResultData, tag BF27; finalResult is A2 around A0 (success) or A1 (error). */
export const ProfileInstallationResultData = implicit(
  39,
  seq<ProfileInstallationResultData>('ProfileInstallationResultData', [
    field('transactionId', implicit(0, TransactionId)),
    field('notificationMetadata', NotificationMetadata),
    field('smdpOid', oid),
    field(
      'finalResult',
      explicit(
        2,
        choice<FinalResult>('FinalResult', [
          alternative('successResult', implicit(0, SuccessResult)),
          alternative('errorResult', implicit(1, ErrorResult)),
        ]),
      ),
    ),
  ]),
);

export interface ProfileInstallationResult {
  /** Signed by the eUICC over these exact bytes (euiccSignPIR). */
  profileInstallationResultData: Captured<ProfileInstallationResultData>;
  euiccSignPIR: Buffer;
}

/** ProfileInstallationResult (PIR), tag BF37. */
export const ProfileInstallationResult = implicit(
  55,
  seq<ProfileInstallationResult>('ProfileInstallationResult', [
    field('profileInstallationResultData', captured(ProfileInstallationResultData)),
    field('euiccSignPIR', Signature),
  ]),
);

export interface OtherSignedNotification {
  /** Signed by the eUICC over these exact bytes (euiccNotificationSignature). */
  tbsOtherNotification: Captured<NotificationMetadata>;
  euiccNotificationSignature: Buffer;
  euiccCertificate: Buffer;
  eumCertificate: Buffer;
}

export const OtherSignedNotification = seq<OtherSignedNotification>('OtherSignedNotification', [
  field('tbsOtherNotification', captured(NotificationMetadata)),
  field('euiccNotificationSignature', Signature),
  field('euiccCertificate', CertificateDer),
  field('eumCertificate', CertificateDer),
]);

export type PendingNotification =
  | Chosen<'profileInstallationResult', ProfileInstallationResult>
  | Chosen<'otherSignedNotification', OtherSignedNotification>;

/** PendingNotification CHOICE: BF37 (PIR) or a SEQUENCE (other signed notification). */
export const PendingNotification = choice<PendingNotification>('PendingNotification', [
  alternative('profileInstallationResult', ProfileInstallationResult),
  alternative('otherSignedNotification', OtherSignedNotification),
]);

export interface ListNotificationRequest {
  profileManagementOperation?: BitString;
}

/** ES10b.ListNotification request, tag BF28. */
export const ListNotificationRequest = implicit(
  40,
  seq<ListNotificationRequest>('ListNotificationRequest', [optional('profileManagementOperation', implicit(1, bitString))]),
);

export type ListNotificationResponse =
  | Chosen<'notificationMetadataList', NotificationMetadata[]>
  | Chosen<'listNotificationsResultError', number>;

/** ES10b.ListNotification response, tag BF28 around A0 (list of BF2F) or 81 (error). */
export const ListNotificationResponse = explicit(
  40,
  choice<ListNotificationResponse>('ListNotificationResponse', [
    alternative('notificationMetadataList', implicit(0, sequenceOf(NotificationMetadata, { max: MAX_NOTIFICATIONS }))),
    alternative('listNotificationsResultError', implicit(1, integer)),
  ]),
);

export type RetrieveNotificationsSearchCriteria = Chosen<'seqNumber', number> | Chosen<'profileManagementOperation', BitString>;

export interface RetrieveNotificationsListRequest {
  searchCriteria?: RetrieveNotificationsSearchCriteria;
}

/** ES10b.RetrieveNotificationsList request, tag BF2B; searchCriteria is A0 around 80 or 81. */
export const RetrieveNotificationsListRequest = implicit(
  43,
  seq<RetrieveNotificationsListRequest>('RetrieveNotificationsListRequest', [
    optional(
      'searchCriteria',
      explicit(
        0,
        choice<RetrieveNotificationsSearchCriteria>('RetrieveNotificationsSearchCriteria', [
          alternative('seqNumber', implicit(0, integer)),
          alternative('profileManagementOperation', implicit(1, bitString)),
        ]),
      ),
    ),
  ]),
);

export type RetrieveNotificationsListResponse =
  | Chosen<'notificationList', PendingNotification[]>
  | Chosen<'notificationsListResultError', number>;

/** ES10b.RetrieveNotificationsList response, tag BF2B around A0 (list) or 81 (error). */
export const RetrieveNotificationsListResponse = explicit(
  43,
  choice<RetrieveNotificationsListResponse>('RetrieveNotificationsListResponse', [
    alternative('notificationList', implicit(0, sequenceOf(PendingNotification, { max: MAX_NOTIFICATIONS }))),
    alternative('notificationsListResultError', implicit(1, integer)),
  ]),
);

export interface NotificationSentRequest {
  seqNumber: number;
}

/** ES10b.RemoveNotificationFromList request, tag BF30. */
export const NotificationSentRequest = implicit(
  48,
  seq<NotificationSentRequest>('NotificationSentRequest', [field('seqNumber', implicit(0, integer))]),
);

export interface NotificationSentResponse {
  deleteNotificationStatus: number;
}

/** ES10b.RemoveNotificationFromList response, tag BF30. */
export const NotificationSentResponse = implicit(
  48,
  seq<NotificationSentResponse>('NotificationSentResponse', [field('deleteNotificationStatus', implicit(0, integer))]),
);

// ---------------------------------------------------------------------------------------------
// Cancel session
// ---------------------------------------------------------------------------------------------

export interface CancelSessionRequest {
  transactionId: Buffer;
  reason: number;
}

/** ES10b.CancelSession request, tag BF41. */
export const CancelSessionRequest = implicit(
  65,
  seq<CancelSessionRequest>('CancelSessionRequest', [
    field('transactionId', implicit(0, TransactionId)),
    field('reason', implicit(1, integer)),
  ]),
);

export interface EuiccCancelSessionSigned {
  transactionId: Buffer;
  smdpOid: string;
  reason: number;
}

export const EuiccCancelSessionSigned = seq<EuiccCancelSessionSigned>('EuiccCancelSessionSigned', [
  field('transactionId', implicit(0, TransactionId)),
  field('smdpOid', implicit(1, oid)),
  field('reason', implicit(2, integer)),
]);

export interface CancelSessionResponseOk {
  /** Signed by the eUICC over these exact bytes (euiccCancelSessionSignature). */
  euiccCancelSessionSigned: Captured<EuiccCancelSessionSigned>;
  euiccCancelSessionSignature: Buffer;
}

export const CancelSessionResponseOk = seq<CancelSessionResponseOk>('CancelSessionResponseOk', [
  field('euiccCancelSessionSigned', captured(EuiccCancelSessionSigned)),
  field('euiccCancelSessionSignature', Signature),
]);

export type CancelSessionResponse =
  | Chosen<'cancelSessionResponseOk', CancelSessionResponseOk>
  | Chosen<'cancelSessionResponseError', number>;

/** ES10b.CancelSession response, tag BF41 around A0 (ok) or 81 (error). */
export const CancelSessionResponse = explicit(
  65,
  choice<CancelSessionResponse>('CancelSessionResponse', [
    alternative('cancelSessionResponseOk', implicit(0, CancelSessionResponseOk)),
    alternative('cancelSessionResponseError', implicit(1, integer)),
  ]),
);

// ---------------------------------------------------------------------------------------------
// ES10a / ES10b / ES10c simple functions
// ---------------------------------------------------------------------------------------------

/** ES10b.GetEUICCChallenge request, tag BF2E, no content. */
export const GetEuiccChallengeRequest = implicit(46, seq<Empty>('GetEuiccChallengeRequest', []));

export interface GetEuiccChallengeResponse {
  euiccChallenge: Buffer;
}

/** ES10b.GetEUICCChallenge response, tag BF2E. */
export const GetEuiccChallengeResponse = implicit(
  46,
  seq<GetEuiccChallengeResponse>('GetEuiccChallengeResponse', [field('euiccChallenge', implicit(0, Octet16))]),
);

export interface GetEuiccDataRequest {
  tagList: Buffer;
}

/** ES10c.GetEID request, tag BF3E (tagList 5C holding '5A'). */
export const GetEuiccDataRequest = implicit(
  62,
  seq<GetEuiccDataRequest>('GetEuiccDataRequest', [field('tagList', application(28, Octet1))]),
);

export interface GetEuiccDataResponse {
  eidValue: Buffer;
}

/** ES10c.GetEID response, tag BF3E. */
export const GetEuiccDataResponse = implicit(
  62,
  seq<GetEuiccDataResponse>('GetEuiccDataResponse', [field('eidValue', application(26, Octet16))]),
);

export interface ProfileSwitchRequest {
  profileIdentifier: ProfileIdentifier;
  refreshFlag: boolean;
}

function profileSwitchRequest(tagNumber: number, name: string): TaggedCodec<ProfileSwitchRequest> {
  return implicit(
    tagNumber,
    seq<ProfileSwitchRequest>(name, [
      field('profileIdentifier', explicit(0, ProfileIdentifierChoice)),
      field('refreshFlag', implicit(1, boolean)),
    ]),
  );
}

function resultResponse<K extends string>(tagNumber: number, name: string, key: K): TaggedCodec<Record<K, number>> {
  return implicit(tagNumber, seq<Record<K, number>>(name, [field(key, implicit(0, integer))]));
}

export type EnableProfileRequest = ProfileSwitchRequest;
/** ES10c.EnableProfile request, tag BF31. */
export const EnableProfileRequest = profileSwitchRequest(49, 'EnableProfileRequest');
export interface EnableProfileResponse {
  enableResult: number;
}
/** ES10c.EnableProfile response, tag BF31. */
export const EnableProfileResponse: TaggedCodec<EnableProfileResponse> = resultResponse(49, 'EnableProfileResponse', 'enableResult');

export type DisableProfileRequest = ProfileSwitchRequest;
/** ES10c.DisableProfile request, tag BF32. */
export const DisableProfileRequest = profileSwitchRequest(50, 'DisableProfileRequest');
export interface DisableProfileResponse {
  disableResult: number;
}
/** ES10c.DisableProfile response, tag BF32. */
export const DisableProfileResponse: TaggedCodec<DisableProfileResponse> = resultResponse(50, 'DisableProfileResponse', 'disableResult');

export type DeleteProfileRequest = ProfileIdentifier;
/** ES10c.DeleteProfile request, tag BF33 around 4F or 5A. */
export const DeleteProfileRequest = explicit(51, ProfileIdentifierChoice);
export interface DeleteProfileResponse {
  deleteResult: number;
}
/** ES10c.DeleteProfile response, tag BF33. */
export const DeleteProfileResponse: TaggedCodec<DeleteProfileResponse> = resultResponse(51, 'DeleteProfileResponse', 'deleteResult');

export interface EuiccMemoryResetRequest {
  resetOptions: BitString;
}
/** ES10c.eUICCMemoryReset request, tag BF34. */
export const EuiccMemoryResetRequest = implicit(
  52,
  seq<EuiccMemoryResetRequest>('EuiccMemoryResetRequest', [field('resetOptions', implicit(2, bitString))]),
);
export interface EuiccMemoryResetResponse {
  resetResult: number;
}
/** ES10c.eUICCMemoryReset response, tag BF34. */
export const EuiccMemoryResetResponse: TaggedCodec<EuiccMemoryResetResponse> = resultResponse(52, 'EuiccMemoryResetResponse', 'resetResult');

export interface SetNicknameRequest {
  iccid: Buffer;
  profileNickname: string;
}
/** ES10c.SetNickname request, tag BF29. */
export const SetNicknameRequest = implicit(
  41,
  seq<SetNicknameRequest>('SetNicknameRequest', [
    field('iccid', Iccid),
    field('profileNickname', implicit(16, sizedUtf8String(0, 64))),
  ]),
);
export interface SetNicknameResponse {
  setNicknameResult: number;
}
/** ES10c.SetNickname response, tag BF29. */
export const SetNicknameResponse: TaggedCodec<SetNicknameResponse> = resultResponse(41, 'SetNicknameResponse', 'setNicknameResult');

/** ES10a.GetEuiccConfiguredAddresses request, tag BF3C, no content. */
export const EuiccConfiguredAddressesRequest = implicit(60, seq<Empty>('EuiccConfiguredAddressesRequest', []));
export interface EuiccConfiguredAddressesResponse {
  defaultDpAddress?: string;
  rootDsAddress: string;
}
/** ES10a.GetEuiccConfiguredAddresses response, tag BF3C. */
export const EuiccConfiguredAddressesResponse = implicit(
  60,
  seq<EuiccConfiguredAddressesResponse>('EuiccConfiguredAddressesResponse', [
    optional('defaultDpAddress', implicit(0, utf8String)),
    field('rootDsAddress', implicit(1, utf8String)),
  ]),
);

export interface SetDefaultDpAddressRequest {
  defaultDpAddress: string;
}
/** ES10a.SetDefaultDpAddress request, tag BF3F. */
export const SetDefaultDpAddressRequest = implicit(
  63,
  seq<SetDefaultDpAddressRequest>('SetDefaultDpAddressRequest', [field('defaultDpAddress', implicit(0, utf8String))]),
);
export interface SetDefaultDpAddressResponse {
  setDefaultDpAddressResult: number;
}
/** ES10a.SetDefaultDpAddress response, tag BF3F. */
export const SetDefaultDpAddressResponse: TaggedCodec<SetDefaultDpAddressResponse> = resultResponse(
  63,
  'SetDefaultDpAddressResponse',
  'setDefaultDpAddressResult',
);

export interface ProfilePolicyAuthorisationRule {
  pprIds: BitString;
  allowedOperators: OperatorId[];
  pprFlags: BitString;
}

export const ProfilePolicyAuthorisationRule = seq<ProfilePolicyAuthorisationRule>('ProfilePolicyAuthorisationRule', [
  field('pprIds', implicit(0, bitString)),
  field('allowedOperators', implicit(1, sequenceOf(OperatorId, { max: MAX_ALLOWED_OPERATORS }))),
  field('pprFlags', implicit(2, bitString)),
]);

/** ES10b.GetRAT request, tag BF43, no content. */
export const GetRatRequest = implicit(67, seq<Empty>('GetRatRequest', []));
export interface GetRatResponse {
  rat: ProfilePolicyAuthorisationRule[];
}
/** ES10b.GetRAT response, tag BF43. */
export const GetRatResponse = implicit(
  67,
  seq<GetRatResponse>('GetRatResponse', [field('rat', implicit(0, sequenceOf(ProfilePolicyAuthorisationRule, { max: MAX_RAT_RULES })))]),
);

/** Every ES10/ES8+ message codec above by its ASN.1 type name (for tools and the fuzzer). */
export const RSP_MESSAGES: Readonly<Record<string, Codec<unknown>>> = Object.freeze({
  GetEuiccInfo1Request,
  EUICCInfo1,
  GetEuiccInfo2Request,
  EUICCInfo2,
  ServerSigned1,
  AuthenticateServerRequest,
  EuiccSigned1,
  AuthenticateServerResponse,
  SmdpSigned2,
  PrepareDownloadRequest,
  EUICCSigned2,
  PrepareDownloadResponse,
  StoreMetadataRequest,
  ProfileInfo,
  ProfileInfoListRequest,
  ProfileInfoListResponse,
  InitialiseSecureChannelRequest,
  ConfigureISDPRequest,
  ReplaceSessionKeysRequest,
  BoundProfilePackage,
  NotificationMetadata,
  ProfileInstallationResultData,
  ProfileInstallationResult,
  OtherSignedNotification,
  PendingNotification,
  ListNotificationRequest,
  ListNotificationResponse,
  RetrieveNotificationsListRequest,
  RetrieveNotificationsListResponse,
  NotificationSentRequest,
  NotificationSentResponse,
  CancelSessionRequest,
  EuiccCancelSessionSigned,
  CancelSessionResponse,
  GetEuiccChallengeRequest,
  GetEuiccChallengeResponse,
  GetEuiccDataRequest,
  GetEuiccDataResponse,
  EnableProfileRequest,
  EnableProfileResponse,
  DisableProfileRequest,
  DisableProfileResponse,
  DeleteProfileRequest,
  DeleteProfileResponse,
  EuiccMemoryResetRequest,
  EuiccMemoryResetResponse,
  SetNicknameRequest,
  SetNicknameResponse,
  EuiccConfiguredAddressesRequest,
  EuiccConfiguredAddressesResponse,
  SetDefaultDpAddressRequest,
  SetDefaultDpAddressResponse,
  GetRatRequest,
  GetRatResponse,
} as Record<string, Codec<unknown>>);


// ---------------------------------------------------------------------------------------------
// ES10b.LoadCRL (SGP.22 v2.5 5.7.12): kept out of RSP_MESSAGES (its CertificateList is fuzzed as x509.CertificateList)
// ---------------------------------------------------------------------------------------------

export interface LoadCRLRequest {
  /** The CRL; encode(certificateList, crl) gives its DER with the universal SEQUENCE tag. */
  crl: CertificateList;
}

/** ES10b.LoadCRL request, tag BF35; the CRL is retagged [0] (AUTOMATIC TAGS). */
export const LoadCRLRequest = implicit(53, seq<LoadCRLRequest>('LoadCRLRequest', [field('crl', implicit(0, certificateList))]));

export const LoadCRLResponseError = {
  invalidSignature: 1,
  invalidCRLFormat: 2,
  notEnoughMemorySpace: 3,
  verificationKeyNotFound: 4,
  fresherCrlAlreadyLoaded: 5,
  baseCrlMissing: 6,
  undefinedError: 127,
} as const;

export interface LoadCRLResponseOk {
  missingParts?: number[];
}

export type LoadCRLResponse = Chosen<'loadCRLResponseOk', LoadCRLResponseOk> | Chosen<'loadCRLResponseError', number>;

/** ES10b.LoadCRL response, tag BF35 around A0 (ok) or 81 (error). */
export const LoadCRLResponse = explicit(
  53,
  choice<LoadCRLResponse>('LoadCRLResponse', [
    alternative('loadCRLResponseOk', implicit(0, seq<LoadCRLResponseOk>('LoadCRLResponseOk', [optional('missingParts', implicit(0, sequenceOf(integer)))]))),
    alternative('loadCRLResponseError', implicit(1, integer)),
  ]),
);
