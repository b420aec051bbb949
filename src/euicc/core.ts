// SGP.22 v2.5 2.4 (eUICC architecture: ISD-R, ISD-P, ECASD) and 3.5 (notifications): the ISD-R's identity, sealed state, session and signing, shared by the ES10 functions.
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { decode, encode, capture } from '../asn1/schema.js';
import {
  GetRatResponse,
  NotificationMetadata,
  OtherSignedNotification,
  PendingNotification,
  StoreMetadataRequest,
  hasNamedBit,
  namedBitString,
  type ProfilePolicyAuthorisationRule,
} from '../asn1/definitions/rsp.js';
import type { ProfileEssentials } from '../asn1/definitions/saip.js';
import type { ProfileFileSystem } from './usim/fileSystem.js';
import { encodeTlv } from '../asn1/tlv.js';
import { signPlain, type EcCurve } from '../crypto/ecdsa.js';
import type { OneTimeEckaKeyPair } from '../crypto/ecka.js';
import type { ConfigureImmediateEnable, EimConfigurationData } from '../asn1/definitions/sgp32.js';
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';
import { crlCovers, isRevoked, parseCrl, type ParsedCrl } from '../pki/crl.js';
import { PkiError } from '../pki/errors.js';
import { McimError } from '../errors.js';
import { SealedStateFile } from './sealedState.js';

/** The eUICC's identity as the EUM personalised it (SGP.22 4.5.2.1: CERT.EUICC.ECDSA, CERT.EUM.ECDSA, the CI trust anchors). */
export interface EuiccIdentity {
  readonly eid: string;
  /** CERT.EUICC.ECDSA (DER). */
  readonly euiccCertificate: Buffer;
  /** SK.EUICC.ECDSA. */
  readonly euiccPrivateKey: KeyObject;
  /** CERT.EUM.ECDSA (DER). */
  readonly eumCertificate: Buffer;
  /** The CI certificates (DER) whose keys the eUICC verifies SM-DP+ certificates with (euiccCiPKIdListForVerification). */
  readonly ciCertificates: readonly Buffer[];
}

/** Settings kept in the sealed state. */
export interface EuiccSettings {
  /** ES10a default SM-DP+ address. */
  readonly defaultDpAddress?: string;
  /** ES10a root SM-DS address (default lpa.ds.gsma.com). */
  readonly rootDsAddress?: string;
  /** The Rules Authorisation Table (SGP.22 2.9.2.1); empty by default: no profile policy rule may be installed. */
  readonly rat?: readonly ProfilePolicyAuthorisationRule[];
  /** Largest unprotected profile package accepted, in bytes (default 512 KiB): the eUICC's free memory. */
  readonly maxProfileSize?: number;
}

/** Runtime options, not persisted. */
export interface EuiccRuntimeOptions {
  /** The clock certificates are validated against (default: the system clock). */
  readonly clock?: () => Date;
}

export type StoredProfileState = 'enabled' | 'disabled';

/** What a USIM needs of an installed profile: identity, AKA algorithm and keys, SQN state (TS 33.102 Annex C arrays), files. */
export interface UsimState {
  readonly essentials: ProfileEssentials;
  /** Highest accepted SEQ per IND, initialised from sqnInit. */
  readonly sqn: readonly number[];
  /** The MF and ADF.USIM the profile package creates; absent for profiles installed before mcim kept them (usim/usimFiles.ts). */
  readonly fileSystem?: ProfileFileSystem;
}

export interface StoredProfile {
  readonly isdpAid: Buffer;
  /** ICCID in the SGP.22 Iccid coding. */
  readonly iccid: Buffer;
  readonly state: StoredProfileState;
  /** StoreMetadataRequest (BF25) as received. */
  readonly metadata: Buffer;
  readonly nickname?: string;
  /** DpProprietaryData.dpOid from ConfigureISDP. */
  readonly dpOid?: string;
  readonly usim: UsimState;
}

