// TCA eUICC Profile Package (SAIP) v3 PEDefinitions as typed codecs, and the USIM essentials of a profile (TS.48 checked).
import { Asn1Error } from '../errors.js';
import {
  alternative,
  anyElement,
  application,
  boundedInteger,
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
  type Alternative,
  type Chosen,
  type Codec,
  contextPath,
  decodeContext,
  type Field,
  type TaggedCodec,
  type UnknownComponent,
} from '../schema.js';
import { decodeTlvList, encodeTag, makeTag, tagHex, type DecodeLimits } from '../tlv.js';

// ---------------------------------------------------------------------------------------------
// Naming: ASN.1 component names ('ef-imsi', 'eUICC-Mandatory-services') become camelCase keys.
// ---------------------------------------------------------------------------------------------

/** 'ef-imsi' -> 'efImsi', at the type level. */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** 'ef-imsi' -> 'efImsi', at run time (same rule as CamelCase). */
function camel(name: string): string {
  return name.replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}

/** PEDefinitions is EXTENSIBILITY IMPLIED: unknown trailing components are skipped and reported. */
function seq<T extends object>(name: string, fields: readonly Field[]): TaggedCodec<T> {
  return sequence<T>(name, fields, { extensible: true });
}

function invalid(detail: string): never {
  throw new Asn1Error('INVALID_VALUE', detail);
}

const UInt8 = boundedInteger(0, 255);
const UInt15 = boundedInteger(0, 32767);
const UInt16 = boundedInteger(0, 65535);
const ApplicationIdentifier = octetString({ min: 5, max: 16 });

// ---------------------------------------------------------------------------------------------
// Common structures: PEHeader, Fcp, File
// ---------------------------------------------------------------------------------------------

export interface PeHeader {
  mandated?: null;
  identification: number;
}

export const PeHeader = seq<PeHeader>('PEHeader', [
  optional('mandated', implicit(0, nullValue)),
  field('identification', implicit(1, UInt15)),
]);

export interface ProprietaryInfo {
  specialFileInformation?: Buffer;
  fillPattern?: Buffer;
  repeatPattern?: Buffer;
  maximumFileSize?: Buffer;
  fileDetails?: Buffer;
}

export const ProprietaryInfo = seq<ProprietaryInfo>('ProprietaryInfo', [
  optional('specialFileInformation', privateTag(0, octetString(1))),
  optional('fillPattern', privateTag(1, octetString({ min: 1, max: 200 }))),
  optional('repeatPattern', privateTag(2, octetString({ min: 1, max: 200 }))),
  optional('maximumFileSize', implicit(6, octetString())),
  optional('fileDetails', implicit(4, octetString(1))),
]);

export interface Fcp {
  fileDescriptor?: Buffer;
  fileID?: Buffer;
  dfName?: Buffer;
  lcsi?: Buffer;
  securityAttributesReferenced?: Buffer;
  efFileSize?: Buffer;
  pinStatusTemplateDO?: Buffer;
  shortEFID?: Buffer;
  proprietaryEFInfo?: ProprietaryInfo;
  linkPath?: Buffer;
}

export const Fcp = seq<Fcp>('Fcp', [
  optional('fileDescriptor', implicit(2, octetString({ min: 2, max: 4 }))),
  optional('fileID', implicit(3, octetString(2))),
  optional('dfName', implicit(4, ApplicationIdentifier)),
  optional('lcsi', implicit(10, octetString(1))),
  optional('securityAttributesReferenced', implicit(11, octetString({ min: 1, max: 3 }))),
  optional('efFileSize', implicit(0, octetString())),
  optional('pinStatusTemplateDO', privateTag(6, octetString())),
  optional('shortEFID', implicit(8, octetString({ max: 1 }))),
  optional('proprietaryEFInfo', implicit(5, ProprietaryInfo)),
  optional('linkPath', privateTag(7, octetString({ max: 8 }))),
]);

export type FileElement =
  | Chosen<'doNotCreate', null>
  | Chosen<'fileDescriptor', Fcp>
  | Chosen<'fillFileOffset', number>
  | Chosen<'fillFileContent', Buffer>;

/** File ::= SEQUENCE OF CHOICE: a file's FCP, then its contents as fills at relative offsets. */
export type File = FileElement[];

export const File = sequenceOf(
  choice<FileElement>('File', [
    alternative('doNotCreate', implicit(0, nullValue)),
    alternative('fileDescriptor', implicit(1, Fcp)),
    alternative('fillFileOffset', implicit(2, UInt16)),
    alternative('fillFileContent', implicit(3, octetString())),
  ]),
);

/**
 * The contents a File writes, from offset 0: fillFileOffset skips bytes (left at `fill`), fillFileContent
 * writes bytes (SAIP 8.3.3). Empty when the File carries no content; contents reaching beyond `maxLength`
 * (default 65535, the largest transparent EF of ETSI TS 102 221) are an error.
 */