export interface StoredNotification {
  readonly seqNumber: number;
  /** NotificationEvent bit: 0 install, 1 enable, 2 disable, 3 delete. */
  readonly event: number;
  readonly notificationAddress: string;
  readonly iccid?: Buffer;
  /** NotificationMetadata (BF2F) DER. */
  readonly metadata: Buffer;
  /** PendingNotification DER (BF37 PIR or OtherSignedNotification). */
  readonly pending: Buffer;
}

/** A signed eUICC Package result kept until the IPA removes it (SGP.32 RetrieveNotificationsList, RemoveNotificationFromList). */
export interface StoredPackageResult {
  readonly seqNumber: number;
  /** EuiccPackageResult (BF51) DER, exactly as answered. */
  readonly result: Buffer;
}

/** The return path an enable PSMO with rollbackFlag granted (SGP.32 ProfileRollback), until the eIM is heard from again. */
export interface RollbackGrant {
  /** The profile enabled before the package, which ProfileRollback enables again. */
  readonly previousIccid: Buffer;
  /** The profile the package enabled. */
  readonly enabledIccid: Buffer;
  /** The package that granted it: its eIM, counter and transaction, echoed in the rollback's EuiccPackageResult. */
  readonly eimId: string;
  readonly counterValue: number;
  readonly eimTransactionId?: Buffer;
}

/** The IoT eUICC's own state (SGP.32): its eIMs, package results, rollback, fallback and immediate-enable settings. */
export interface IotState {
  /** The associated eIMs' configuration data; counterValue and associationToken are always present. */
  readonly eims: readonly EimConfigurationData[];
  /** The association token the next eIM added gets (strictly increasing over the eUICC's life, never reused). */
  readonly nextAssociationToken: number;
  readonly packageResults: readonly StoredPackageResult[];
  readonly rollback?: RollbackGrant;
  /** ICCID of the Fallback Profile (setFallbackAttribute). */
  readonly fallbackIccid?: Buffer;
  /** The profile ExecuteFallbackMechanism disabled, which ReturnFromFallback enables again. */
  readonly fallbackReturnIccid?: Buffer;
  /** The configureImmediateEnable PSMO's settings. */
  readonly immediateEnable?: ConfigureImmediateEnable;
}

export const EMPTY_IOT_STATE: IotState = { eims: [], nextAssociationToken: 1, packageResults: [] };

export interface PersistedState {
  readonly format: 1;
  readonly identity: {
    readonly eid: string;
    readonly euiccCertificate: Buffer;
    /** PKCS#8 DER; the sealed file is encrypted. */
    readonly euiccPrivateKey: Buffer;
    readonly eumCertificate: Buffer;
    readonly ciCertificates: readonly Buffer[];
  };
  readonly settings: {
    readonly defaultDpAddress?: string;
    readonly rootDsAddress: string;
    /** GetRatResponse (BF43) DER. */
    readonly rat: Buffer;
    readonly maxProfileSize: number;
  };
  readonly profiles: readonly StoredProfile[];
  readonly notifications: readonly StoredNotification[];
  readonly nextSeqNumber: number;
  readonly nextIsdpIndex: number;
  /** CRLs of the CIs loaded with ES10b.LoadCRL (DER, one per CI, verified when loaded); absent in states saved before. */
  readonly crls?: readonly Buffer[];
  /** SGP.32 state; absent until the first eIM is associated. */
  readonly iot?: IotState;
}

/** The common mutual authentication in progress (SGP.22 3.1.2, 3.1.3); never persisted. */
export interface RspSession {
  readonly transactionId: Buffer;
  readonly serverAddress: string;
  /** The SM-DP+ OID of CERT.DPauth (registeredID). */
  readonly smdpOid: string;
  /** The CI that certified the SM-DP+ (its subject key identifier). */
  readonly ciKeyId: Buffer;
  /** euiccSignature1 (r || s) the eUICC produced in this session. */
  readonly euiccSignature1: Buffer;
  /** Set by PrepareDownload. */
  prepared?: PreparedDownload;
}

export interface PreparedDownload {
  /** otSK.EUICC.ECKA inside its one-time ECDH context: it agrees once, then the private scalar is dropped. */
  readonly otKeyPair: OneTimeEckaKeyPair;
  /** otPK.EUICC.ECKA, uncompressed point. */
  readonly otPk: Buffer;
  readonly dpPb: GsmaCertificate;
  /** The SM-DP+ OID of CERT.DPpb. */
  readonly smdpOid: string;
}

export const DEFAULT_ROOT_DS_ADDRESS = 'lpa.ds.gsma.com';
export const DEFAULT_MAX_PROFILE_SIZE = 512 * 1024;
const ISDP_AID_PREFIX = 'A0000005591010FFFFFFFF8900';
/** First ISD-P AID suffix (SGP.02/SGP.22 practice: ...8900001000, ...8900001100, ...). */
const FIRST_ISDP_INDEX = 0x10;

/** Parsed CRLs by their stored bytes (a committed state replaces the Buffer, so a stale parse is never found). */
const parsedCrls = new WeakMap<Buffer, ParsedCrl>();

/** A fault in the eUICC's own data (never caused by a command): the card answers 6F00. */
export class EuiccError extends McimError {
  declare readonly code: 'EUICC_STATE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('EUICC_STATE', message, options);
  }
}

export function signatureTlv(signature: Buffer): Buffer {
  return encodeTlv(0x5f37, signature);
}

/**
 * The ISD-R: identity, certificates, sealed state and the session. Every state change goes through
 * commit(), which seals the new state (write-then-rename) before it becomes the current one.
 */
export class EuiccCore {
  readonly #file: SealedStateFile<PersistedState>;
  readonly clock: () => Date;
  readonly eid: string;
  readonly eidBytes: Buffer;
  readonly privateKey: KeyObject;
  readonly curve: EcCurve;
  readonly euiccCertificate: Buffer;
  readonly eumCertificate: Buffer;
  readonly ciCertificates: readonly GsmaCertificate[];
  /** euiccCiPKIdListForVerification: the CIs whose SM-DP+ certificates the eUICC accepts. */
  readonly ciKeyIdsForVerification: readonly Buffer[];
  /** euiccCiPKIdListForSigning: the CI that certified the eUICC's own chain. */
  readonly ciKeyIdsForSigning: readonly Buffer[];
  #state: PersistedState;
  /** The challenge of the latest GetEUICCChallenge, until AuthenticateServer consumes it. */
  challenge: Buffer | undefined;
  session: RspSession | undefined;
  /**
   * The one-time key pair of the last prepared download that did not install (SGP.22 5.7.5): kept, across sessions,
   * until a profile installs or a new pair replaces it, so that a retry bound to the same otPK.EUICC.ECKA
   * (SmdpSigned2.bppEuiccOtpk) can be loaded. In memory only, like the session: a restarted eUICC forgets it and a
   * retry is bound afresh.
   */
  retainedOtKey: { readonly otKeyPair: OneTimeEckaKeyPair; readonly otPk: Buffer } | undefined;
  /**
   * The profile the latest download session installed and the OID of the SM-DP+ that bound it (CERT.DPpb), until
   * ImmediateEnable uses it or a later download ends without installing (SGP.32 ES10b.ImmediateEnable's session context).
   * In memory only: after a restart there is no session context.
   */
  lastInstalled: { readonly iccid: Buffer; readonly smdpOid: string } | undefined;