export function fileContents(file: File, fill = 0xff, maxLength = 0xffff): Buffer {
  const writes: { at: number; data: Buffer }[] = [];
  let pos = 0;
  for (const e of file) {
    if (e.type === 'fillFileOffset') pos += e.value;
    else if (e.type === 'fillFileContent') {
      writes.push({ at: pos, data: e.value });
      pos += e.value.length;
    }
  }
  const end = writes.reduce((m, w) => Math.max(m, w.at + w.data.length), 0);
  if (end > maxLength) invalid(`file contents of ${end} bytes exceed ${maxLength}`);
  const out = Buffer.alloc(end, fill);
  for (const w of writes) w.data.copy(out, w.at);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Templated file-system PEs (SAIP 8.3: PE-MF, PE-USIM, ...): header [0], templateID [1], files [2]...
// ---------------------------------------------------------------------------------------------

type FileName<E extends string> = E extends `${infer N}?` ? N : E;
type MandatoryFiles<L extends readonly string[]> = { [E in L[number] as E extends `${string}?` ? never : CamelCase<E>]: File };
type OptionalFiles<L extends readonly string[]> = { [E in L[number] as E extends `${string}?` ? CamelCase<FileName<E>> : never]?: File };

/** A templated PE: its header (under the PE's own header name), the template OID, then files by name. */
export type TemplatePe<H extends string, L extends readonly string[]> = { [K in CamelCase<H>]: PeHeader } & {
  templateID: string;
} & MandatoryFiles<L> &
  OptionalFiles<L>;

function templatePe<H extends string, L extends readonly string[]>(name: string, header: H, files: L): TaggedCodec<TemplatePe<H, L>> {
  return seq<TemplatePe<H, L>>(name, [
    field(camel(header), implicit(0, PeHeader)),
    field('templateID', implicit(1, oid)),
    ...files.map((entry, i) => {
      const opt = entry.endsWith('?');
      const key = camel(opt ? entry.slice(0, -1) : entry);
      return opt ? optional(key, implicit(i + 2, File)) : field(key, implicit(i + 2, File));
    }),
  ]);
}

// File lists transcribed from PEDefinitions (a trailing '?' marks OPTIONAL); their order gives the tags.
const MF_FILES = ['mf', 'ef-pl?', 'ef-iccid', 'ef-dir', 'ef-arr', 'ef-umpc?'] as const;
const CD_FILES = ['df-cd', 'ef-launchpad?', 'ef-icon?'] as const;
const PHONEBOOK_FILES = [
  'ef-pbr?', 'ef-ext1?', 'ef-aas?', 'ef-gas?', 'ef-psc?', 'ef-cc?', 'ef-puid?', 'ef-iap?', 'ef-adn?', 'ef-pbc?',
  'ef-anr?', 'ef-puri?', 'ef-email?', 'ef-sne?', 'ef-uid?', 'ef-grp?', 'ef-ccp1?',
] as const;
const TELECOM_FILES = [
  'df-telecom', 'ef-arr?', 'ef-rma?', 'ef-sume?', 'ef-ice-dn?', 'ef-ice-ff?', 'ef-psismsc?', 'df-graphics?', 'ef-img?',
  'ef-iidf?', 'ef-ice-graphics?', 'ef-launch-scws?', 'ef-icon?', 'df-phonebook?', ...PHONEBOOK_FILES, 'df-multimedia?',
  'ef-mml?', 'ef-mmdf?', 'df-mmss?', 'ef-mlpl?', 'ef-mspl?', 'ef-mmssmode?', 'df-mcs?', 'ef-mst?', 'ef-mcs-config?',
  'df-v2x?', 'ef-vst?', 'ef-v2x-config?', 'ef-v2xp-pc5?', 'ef-v2xp-Uu?',
] as const;
const USIM_FILES = [
  'adf-usim', 'ef-imsi', 'ef-arr', 'ef-keys?', 'ef-keysPS?', 'ef-hpplmn?', 'ef-ust', 'ef-fdn?', 'ef-sms?', 'ef-smsp?',
  'ef-smss?', 'ef-spn', 'ef-est', 'ef-start-hfn?', 'ef-threshold?', 'ef-psloci?', 'ef-acc', 'ef-fplmn?', 'ef-loci?',
  'ef-ad?', 'ef-ecc', 'ef-netpar?', 'ef-epsloci?', 'ef-epsnsc?',
] as const;
const OPT_USIM_FILES = [
  'ef-li?', 'ef-acmax?', 'ef-acm?', 'ef-gid1?', 'ef-gid2?', 'ef-msisdn?', 'ef-puct?', 'ef-cbmi?', 'ef-cbmid?', 'ef-sdn?',
  'ef-ext2?', 'ef-ext3?', 'ef-cbmir?', 'ef-plmnwact?', 'ef-oplmnwact?', 'ef-hplmnwact?', 'ef-dck?', 'ef-cnl?', 'ef-smsr?',
  'ef-bdn?', 'ef-ext5?', 'ef-ccp2?', 'ef-ext4?', 'ef-acl?', 'ef-cmi?', 'ef-ici?', 'ef-oci?', 'ef-ict?', 'ef-oct?',
  'ef-vgcs?', 'ef-vgcss?', 'ef-vbs?', 'ef-vbss?', 'ef-emlpp?', 'ef-aaem?', 'ef-hiddenkey?', 'ef-pnn?', 'ef-opl?',
  'ef-mbdn?', 'ef-ext6?', 'ef-mbi?', 'ef-mwis?', 'ef-cfis?', 'ef-ext7?', 'ef-spdi?', 'ef-mmsn?', 'ef-ext8?', 'ef-mmsicp?',
  'ef-mmsup?', 'ef-mmsucp?', 'ef-nia?', 'ef-vgcsca?', 'ef-vbsca?', 'ef-gbabp?', 'ef-msk?', 'ef-muk?', 'ef-ehplmn?',
  'ef-gbanl?', 'ef-ehplmnpi?', 'ef-lrplmnsi?', 'ef-nafkca?', 'ef-spni?', 'ef-pnni?', 'ef-ncp-ip?', 'ef-ufc?',
  'ef-nasconfig?', 'ef-uicciari?', 'ef-pws?', 'ef-fdnuri?', 'ef-bdnuri?', 'ef-sdnuri?', 'ef-ial?', 'ef-ips?', 'ef-ipd?',
  'ef-epdgid?', 'ef-epdgselection?', 'ef-epdgidem?', 'ef-epdgselectionem?', 'ef-frompreferred?', 'ef-imsconfigdata?',
  'ef-3gpppsdataoff?', 'ef-3gpppsdataoffservicelist?', 'ef-xcapconfigdata?', 'ef-earfcnlist?', 'ef-mudmidconfigdata?',
  'ef-eaka?',
] as const;
const ISIM_FILES = ['adf-isim', 'ef-impi', 'ef-impu', 'ef-domain', 'ef-ist', 'ef-ad?', 'ef-arr'] as const;
const OPT_ISIM_FILES = [
  'ef-pcscf?', 'ef-sms?', 'ef-smsp?', 'ef-smss?', 'ef-smsr?', 'ef-gbabp?', 'ef-gbanl?', 'ef-nafkca?', 'ef-uicciari?',
  'ef-frompreferred?', 'ef-imsconfigdata?', 'ef-xcapconfigdata?', 'ef-webrtcuri?', 'ef-mudmidconfigdata?',
] as const;
const GSM_ACCESS_FILES = ['df-gsm-access', 'ef-kc?', 'ef-kcgprs?', 'ef-cpbcch?', 'ef-invscan?'] as const;
const CSIM_FILES = [
  'adf-csim', 'ef-arr', 'ef-call-count', 'ef-imsi-m', 'ef-imsi-t', 'ef-tmsi', 'ef-ah', 'ef-aop', 'ef-aloc', 'ef-cdmahome',
  'ef-znregi', 'ef-snregi', 'ef-distregi', 'ef-accolc', 'ef-term', 'ef-acp', 'ef-prl', 'ef-ruimid', 'ef-csim-st', 'ef-spc',
  'ef-otapaspc', 'ef-namlock', 'ef-ota', 'ef-sp', 'ef-esn-meid-me', 'ef-li', 'ef-usgind', 'ef-ad', 'ef-max-prl', 'ef-spcs',
  'ef-mecrp', 'ef-home-tag', 'ef-group-tag', 'ef-specific-tag', 'ef-call-prompt',
] as const;
const OPT_CSIM_FILES = [
  'ef-ssci?', 'ef-fdn?', 'ef-sms?', 'ef-smsp?', 'ef-smss?', 'ef-ssfc?', 'ef-spn?', 'ef-mdn?', 'ef-ecc?', 'ef-me3gpdopc?',
  'ef-3gpdopm?', 'ef-sipcap?', 'ef-mipcap?', 'ef-sipupp?', 'ef-mipupp?', 'ef-sipsp?', 'ef-mipsp?', 'ef-sippapss?',
  'ef-puzl?', 'ef-maxpuzl?', 'ef-hrpdcap?', 'ef-hrpdupp?', 'ef-csspr?', 'ef-atc?', 'ef-eprl?', 'ef-bcsmscfg?',
  'ef-bcsmspref?', 'ef-bcsmstable?', 'ef-bcsmsp?', 'ef-bakpara?', 'ef-upbakpara?', 'ef-mmsn?', 'ef-ext8?', 'ef-mmsicp?',
  'ef-mmsup?', 'ef-mmsucp?', 'ef-auth-capability?', 'ef-3gcik?', 'ef-dck?', 'ef-gid1?', 'ef-gid2?', 'ef-cdmacnl?',
  'ef-sf-euimid?', 'ef-est?', 'ef-hidden-key?', 'ef-lcsver?', 'ef-lcscp?', 'ef-sdn?', 'ef-ext2?', 'ef-ext3?', 'ef-ici?',
  'ef-oci?', 'ef-ext5?', 'ef-ccp2?', 'ef-applabels?', 'ef-model?', 'ef-rc?', 'ef-smscap?', 'ef-mipflags?',
  'ef-3gpduppext?', 'ef-ipv6cap?', 'ef-tcpconfig?', 'ef-dgc?', 'ef-wapbrowsercp?', 'ef-wapbrowserbm?', 'ef-mmsconfig?',
  'ef-jdl?',
] as const;
const EAP_FILES = ['df-eap', 'ef-eapkeys?', 'ef-eapstatus', 'ef-puid?', 'ef-ps?', 'ef-curid?', 'ef-reid?', 'ef-realm?'] as const;
const DF_5GS_FILES = [
  'df-df-5gs', 'ef-5gs3gpploci?', 'ef-5gsn3gpploci?', 'ef-5gs3gppnsc?', 'ef-5gsn3gppnsc?', 'ef-5gauthkeys?', 'ef-uac-aic?',
  'ef-suci-calc-info?', 'ef-opl5g?', 'ef-supinai?', 'ef-routing-indicator?', 'ef-ursp?', 'ef-tn3gppsnn?', 'ef-cag?',
  'ef-sor-cmci?', 'ef-dri?', 'ef-5gsedrx?', 'ef-5gnswo-conf?', 'ef-mchpplmn?', 'ef-kausf-derivation?',
] as const;
const DF_SAIP_FILES = ['df-df-saip', 'ef-suci-calc-info-usim?'] as const;
const DF_SNPN_FILES = ['df-df-snpn', 'ef-pws-snpn?'] as const;
const DF_5GPROSE_FILES = [
  'df-df-5g-prose', 'ef-5g-prose-st?', 'ef-5g-prose-dd?', 'ef-5g-prose-dc?', 'ef-5g-prose-u2nru?', 'ef-5g-prose-ru?',
  'ef-5g-prose-uir?',
] as const;
const IOT_FILES = [
  'mf?', 'ef-pl?', 'ef-iccid?', 'ef-dir?', 'ef-arr?', 'ef-umpc?', 'adf-usim?', 'ef-imsi', 'ef-arr-usim?', 'ef-keys?',
  'ef-keysPS?', 'ef-hpplmn?', 'ef-ust?', 'ef-start-hfn?', 'ef-threshold?', 'ef-psloci?', 'ef-acc', 'ef-fplmn?', 'ef-loci?',
  'ef-ad?', 'ef-ecc?', 'ef-netpar?',
] as const;
const OPT_IOT_FILES = [
  'ef-fdn?', 'ef-sms?', 'ef-smsp?', 'ef-smss?', 'ef-spn?', 'ef-est?', 'ef-oplmnwact?', 'ef-hplmnwact?', 'ef-ehplmn?',
  'ef-epsloci?', 'ef-epsnsc?', 'df-df-5gs?', 'ef-5gs3gpploci?', 'ef-5gsn3gpploci?', 'ef-5gs3gppnsc?', 'ef-5gsn3gppnsc?',
  'ef-5gauthkeys?', 'ef-uac-aic?', 'ef-suci-calc-info?', 'ef-opl5g?', 'ef-supi-nai?', 'ef-routing-indicator?', 'ef-ursp?',
  'ef-tn3gppsnn?', 'df-df-saip?', 'ef-suci-calc-info-usim?',
] as const;

export type PeMf = TemplatePe<'mf-header', typeof MF_FILES>;
export type PeCd = TemplatePe<'cd-header', typeof CD_FILES>;
export type PeTelecom = TemplatePe<'telecom-header', typeof TELECOM_FILES>;
export type PeUsim = TemplatePe<'usim-header', typeof USIM_FILES>;
export type PeOptUsim = TemplatePe<'optusim-header', typeof OPT_USIM_FILES>;
export type PeIsim = TemplatePe<'isim-header', typeof ISIM_FILES>;
export type PeOptIsim = TemplatePe<'optisim-header', typeof OPT_ISIM_FILES>;
export type PePhonebook = TemplatePe<'phonebook-header', readonly ['df-phonebook', ...typeof PHONEBOOK_FILES]>;
export type PeGsmAccess = TemplatePe<'gsm-access-header', typeof GSM_ACCESS_FILES>;
export type PeCsim = TemplatePe<'csim-header', typeof CSIM_FILES>;
export type PeOptCsim = TemplatePe<'optcsim-header', typeof OPT_CSIM_FILES>;
export type PeEap = TemplatePe<'eap-header', typeof EAP_FILES>;
export type PeDf5gs = TemplatePe<'df-5gs-header', typeof DF_5GS_FILES>;
export type PeDfSaip = TemplatePe<'df-saip-header', typeof DF_SAIP_FILES>;
export type PeDfSnpn = TemplatePe<'df-snpn-header', typeof DF_SNPN_FILES>;
export type PeDf5gprose = TemplatePe<'df-5g-prose-header', typeof DF_5GPROSE_FILES>;
export type PeIot = TemplatePe<'iot-header', typeof IOT_FILES>;
export type PeOptIot = TemplatePe<'optiot-header', typeof OPT_IOT_FILES>;

export const PeMf = templatePe('PE-MF', 'mf-header', MF_FILES);
export const PeCd = templatePe('PE-CD', 'cd-header', CD_FILES);
export const PeTelecom = templatePe('PE-TELECOM', 'telecom-header', TELECOM_FILES);
export const PeUsim = templatePe('PE-USIM', 'usim-header', USIM_FILES);
export const PeOptUsim = templatePe('PE-OPT-USIM', 'optusim-header', OPT_USIM_FILES);
export const PeIsim = templatePe('PE-ISIM', 'isim-header', ISIM_FILES);
export const PeOptIsim = templatePe('PE-OPT-ISIM', 'optisim-header', OPT_ISIM_FILES);
export const PePhonebook = templatePe('PE-PHONEBOOK', 'phonebook-header', ['df-phonebook', ...PHONEBOOK_FILES] as const);
export const PeGsmAccess = templatePe('PE-GSM-ACCESS', 'gsm-access-header', GSM_ACCESS_FILES);
export const PeCsim = templatePe('PE-CSIM', 'csim-header', CSIM_FILES);
export const PeOptCsim = templatePe('PE-OPT-CSIM', 'optcsim-header', OPT_CSIM_FILES);
export const PeEap = templatePe('PE-EAP', 'eap-header', EAP_FILES);
export const PeDf5gs = templatePe('PE-DF-5GS', 'df-5gs-header', DF_5GS_FILES);
export const PeDfSaip = templatePe('PE-DF-SAIP', 'df-saip-header', DF_SAIP_FILES);
export const PeDfSnpn = templatePe('PE-DF-SNPN', 'df-snpn-header', DF_SNPN_FILES);
export const PeDf5gprose = templatePe('PE-DF-5GPROSE', 'df-5g-prose-header', DF_5GPROSE_FILES);
export const PeIot = templatePe('PE-IoT', 'iot-header', IOT_FILES);
export const PeOptIot = templatePe('PE-OPT-IoT', 'optiot-header', OPT_IOT_FILES);

// ---------------------------------------------------------------------------------------------
// ProfileHeader
// ---------------------------------------------------------------------------------------------

/** ServicesList components in order (their position is their context tag number). */
export const SERVICES = [
  'contactless', 'usim', 'isim', 'csim', 'milenage', 'tuak128', 'cave', 'gba-usim', 'gba-isim', 'mbms', 'eap', 'javacard',
  'multos', 'multiple-usim', 'multiple-isim', 'multiple-csim', 'tuak256', 'usim-test-algorithm', 'ber-tlv', 'dfLink',
  'cat-tp', 'get-identity', 'profile-a-x25519', 'profile-b-p256', 'suciCalculatorApi', 'dns-resolution', 'scp11ac',
  'scp11c-authorization-mechanism', 's16mode', 'eaka',
] as const;

/** The services a profile requires: each present one is NULL. */
export type ServicesList = { [K in (typeof SERVICES)[number] as CamelCase<K>]?: null };

export const ServicesList = seq<ServicesList>(
  'ServicesList',
  SERVICES.map((name, i) => optional(camel(name), implicit(i, nullValue))),
);

export interface MandatoryAid {
  aid: Buffer;
  version: Buffer;
}

export interface IotOptions {
  pix: Buffer;
}

export interface ProfileHeader {
  majorVersion: number;
  minorVersion: number;
  profileType?: string;
  /** The ICCID digits in order, one BCD digit per nibble, high nibble first, F padded (not nibble-swapped). */
  iccid: Buffer;
  pol?: Buffer;
  eUICCMandatoryServices: ServicesList;
  eUICCMandatoryGFSTEList: string[];
  connectivityParameters?: Buffer;
  eUICCMandatoryAIDs?: MandatoryAid[];
  iotOptions?: IotOptions;
}

export const ProfileHeader = seq<ProfileHeader>('ProfileHeader', [
  field('majorVersion', implicit(0, UInt8)),
  field('minorVersion', implicit(1, UInt8)),
  optional('profileType', implicit(2, sizedUtf8String(1, 100))),
  field('iccid', implicit(3, octetString(10))),
  optional('pol', implicit(4, octetString())),
  field('eUICCMandatoryServices', implicit(5, ServicesList)),
  field('eUICCMandatoryGFSTEList', implicit(6, sequenceOf(oid))),
  optional('connectivityParameters', implicit(7, octetString())),
  optional(
    'eUICCMandatoryAIDs',
    implicit(
      8,
      sequenceOf(
        seq<MandatoryAid>('MandatoryAID', [field('aid', implicit(0, ApplicationIdentifier)), field('version', implicit(1, octetString(2)))]),
      ),
    ),
  ),
  optional('iotOptions', implicit(9, seq<IotOptions>('IotOptions', [field('pix', implicit(0, octetString({ min: 7, max: 11 })))]))),
]);

// ---------------------------------------------------------------------------------------------
// Non-file PEs: GenericFileManagement, PIN/PUK codes, AKA and CDMA parameters, NonStandard, End
// ---------------------------------------------------------------------------------------------

export type FileManagementElement =
  | Chosen<'filePath', Buffer>
  | Chosen<'createFCP', Fcp>
  | Chosen<'fillFileOffset', number>
  | Chosen<'fillFileContent', Buffer>;

export interface PeGenericFileManagement {
  gfmHeader: PeHeader;
  fileManagementCMD: FileManagementElement[][];
}

export const PeGenericFileManagement = seq<PeGenericFileManagement>('PE-GenericFileManagement', [
  field('gfmHeader', implicit(0, PeHeader)),
  field(
    'fileManagementCMD',
    implicit(
      1,
      sequenceOf(
        sequenceOf(
          choice<FileManagementElement>('FileManagement', [
            alternative('filePath', implicit(0, octetString({ max: 8 }))),
            alternative('createFCP', application(2, Fcp)),
            alternative('fillFileOffset', UInt16),
            alternative('fillFileContent', implicit(1, octetString())),
          ]),
          { min: 1 },
        ),
        { min: 1 },
      ),
    ),
  ),
]);

export interface PinConfiguration {
  keyReference: number;
  pinValue: Buffer;
  unblockingPINReference?: number;
  /** DEFAULT 7. */
  pinAttributes?: number;
  /** DEFAULT 51 ('33'): maximum attempts in the high nibble, retries left in the low nibble. */
  maxNumOfAttempsRetryNumLeft?: number;
}

export type PinCodes = Chosen<'pinconfig', PinConfiguration[]> | Chosen<'filePath', Buffer>;

export interface PePinCodes {
  pinHeader: PeHeader;
  pinCodes: PinCodes;
}

export const PePinCodes = seq<PePinCodes>('PE-PINCodes', [
  field('pinHeader', implicit(0, PeHeader)),
  field(
    'pinCodes',
    explicit(
      1,
      choice<PinCodes>('PinCodes', [
        alternative(
          'pinconfig',
          implicit(
            0,
            sequenceOf(
              seq<PinConfiguration>('PINConfiguration', [
                field('keyReference', implicit(0, integer)),
                field('pinValue', implicit(1, octetString(8))),
                optional('unblockingPINReference', implicit(2, integer)),
                optional('pinAttributes', implicit(3, UInt8)),
                optional('maxNumOfAttempsRetryNumLeft', implicit(4, UInt8)),
              ]),
              { min: 1, max: 26 },
            ),
          ),
        ),
        alternative('filePath', implicit(1, octetString({ max: 8 }))),
      ]),
    ),
  ),
]);

export interface PukConfiguration {
  keyReference: number;
  pukValue: Buffer;
  /** DEFAULT 170 ('AA'). */
  maxNumOfAttempsRetryNumLeft?: number;
}

export interface PePukCodes {
  pukHeader: PeHeader;
  pukCodes: PukConfiguration[];
}

export const PePukCodes = seq<PePukCodes>('PE-PUKCodes', [
  field('pukHeader', implicit(0, PeHeader)),
  field(
    'pukCodes',
    implicit(
      1,
      sequenceOf(
        seq<PukConfiguration>('PUKConfiguration', [
          field('keyReference', implicit(0, integer)),
          field('pukValue', implicit(1, octetString(8))),
          optional('maxNumOfAttempsRetryNumLeft', implicit(2, UInt8)),
        ]),
        { min: 1, max: 16 },
      ),
    ),
  ),
]);

export const AlgorithmId = { milenage: 1, tuak: 2, usimTestAlgorithm: 3 } as const;

export interface MappingParameter {
  mappingOptions: Buffer;
  mappingSource: Buffer;
}

export interface AlgoParameter {
  algorithmID: number;
  algorithmOptions: Buffer;
  key: Buffer;
  /** OPc for Milenage, TOPc for TUAK. */
  opc: Buffer;
  /** DEFAULT '4000204060'. */
  rotationConstants?: Buffer;
  /** DEFAULT c1..c5 = 0, 1, 2, 4, 8 (16 bytes each). */
  xoringConstants?: Buffer;
  authCounterMax?: Buffer;
  /** DEFAULT 1. */
  numberOfKeccak?: number;
}

export type AlgoConfiguration = Chosen<'mappingParameter', MappingParameter> | Chosen<'algoParameter', AlgoParameter>;

export interface PeAkaParameter {
  akaHeader: PeHeader;
  algoConfiguration: AlgoConfiguration;
  /** DEFAULT '02'. */
  sqnOptions?: Buffer;
  /** DEFAULT '000010000000'. */
  sqnDelta?: Buffer;
  /** DEFAULT '000010000000'. */
  sqnAgeLimit?: Buffer;
  /** DEFAULT 32 zero values. */
  sqnInit?: Buffer[];
}

export const PeAkaParameter = seq<PeAkaParameter>('PE-AKAParameter', [
  field('akaHeader', implicit(0, PeHeader)),
  field(
    'algoConfiguration',
    explicit(
      1,
      choice<AlgoConfiguration>('AlgoConfiguration', [
        alternative(
          'mappingParameter',
          implicit(
            0,
            seq<MappingParameter>('MappingParameter', [
              field('mappingOptions', implicit(0, octetString(1))),
              field('mappingSource', implicit(1, ApplicationIdentifier)),
            ]),
          ),
        ),
        alternative(
          'algoParameter',
          implicit(
            1,
            seq<AlgoParameter>('AlgoParameter', [
              field('algorithmID', implicit(0, integer)),
              field('algorithmOptions', implicit(1, octetString(1))),
              field('key', implicit(2, octetString())),
              field('opc', implicit(3, octetString())),
              optional('rotationConstants', implicit(4, octetString(5))),
              optional('xoringConstants', implicit(5, octetString(80))),
              optional('authCounterMax', implicit(6, octetString(3))),
              optional('numberOfKeccak', implicit(7, UInt8)),
            ]),
          ),
        ),
      ]),
    ),
  ),
  optional('sqnOptions', implicit(2, octetString(1))),
  optional('sqnDelta', implicit(3, octetString(6))),
  optional('sqnAgeLimit', implicit(4, octetString(6))),
  optional('sqnInit', implicit(5, sequenceOf(octetString(6), { min: 32, max: 32 }))),
]);

export interface PeCdmaParameter {
  cdmaHeader: PeHeader;
  authenticationKey: Buffer;
  ssd?: Buffer;
  hrpdAccessAuthenticationData?: Buffer;
  simpleIPAuthenticationData?: Buffer;
  mobileIPAuthenticationData?: Buffer;
}

export const PeCdmaParameter = seq<PeCdmaParameter>('PE-CDMAParameter', [
  field('cdmaHeader', implicit(0, PeHeader)),
  field('authenticationKey', implicit(1, octetString(8))),
  optional('ssd', implicit(2, octetString(16))),
  optional('hrpdAccessAuthenticationData', implicit(3, octetString({ min: 2, max: 32 }))),
  optional('simpleIPAuthenticationData', implicit(4, octetString({ min: 3, max: 483 }))),
  optional('mobileIPAuthenticationData', implicit(5, octetString({ min: 5, max: 957 }))),
]);

export interface PeNonStandard {
  nonStandardHeader: PeHeader;
  issuerID: string;
  content: Buffer;
}

export const PeNonStandard = seq<PeNonStandard>('PE-NonStandard', [
  field('nonStandardHeader', implicit(0, PeHeader)),
  field('issuerID', implicit(1, oid)),
  field('content', implicit(2, octetString())),
]);

export interface PeEnd {
  endHeader: PeHeader;
}

export const PeEnd = seq<PeEnd>('PE-End', [field('endHeader', implicit(0, PeHeader))]);

// ---------------------------------------------------------------------------------------------
// ProfileElement CHOICE (automatic tags [0]..[33]) and the profile package
// ---------------------------------------------------------------------------------------------

export type ProfileElement =
  | Chosen<'header', ProfileHeader>
  | Chosen<'genericFileManagement', PeGenericFileManagement>
  | Chosen<'pinCodes', PePinCodes>
  | Chosen<'pukCodes', PePukCodes>
  | Chosen<'akaParameter', PeAkaParameter>
  | Chosen<'cdmaParameter', PeCdmaParameter>
  | Chosen<'nonStandard', PeNonStandard>
  | Chosen<'end', PeEnd>
  | Chosen<'mf', PeMf>
  | Chosen<'cd', PeCd>
  | Chosen<'telecom', PeTelecom>
  | Chosen<'usim', PeUsim>
  | Chosen<'optUsim', PeOptUsim>
  | Chosen<'isim', PeIsim>
  | Chosen<'optIsim', PeOptIsim>
  | Chosen<'phonebook', PePhonebook>
  | Chosen<'gsmAccess', PeGsmAccess>
  | Chosen<'csim', PeCsim>
  | Chosen<'optCsim', PeOptCsim>
  | Chosen<'eap', PeEap>
  | Chosen<'df5gs', PeDf5gs>
  | Chosen<'dfSaip', PeDfSaip>
  | Chosen<'dfSnpn', PeDfSnpn>
  | Chosen<'df5gprose', PeDf5gprose>
  | Chosen<'iot', PeIot>
  | Chosen<'optIot', PeOptIot>
  /** Kept as their exact DER: security domains, RFM, applications and the reserved PE-Dummy slots. */
  | Chosen<'securityDomain' | 'rfm' | 'application' | 'rfu1' | 'rfu2' | 'rfu3' | 'rfu4' | 'rfu5', Buffer>
  /** A PE of a later version of the specification (an extension alternative), kept as its exact DER. */
  | Chosen<'unknown', Buffer>;

function pe<T>(n: number, key: string, codec: TaggedCodec<T>): Alternative {
  return alternative(key, implicit(n, codec));
}

function rawPe(n: number, key: string): Alternative {
  return alternative(key, rawElement(makeTag('context', true, n), key));
}

/** Any context-class constructed element not claimed by a known alternative (the CHOICE is extensible). */
const unknownPe: Codec<Buffer> = {
  name: 'unknown ProfileElement',
  matches: (tag) => (encodeTag(tag)[0]! & 0xe0) === 0xa0,
  decode: (tlv, ctx) => {
    ctx.unknown.push({ path: contextPath(ctx) || 'ProfileElement', tag: tagHex(tlv.tag), offset: tlv.offset });
    return anyElement.decode(tlv, ctx);
  },
  encode: (raw) => anyElement.encode(raw),
};

export const ProfileElement = choice<ProfileElement>('ProfileElement', [
  pe(0, 'header', ProfileHeader),
  pe(1, 'genericFileManagement', PeGenericFileManagement),
  pe(2, 'pinCodes', PePinCodes),
  pe(3, 'pukCodes', PePukCodes),
  pe(4, 'akaParameter', PeAkaParameter),
  pe(5, 'cdmaParameter', PeCdmaParameter),
  rawPe(6, 'securityDomain'),
  rawPe(7, 'rfm'),
  rawPe(8, 'application'),
  pe(9, 'nonStandard', PeNonStandard),
  pe(10, 'end', PeEnd),
  rawPe(11, 'rfu1'),
  rawPe(12, 'rfu2'),
  rawPe(13, 'rfu3'),
  rawPe(14, 'rfu4'),
  rawPe(15, 'rfu5'),
  pe(16, 'mf', PeMf),
  pe(17, 'cd', PeCd),
  pe(18, 'telecom', PeTelecom),
  pe(19, 'usim', PeUsim),
  pe(20, 'optUsim', PeOptUsim),
  pe(21, 'isim', PeIsim),
  pe(22, 'optIsim', PeOptIsim),
  pe(23, 'phonebook', PePhonebook),
  pe(24, 'gsmAccess', PeGsmAccess),
  pe(25, 'csim', PeCsim),
  pe(26, 'optCsim', PeOptCsim),
  pe(27, 'eap', PeEap),
  pe(28, 'df5gs', PeDf5gs),
  pe(29, 'dfSaip', PeDfSaip),
  pe(30, 'dfSnpn', PeDfSnpn),
  pe(31, 'df5gprose', PeDf5gprose),
  pe(32, 'iot', PeIot),
  pe(33, 'optIot', PeOptIot),
  alternative('unknown', unknownPe),
]);

export interface ProfilePackage {
  readonly elements: ProfileElement[];
  /** Unknown components skipped in extensible SEQUENCEs, and PEs of unknown alternatives. */
  readonly unknown: readonly UnknownComponent[];
}

/** Decodes an unprotected profile package: a concatenation of ProfileElements (SAIP 2.3 / 8.1). */
export function decodeProfilePackage(bytes: Uint8Array, limits?: Partial<DecodeLimits>): ProfilePackage {
  const ctx = decodeContext();
  const elements = decodeTlvList(bytes, limits).map((tlv, i) => {
    if (!ProfileElement.matches(tlv.tag)) {
      throw new Asn1Error('INVALID_CHOICE', `ProfileElement ${i}: tag ${tagHex(tlv.tag)} is not a ProfileElement`, tlv.offset, '');
    }
    ctx.keys.splice(0, ctx.keys.length, `PE${i}`);
    return ProfileElement.decode(tlv, ctx);
  });
  return { elements, unknown: ctx.unknown };
}

export function encodeProfilePackage(elements: readonly ProfileElement[]): Buffer {
  return Buffer.concat(elements.map((e) => ProfileElement.encode(e)));
}

// ---------------------------------------------------------------------------------------------
// Identifiers: ICCID and IMSI codings
// ---------------------------------------------------------------------------------------------

/** Digits of a BCD string read nibble by nibble (swapped: low nibble first), trailing F padding removed. */
function bcdDigits(bytes: Buffer, swapped: boolean, what: string): string {
  let s = '';
  for (const b of bytes) s += swapped ? `${(b & 0x0f).toString(16)}${(b >> 4).toString(16)}` : `${(b >> 4).toString(16)}${(b & 0x0f).toString(16)}`;
  const digits = s.replace(/f+$/, '');
  if (!/^[0-9]+$/.test(digits)) invalid(`${what} ${bytes.toString('hex')} is not BCD digits with F padding`);
  return digits;
}

/** ICCID digits from the EF_ICCID coding (SGP.22 Iccid): nibble-swapped BCD, F padded. */
export function iccidDigitsFromEf(ef: Buffer): string {
  if (ef.length !== 10) invalid(`EF_ICCID of ${ef.length} bytes`);
  return bcdDigits(ef, true, 'EF_ICCID');
}

/** ICCID digits from the ProfileHeader coding: BCD in digit order, F padded. */
export function iccidDigitsFromHeader(iccid: Buffer): string {
  if (iccid.length !== 10) invalid(`header ICCID of ${iccid.length} bytes`);
  return bcdDigits(iccid, false, 'header ICCID');
}

/** The EF_ICCID (SGP.22 Iccid) coding of 18 to 20 ICCID digits. */
export function encodeIccid(digits: string): Buffer {
  if (!/^[0-9]{18,20}$/.test(digits)) invalid(`ICCID '${digits}' must be 18 to 20 digits`);
  const padded = digits.padEnd(20, 'f');
  let hexText = '';
  for (let i = 0; i < 20; i += 2) hexText += padded[i + 1]! + padded[i]!;
  return Buffer.from(hexText, 'hex');
}

/** IMSI digits from EF_IMSI (TS 31.102 4.2.2): a length byte, then TS 24.008 10.5.1.4 coding with the parity nibble. */
export function decodeImsi(ef: Buffer): string {
  const len = ef[0];
  if (len === undefined || len < 1 || len > 8 || ef.length < len + 1) invalid(`EF_IMSI ${ef.toString('hex')} has no valid length byte`);
  const b1 = ef[1]!;
  const type = b1 & 0x07;
  if (type !== 1) invalid(`EF_IMSI identity type ${type} is not IMSI`);
  const odd = (b1 & 0x08) !== 0;
  let digits = (b1 >> 4).toString(16);
  for (let i = 2; i <= len; i++) digits += `${(ef[i]! & 0x0f).toString(16)}${(ef[i]! >> 4).toString(16)}`;
  if (!odd) {
    if (!digits.endsWith('f')) invalid('EF_IMSI with even parity lacks the F filler');
    digits = digits.slice(0, -1);
  }
  if (!/^[0-9]{6,15}$/.test(digits)) invalid(`EF_IMSI digits '${digits}' are not a valid IMSI`);
  return digits;
}

/** The 9-byte EF_IMSI contents for an IMSI of 6 to 15 digits. */
export function encodeImsi(imsi: string): Buffer {
  if (!/^[0-9]{6,15}$/.test(imsi)) invalid(`IMSI '${imsi}' must be 6 to 15 digits`);
  const odd = imsi.length % 2 === 1;
  const nibbles = [odd ? 0x9 : 0x1, ...[...imsi].map(Number)];
  if (!odd) nibbles.push(0xf);
  const out = Buffer.alloc(9, 0xff);
  out[0] = nibbles.length / 2;
  for (let i = 0; i < nibbles.length; i += 2) out[1 + i / 2] = nibbles[i]! | (nibbles[i + 1]! << 4);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Profile essentials: what a USIM needs
// ---------------------------------------------------------------------------------------------

export type AkaAlgorithm = 'milenage' | 'tuak' | 'test';

export interface AkaEssentials {
  algorithm: AkaAlgorithm;
  algorithmOptions: number;
  key: Buffer;
  /** OPc (Milenage) or TOPc (TUAK); unused by the test algorithm. */
  opc: Buffer;
  /** Milenage r1..r5 (5 bytes). */
  rotationConstants: Buffer;
  /** Milenage c1..c5 (5 x 16 bytes). */
  xoringConstants: Buffer;
  /** TUAK Keccak-f[1600] iterations. */
  numberOfKeccak: number;
  authCounterMax?: Buffer;
  sqnOptions: number;
  sqnDelta: number;
  sqnAgeLimit: number;
  /** The 32 initial SQN values (without IND). */
  sqnInit: number[];
}

export interface ProfileEssentials {
  majorVersion: number;
  minorVersion: number;
  profileType?: string;
  /** ICCID in the EF_ICCID / SGP.22 Iccid coding. */
  iccid: Buffer;
  iccidDigits: string;
  imsi?: string;
  /** AKA parameters of the USIM (the PE-AKAParameter that follows the PE-USIM). */
  aka?: AkaEssentials;
  /** Set instead of `aka` when the USIM's AKA parameters are mapped from another application. */
  akaMapping?: MappingParameter;
}

const DEFAULT_ROTATION = Buffer.from('4000204060', 'hex');
const DEFAULT_XORING = Buffer.from(
  '00000000000000000000000000000000' +
    '00000000000000000000000000000001' +
    '00000000000000000000000000000002' +
    '00000000000000000000000000000004' +
    '00000000000000000000000000000008',
  'hex',
);
const DEFAULT_SQN_LIMIT = Buffer.from('000010000000', 'hex');

function akaEssentials(pe: PeAkaParameter, p: AlgoParameter): AkaEssentials {
  const algorithm = ({ 1: 'milenage', 2: 'tuak', 3: 'test' } as const)[p.algorithmID as 1 | 2 | 3];
  if (!algorithm) invalid(`unknown AKA algorithmID ${p.algorithmID}`);
  const out: AkaEssentials = {
    algorithm,
    algorithmOptions: p.algorithmOptions[0]!,
    key: p.key,
    opc: p.opc,
    rotationConstants: p.rotationConstants ?? Buffer.from(DEFAULT_ROTATION),
    xoringConstants: p.xoringConstants ?? Buffer.from(DEFAULT_XORING),
    numberOfKeccak: p.numberOfKeccak ?? 1,
    sqnOptions: pe.sqnOptions?.[0] ?? 0x02,
    sqnDelta: (pe.sqnDelta ?? DEFAULT_SQN_LIMIT).readUIntBE(0, 6),
    sqnAgeLimit: (pe.sqnAgeLimit ?? DEFAULT_SQN_LIMIT).readUIntBE(0, 6),
    sqnInit: pe.sqnInit ? pe.sqnInit.map((b) => b.readUIntBE(0, 6)) : new Array<number>(32).fill(0),
  };
  if (p.authCounterMax) out.authCounterMax = p.authCounterMax;
  return out;
}

/**
 * The identity and AKA credentials of a profile's USIM: ICCID (EF_ICCID of the MF, cross-checked with the
 * header), IMSI (EF_IMSI of the USIM), and the PE-AKAParameter in the USIM's context with defaults applied.
 */
export function extractProfileEssentials(pes: readonly ProfileElement[]): ProfileEssentials {
  let header: ProfileHeader | undefined;
  let efIccid: Buffer | undefined;
  let imsi: string | undefined;
  let usimAka: PeAkaParameter | undefined;
  let firstAka: PeAkaParameter | undefined;
  let naa: string | undefined;
  for (const e of pes) {
    switch (e.type) {
      case 'header':
        header ??= e.value;
        break;
      case 'mf': {
        const c = fileContents(e.value.efIccid);
        if (c.length >= 10) efIccid = c.subarray(0, 10);
        break;
      }
      case 'usim':
      case 'iot': {
        naa = 'usim';
        const c = fileContents(e.value.efImsi);
        if (c.length > 0 && c[0] !== 0xff) imsi ??= decodeImsi(c);
        break;
      }
      case 'isim':
      case 'csim':
        naa = e.type;
        break;
      case 'akaParameter':
        firstAka ??= e.value;
        if (naa === 'usim') usimAka ??= e.value;
        break;
      default:
        break;
    }
  }
  if (!header) throw new Asn1Error('MISSING_COMPONENT', 'the profile package has no ProfileHeader');
  const headerDigits = iccidDigitsFromHeader(header.iccid);
  if (efIccid) {
    const efDigits = iccidDigitsFromEf(efIccid);
    if (efDigits !== headerDigits) invalid(`header ICCID ${headerDigits} differs from EF_ICCID ${efDigits}`);
  }
  const out: ProfileEssentials = {
    majorVersion: header.majorVersion,
    minorVersion: header.minorVersion,
    iccid: efIccid ? Buffer.from(efIccid) : encodeIccid(headerDigits),
    iccidDigits: headerDigits,
  };
  if (header.profileType !== undefined) out.profileType = header.profileType;
  if (imsi !== undefined) out.imsi = imsi;
  const aka = usimAka ?? firstAka;
  if (aka) {
    const cfg = aka.algoConfiguration;
    if (cfg.type === 'algoParameter') out.aka = akaEssentials(aka, cfg.value);
    else out.akaMapping = cfg.value;
  }
  return out;
}