  constructor(file: SealedStateFile<PersistedState>, state: PersistedState, options: EuiccRuntimeOptions = {}) {
    this.#file = file;
    this.#state = state;
    this.clock = options.clock ?? (() => new Date());
    const id = state.identity;
    this.eid = id.eid;
    this.eidBytes = Buffer.from(id.eid, 'hex');
    this.privateKey = createPrivateKey({ key: id.euiccPrivateKey, format: 'der', type: 'pkcs8' });
    const euicc = parseCertificate(id.euiccCertificate);
    const eum = parseCertificate(id.eumCertificate);
    this.curve = euicc.publicKey.curve;
    this.euiccCertificate = euicc.der;
    this.eumCertificate = eum.der;
    this.ciCertificates = id.ciCertificates.map((c) => parseCertificate(c));
    this.ciKeyIdsForVerification = this.ciCertificates.flatMap((c) => (c.subjectKeyIdentifier ? [c.subjectKeyIdentifier] : []));
    if (eum.authorityKeyIdentifier === undefined) throw new EuiccError('the EUM certificate has no authority key identifier');
    this.ciKeyIdsForSigning = [eum.authorityKeyIdentifier];
  }

  get state(): PersistedState {
    return this.#state;
  }

  get iot(): IotState {
    return this.#state.iot ?? EMPTY_IOT_STATE;
  }

  /** The loaded CRL of the CI `ci` (matched by its subject key identifier), parsed once per stored value. */
  crlOf(ci: GsmaCertificate): ParsedCrl | undefined {
    const ski = ci.subjectKeyIdentifier;
    if (ski === undefined) return undefined;
    for (const der of this.#state.crls ?? []) {
      let parsed = parsedCrls.get(der);
      if (parsed === undefined) {
        parsed = parseCrl(der);
        parsedCrls.set(der, parsed);
      }
      if (parsed.authorityKeyIdentifier?.equals(ski) === true && parsed.issuer.der.equals(ci.subject.der)) return parsed;
    }
    return undefined;
  }

  /**
   * The revocation check of SM-DP+ certificates (SGP.22 4.6, 5.7.13, 5.7.5): a certificate the loaded CRL of its CI lists
   * is REVOKED. The eUICC does not judge CRL times (it keeps the freshest CRL by cRLNumber); without a CRL nothing is
   * revoked.
   */
  readonly revocation = (certificate: GsmaCertificate, issuer: GsmaCertificate): void => {
    const crl = this.crlOf(issuer);
    if (crl !== undefined && crlCovers(crl, certificate) && isRevoked(crl, certificate)) {
      throw new PkiError('REVOKED', `'${certificate.subject.text}' is revoked by the loaded CRL of '${issuer.subject.text}'`, { certificate });
    }
  };

  get rat(): ProfilePolicyAuthorisationRule[] {
    return decode(GetRatResponse, this.#state.settings.rat).rat;
  }

  /** Seals `next` and makes it the current state; on a write failure the current state stays as it was. */
  commit(next: PersistedState): void {
    this.#file.save(next);
    this.#state = next;
  }

  sign(data: Buffer): Buffer {
    return signPlain(this.privateKey, data);
  }

  /** A fresh 16-byte challenge or random value. */
  random(length: number): Buffer {
    return randomBytes(length);
  }

  findProfile(identifier: { type: 'isdpAid' | 'iccid'; value: Buffer }): StoredProfile | undefined {
    return this.#state.profiles.find((p) => (identifier.type === 'iccid' ? p.iccid : p.isdpAid).equals(identifier.value));
  }

  metadataOf(profile: StoredProfile): StoreMetadataRequest {
    return decode(StoreMetadataRequest, profile.metadata);
  }

  /** The AID of the next ISD-P and the state with the counter advanced. */
  allocateIsdpAid(): { aid: Buffer; nextIsdpIndex: number } {
    const index = this.#state.nextIsdpIndex;
    return { aid: Buffer.from(`${ISDP_AID_PREFIX}${index.toString(16).toUpperCase().padStart(4, '0')}00`, 'hex'), nextIsdpIndex: index + 1 };
  }

  /** NotificationMetadata with the next sequence number (the caller's commit advances nextSeqNumber). */
  notificationMetadata(event: number, notificationAddress: string, iccid: Buffer | undefined): { metadata: NotificationMetadata; der: Buffer } {
    const metadata: NotificationMetadata = {
      seqNumber: this.#state.nextSeqNumber,
      profileManagementOperation: namedBitString([event]),
      notificationAddress,
      ...(iccid ? { iccid } : {}),
    };
    return { metadata, der: encode(NotificationMetadata, metadata) };
  }

  /**
   * Signed notifications (OtherSignedNotification, SGP.22 3.5) for `event` on `profile`, one per configured
   * notification address whose profileManagementOperation includes the event; numbered from `firstSeqNumber`.
   */
  otherNotifications(profile: StoredProfile, event: number, firstSeqNumber: number): StoredNotification[] {
    const configured = this.metadataOf(profile).notificationConfigurationInfo ?? [];
    const out: StoredNotification[] = [];
    for (const info of configured) {
      if (!hasNamedBit(info.profileManagementOperation, event)) continue;
      const metadata: NotificationMetadata = {
        seqNumber: firstSeqNumber + out.length,
        profileManagementOperation: namedBitString([event]),
        notificationAddress: info.notificationAddress,
        iccid: profile.iccid,
      };
      const tbs = capture(NotificationMetadata, metadata);
      const signed: OtherSignedNotification = {
        tbsOtherNotification: tbs,
        euiccNotificationSignature: this.sign(tbs.der),
        euiccCertificate: this.euiccCertificate,
        eumCertificate: this.eumCertificate,
      };
      out.push({
        seqNumber: metadata.seqNumber,
        event,
        notificationAddress: info.notificationAddress,
        iccid: profile.iccid,
        metadata: tbs.der,
        pending: encode(PendingNotification, { type: 'otherSignedNotification', value: signed }),
      });
    }
    return out;
  }
}

/** The settings with the default SM-DP+ address removed (SetDefaultDpAddress with '', eUICCMemoryReset). */
export function withoutDefaultDpAddress(settings: PersistedState['settings']): PersistedState['settings'] {
  return { rootDsAddress: settings.rootDsAddress, rat: settings.rat, maxProfileSize: settings.maxProfileSize };
}

/** The initial sealed state of a new eUICC. */
export function initialState(identity: EuiccIdentity, settings: EuiccSettings = {}): PersistedState {
  const maxProfileSize = settings.maxProfileSize ?? DEFAULT_MAX_PROFILE_SIZE;
  if (!Number.isInteger(maxProfileSize) || maxProfileSize < 1024) throw new McimError('INVALID_ARGUMENT', 'maxProfileSize must be an integer of at least 1024');
  if (!/^[0-9]{32}$/.test(identity.eid)) throw new McimError('INVALID_ARGUMENT', `EID '${identity.eid}' is not 32 digits`);
  const euicc = parseCertificate(identity.euiccCertificate);
  if (euicc.eid !== identity.eid) throw new McimError('INVALID_ARGUMENT', `the eUICC certificate carries EID ${String(euicc.eid)}, not ${identity.eid}`);
  return {
    format: 1,
    identity: {
      eid: identity.eid,
      euiccCertificate: Buffer.from(identity.euiccCertificate),
      euiccPrivateKey: identity.euiccPrivateKey.export({ format: 'der', type: 'pkcs8' }),
      eumCertificate: Buffer.from(identity.eumCertificate),
      ciCertificates: identity.ciCertificates.map((c) => Buffer.from(c)),
    },
    settings: {
      ...(settings.defaultDpAddress !== undefined ? { defaultDpAddress: settings.defaultDpAddress } : {}),
      rootDsAddress: settings.rootDsAddress ?? DEFAULT_ROOT_DS_ADDRESS,
      rat: encode(GetRatResponse, { rat: [...(settings.rat ?? [])] }),
      maxProfileSize,
    },
    profiles: [],
    notifications: [],
    nextSeqNumber: 1,
    nextIsdpIndex: FIRST_ISDP_INDEX,
  };
}
