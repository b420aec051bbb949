// SGP.22 v2.5 5.7.6 ES10b.LoadBoundProfilePackage (2.5.5 segmented BPP, 2.6.4 BSP, 2.5.6 Profile Installation Result): the streamed BF36.
import { Asn1Error } from '../../asn1/errors.js';
import { capture, decode, encode } from '../../asn1/schema.js';
import { decodeTlv, encodeTlv, peekTlvHeader, tagHex } from '../../asn1/tlv.js';
import {
  BppCommandId,
  ConfigureISDPRequest,
  ErrorReason,
  InitialiseSecureChannelRequest,
  NotificationEvent,
  PendingNotification,
  ProfileInstallationResult,
  ProfileInstallationResultData,
  ReplaceSessionKeysRequest,
  StoreMetadataRequest,
  type ConfigureISDPRequest as ConfigureIsdp,
  type FinalResult,
} from '../../asn1/definitions/rsp.js';
import { decodeProfilePackage, extractProfileEssentials } from '../../asn1/definitions/saip.js';
import { StoreMetadataRequest as IotStoreMetadataRequest } from '../../asn1/definitions/sgp32.js';
import { BSP_MAX_SEGMENT_LENGTH, BspSession, deriveBspKeys } from '../../crypto/bsp.js';
import { verifyPlain } from '../../crypto/ecdsa.js';
import { CryptoError } from '../../crypto/errors.js';
import { CardError } from '../apdu.js';
import type { CommandContext, StreamPosition, StreamStep, StreamingHandler } from '../storeData.js';
import type { EuiccCore, PreparedDownload, RspSession, StoredNotification, StoredProfile } from '../core.js';
import { pprsAllowedByRat } from '../profilePolicy.js';
import { FileSystemError, buildProfileFileSystem, type ProfileFileSystem } from '../usim/fileSystem.js';

/** Longest InitialiseSecureChannelRequest accepted (its fields total about 200 bytes). */
const MAX_ISC_LENGTH = 512;
/** RemoteOpId installBoundProfilePackage. */
const INSTALL_BOUND_PROFILE_PACKAGE = 1;
const KEY_TYPE_AES = 0x88;
const KEY_LENGTH_16 = 0x10;
/** TCA PEDefinitions PEStatus values. */
const PE_STATUS_OK = 0;
const PE_STATUS_INVALID_REQUEST_FORMAT = 5;

/** A failed BPP command: the PIR's errorResult (SGP.22 5.7.6). */
class BppFailure extends Error {
  constructor(
    readonly bppCommandId: number,
    readonly errorReason: number,
    message: string,
    readonly simaResponse?: Buffer,
  ) {
    super(message);
  }
}

/** Where the parser stands in BF36: before BF23, before/inside A0, A1, A2 (optional), A3, or after A3. */
type Stage = 'isc' | 'a0' | 'in-a0' | 'a1' | 'in-a1' | 'a2-or-a3' | 'in-a2' | 'a3' | 'in-a3' | 'done';

const COMMAND_OF_STAGE: Readonly<Record<Stage, number>> = {
  isc: BppCommandId.initialiseSecureChannel,
  a0: BppCommandId.configureISDP,
  'in-a0': BppCommandId.configureISDP,
  a1: BppCommandId.storeMetadata,
  'in-a1': BppCommandId.storeMetadata,
  'a2-or-a3': BppCommandId.replaceSessionKeys,
  'in-a2': BppCommandId.replaceSessionKeys,
  a3: BppCommandId.loadProfileElements,
  'in-a3': BppCommandId.loadProfileElements,
  done: BppCommandId.loadProfileElements,
};

/** The containers each stage accepts next, and the stage inside them. */
const CONTAINERS: Readonly<Record<'a0' | 'a1' | 'a2-or-a3' | 'a3', Readonly<Record<number, Stage>>>> = {
  a0: { 0xa0: 'in-a0' },
  a1: { 0xa1: 'in-a1' },
  'a2-or-a3': { 0xa2: 'in-a2', 0xa3: 'in-a3' },
  a3: { 0xa3: 'in-a3' },
};

/** ConfigureISDP, StoreMetadata and ReplaceSessionKeys are small; their containers are capped (the profile has its own limit). */
const MAX_COMMAND_CONTAINER = 16 * 1024;

interface Load {
  /** The logical channel the BPP arrives on. */
  readonly channel: number;
  readonly session: RspSession;
  readonly prepared: PreparedDownload;
  stage: Stage;
  /** Received bytes not yet parsed (at most one incomplete element or header). */
  pending: Buffer;
  /** Bytes of the current A0..A3 container not yet parsed. */
  containerRemaining: number;
  /** Decrypted or verified data of the current container's segments. */
  parts: Buffer[];
  bsp?: BspSession;
  configureIsdp?: ConfigureIsdp;
  metadata?: { value: StoreMetadataRequest; der: Buffer };
  profile: Buffer[];
  profileLength: number;
}

function structure(stage: Stage, message: string): BppFailure {
  return new BppFailure(COMMAND_OF_STAGE[stage], ErrorReason.scp03tStructureError, message);
}

/** The EUICCResponse (TCA PEDefinitions) for the simaResponse: one PEStatus, and profileInstallationAborted on an error. */
function euiccResponse(status: number): Buffer {
  const peStatus = encodeTlv(0x30, encodeTlv(0x80, Buffer.from([status])));
  const parts = [encodeTlv(0xa0, peStatus)];
  if (status !== PE_STATUS_OK) parts.push(encodeTlv(0x81, Buffer.alloc(0)));
  return encodeTlv(0x30, parts);
}

/**
 * The BF36 streaming handler of the ISD-R. The BPP arrives over many STORE DATA commands, each answered with 9000
 * until the last, which gets the ProfileInstallationResult. The profile is installed, together with its PIR
 * notification, in one sealed-state save after the last segment; any failure before leaves only the error PIR.
 */
export class LoadBoundProfilePackage implements StreamingHandler {
  readonly #core: EuiccCore;
  #load: Load | undefined;

  constructor(core: EuiccCore) {
    this.#core = core;
  }

  onData(chunk: Buffer, position: StreamPosition, ctx: CommandContext): StreamStep {
    if (position.offset === 0) {
      // One download session, one BPP: a second load on another logical channel must not disturb the first.
      if (this.#load !== undefined && this.#load.channel !== ctx.channel) {
        throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', `a BPP load is in progress on channel ${this.#load.channel}`);
      }
      this.#load = this.#begin(chunk, position, ctx.channel);
    }
    const load = this.#load;
    if (load === undefined || load.channel !== ctx.channel) throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'no BPP load in progress');
    try {
      if (position.offset === 0) {
        const header = peekTlvHeader(chunk)!;
        load.pending = chunk.subarray(header.headerLength);
      } else {
        load.pending = load.pending.length === 0 ? chunk : Buffer.concat([load.pending, chunk]);
      }
      this.#parse(load);
      if (position.offset + chunk.length < position.totalLength) return { response: Buffer.alloc(0), done: false };
      if (load.stage !== 'done' || load.pending.length > 0) throw structure(load.stage, 'the BPP ends before its last profile segment');
      this.#load = undefined;
      return { response: this.#install(load), done: true };
    } catch (e) {
      this.#load = undefined;
      if (!(e instanceof BppFailure)) throw e;
      return { response: this.#fail(load, e), done: true };
    }
  }

  onAbort(ctx: CommandContext): void {
    if (this.#load?.channel === ctx.channel) this.#load = undefined;
  }

  #begin(chunk: Buffer, position: StreamPosition, channel: number): Load {
    const session = this.#core.session;
    const prepared = session?.prepared;
    if (session === undefined || prepared === undefined) {
      throw new CardError('CONDITIONS_OF_USE_NOT_SATISFIED', 'LoadBoundProfilePackage without a prepared download session');
    }
    const header = peekTlvHeader(chunk);
    if (header === undefined || header.totalLength !== position.totalLength) throw new CardError('INCORRECT_DATA', 'BF36 header');
    // The session serves this load only and ends whatever the outcome; the one-time key pair stays kept for a retry
    // until a profile installs (core.retainedOtKey).
    this.#core.session = undefined;
    return { channel, session, prepared, stage: 'isc', pending: Buffer.alloc(0), containerRemaining: 0, parts: [], profile: [], profileLength: 0 };
  }

  /** Consumes every complete header and element of `load.pending`. */
  #parse(load: Load): void {
    for (;;) {
      if (load.stage.startsWith('in-') && load.containerRemaining === 0) {
        this.#finishContainer(load);
        continue;
      }
      if (load.pending.length === 0) return;
      if (load.stage === 'done') throw structure('done', `${load.pending.length} bytes after the profile segments`);
      let header: ReturnType<typeof peekTlvHeader>;
      try {
        header = peekTlvHeader(load.pending);
      } catch (e) {
        throw structure(load.stage, `malformed TLV: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (header === undefined) return;
      const { tag, headerLength, totalLength } = header;
      switch (load.stage) {
        case 'isc': {
          if (tag !== 0xbf23) throw structure('isc', `expected BF23, got ${tagHex(tag)}`);
          if (totalLength > MAX_ISC_LENGTH) throw structure('isc', `BF23 of ${totalLength} bytes`);
          if (load.pending.length < totalLength) return;
          this.#initialiseSecureChannel(load, this.#take(load, totalLength));
          load.stage = 'a0';
          break;
        }
        case 'a0':
        case 'a1':
        case 'a2-or-a3':
        case 'a3': {
          const stage = CONTAINERS[load.stage][tag];
          if (stage === undefined) throw structure(load.stage, `unexpected ${tagHex(tag)}`);
          this.#take(load, headerLength);
          load.containerRemaining = totalLength - headerLength;
          load.parts = [];
          load.stage = stage;
          break;
        }
        default: {
          const expected = load.stage === 'in-a1' ? 0x88 : load.stage === 'in-a3' ? 0x86 : 0x87;
          if (tag !== expected) throw structure(load.stage, `expected segment ${tagHex(expected)}, got ${tagHex(tag)}`);
          if (totalLength > BSP_MAX_SEGMENT_LENGTH || totalLength > load.containerRemaining) {
            throw structure(load.stage, `segment of ${totalLength} bytes`);
          }
          if (load.pending.length < totalLength) return;
          const segment = this.#take(load, totalLength);
          load.containerRemaining -= totalLength;
          this.#segment(load, segment);
        }
      }
    }
  }

  #take(load: Load, length: number): Buffer {
    const out = load.pending.subarray(0, length);
    load.pending = load.pending.subarray(length);
    return out;
  }

  /** SGP.22 2.5.4 / 5.5.1: checks the request, verifies smdpSign, agrees the session keys. */
  #initialiseSecureChannel(load: Load, raw: Buffer): void {
    const command = BppCommandId.initialiseSecureChannel;
    let request: InitialiseSecureChannelRequest;
    try {
      request = decode(InitialiseSecureChannelRequest, raw);
    } catch (e) {
      if (e instanceof Asn1Error) throw new BppFailure(command, ErrorReason.incorrectInputValues, e.message);
      throw e;
    }
    if (request.remoteOpId !== INSTALL_BOUND_PROFILE_PACKAGE) {
      throw new BppFailure(command, ErrorReason.unsupportedRemoteOperationType, `remoteOpId ${request.remoteOpId}`);
    }
    if (!request.transactionId.equals(load.session.transactionId)) {
      throw new BppFailure(command, ErrorReason.invalidTransactionId, 'transactionId of another session');
    }
    const crt = request.controlRefTemplate;
    if (crt.keyType[0] !== KEY_TYPE_AES || crt.keyLen[0] !== KEY_LENGTH_16) {
      throw new BppFailure(command, ErrorReason.unsupportedCrtValues, 'control reference template other than AES-128');
    }
    // smdpSign covers remoteOpId, transactionId, controlRefTemplate and smdpOtpk as received, then euiccOtpk (5F49).
    const components = decodeTlv(raw).children!;
    const signedComponents = components.filter((c) => c.tag !== 0x5f37).map((c) => c.raw);
    const signed = Buffer.concat([...signedComponents, encodeTlv(0x5f49, load.prepared.otPk)]);
    if (!verifyPlain(load.prepared.dpPb.publicKey.key, signed, request.smdpSign)) {
      throw new BppFailure(command, ErrorReason.invalidSignature, 'smdpSign does not verify');
    }
    let sharedSecret: Buffer;
    try {
      sharedSecret = load.prepared.otKeyPair.agree(request.smdpOtpk);
    } catch (e) {
      if (e instanceof CryptoError) throw new BppFailure(command, ErrorReason.incorrectInputValues, e.message);
      throw e;
    }
    const keys = deriveBspKeys(sharedSecret, KEY_TYPE_AES, KEY_LENGTH_16, crt.hostId, this.#core.eidBytes);
    sharedSecret.fill(0);
    load.bsp = new BspSession(keys);
  }

  #segment(load: Load, segment: Buffer): void {
    const bsp = load.bsp!;
    const command = COMMAND_OF_STAGE[load.stage];
    let data: Buffer;
    try {
      data = load.stage === 'in-a1' ? bsp.verifyMacOnly(segment) : bsp.unprotectEncrypted(segment, load.stage === 'in-a3' ? 0x86 : 0x87);
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      throw new BppFailure(
        command,
        e.code === 'BSP_MAC_FAILURE' ? ErrorReason.scp03tSecurityError : ErrorReason.scp03tStructureError,
        e.message,
      );
    }
    if (load.stage !== 'in-a3') {
      load.parts.push(data);
      const length = load.parts.reduce((n, p) => n + p.length, 0);
      if (length > MAX_COMMAND_CONTAINER) {
        throw new BppFailure(command, ErrorReason.scp03tStructureError, `more than ${MAX_COMMAND_CONTAINER} bytes in one BPP command container`);
      }
      return;
    }
    load.profileLength += data.length;
    if (load.profileLength > this.#core.state.settings.maxProfileSize) {
      throw new BppFailure(command, ErrorReason.installFailedDueToInsufficientMemoryForProfile, 'profile package too large');
    }
    load.profile.push(data);
  }

  #finishContainer(load: Load): void {
    const data = Buffer.concat(load.parts);
    load.parts = [];
    switch (load.stage) {
      case 'in-a0':
        load.configureIsdp = decodeCommand(ConfigureISDPRequest, data, BppCommandId.configureISDP);
        load.stage = 'a1';
        return;
      case 'in-a1': {
        // SGP.32's StoreMetadataRequest: SGP.22's with the IoT eUICC's ecallIndication and fallbackAllowed.
        const metadata = decodeCommand(IotStoreMetadataRequest, data, BppCommandId.storeMetadata);
        this.#checkMetadata(metadata);
        load.metadata = { value: metadata, der: data };
        load.stage = 'a2-or-a3';
        return;
      }
      case 'in-a2': {
        const request = decodeCommand(ReplaceSessionKeysRequest, data, BppCommandId.replaceSessionKeys);
        try {
          load.bsp!.replaceSessionKeys({ initialMcv: request.initialMacChainingValue, sEnc: request.ppkEnc, sMac: request.ppkCmac });
        } catch (e) {
          if (!(e instanceof CryptoError)) throw e;
          throw new BppFailure(BppCommandId.replaceSessionKeys, ErrorReason.incorrectInputValues, e.message);
        }
        load.stage = 'a3';
        return;
      }
      default:
        load.stage = 'done';
    }
  }

  /** SGP.22 5.7.6 StoreMetadata: ICCID not yet on the eUICC, profile policy rules authorised by the RAT. */
  #checkMetadata(metadata: StoreMetadataRequest): void {
    const command = BppCommandId.storeMetadata;
    if (this.#core.findProfile({ type: 'iccid', value: metadata.iccid })) {
      throw new BppFailure(command, ErrorReason.installFailedDueToIccidAlreadyExistsOnEuicc, 'ICCID already installed');
    }
    if (!pprsAllowedByRat(metadata.profilePolicyRules, metadata.profileOwner, this.#core.rat)) {
      throw new BppFailure(command, ErrorReason.pprNotAllowed, 'profile policy rules not authorised by the RAT');
    }
  }

  /** Decodes the profile package, installs the profile and its success PIR in one save; returns the PIR. */
  #install(load: Load): Buffer {
    const command = BppCommandId.loadProfileElements;
    const metadata = load.metadata!;
    const peError = (message: string): BppFailure =>
      new BppFailure(command, ErrorReason.installFailedDueToPEProcessingError, message, euiccResponse(PE_STATUS_INVALID_REQUEST_FORMAT));
    let essentials: ReturnType<typeof extractProfileEssentials>;
    let fileSystem: ProfileFileSystem;
    try {
      const elements = decodeProfilePackage(Buffer.concat(load.profile, load.profileLength)).elements;
      if (elements[0]?.type !== 'header') throw peError('the profile package does not start with a ProfileHeader');
      if (elements.at(-1)?.type !== 'end') throw peError('the profile package does not end with PE-End');
      essentials = extractProfileEssentials(elements);
      fileSystem = buildProfileFileSystem(elements);
    } catch (e) {
      if (e instanceof Asn1Error) throw peError(e.message);
      if (e instanceof FileSystemError && e.code === 'FILE_SYSTEM_LIMIT') {
        throw new BppFailure(command, ErrorReason.installFailedDueToInsufficientMemoryForProfile, e.message);
      }
      if (e instanceof FileSystemError) throw peError(e.message);
      throw e;
    }
    if (!essentials.iccid.equals(metadata.value.iccid)) {
      throw new BppFailure(command, ErrorReason.installFailedDueToDataMismatch, 'profile ICCID differs from the metadata ICCID');
    }
    const core = this.#core;
    if (core.findProfile({ type: 'iccid', value: essentials.iccid })) {
      throw new BppFailure(command, ErrorReason.installFailedDueToIccidAlreadyExistsOnEuicc, 'ICCID already installed');
    }
    const { aid, nextIsdpIndex } = core.allocateIsdpAid();
    const dpOid = load.configureIsdp?.dpProprietaryData?.dpOid;
    const profile: StoredProfile = {
      isdpAid: aid,
      iccid: essentials.iccid,
      state: 'disabled',
      metadata: metadata.der,
      ...(dpOid !== undefined ? { dpOid } : {}),
      usim: { essentials, sqn: essentials.aka ? [...essentials.aka.sqnInit] : [], fileSystem },
    };
    const { notification, pir } = this.#pir(load, { type: 'successResult', value: { aid, simaResponse: euiccResponse(PE_STATUS_OK) } });
    const state = core.state;
    // Installed: the one-time key pair has served its download (SGP.22 5.7.5), no retry can use it any more.
    if (core.retainedOtKey?.otKeyPair === load.prepared.otKeyPair) {
      core.retainedOtKey.otKeyPair.discard();
      core.retainedOtKey = undefined;
    }
    core.commit({
      ...state,
      profiles: [...state.profiles, profile],
      notifications: [...state.notifications, notification],
      nextSeqNumber: state.nextSeqNumber + 1,
      nextIsdpIndex,
    });
    core.lastInstalled = { iccid: profile.iccid, smdpOid: load.prepared.smdpOid };
    return pir;
  }

  /** The error PIR, stored as a pending notification (SGP.22 5.7.6); nothing of the profile is kept. */
  #fail(load: Load, failure: BppFailure): Buffer {
    const { notification, pir } = this.#pir(load, {
      type: 'errorResult',
      value: {
        bppCommandId: failure.bppCommandId,
        errorReason: failure.errorReason,
        ...(failure.simaResponse ? { simaResponse: failure.simaResponse } : {}),
      },
    });
    const state = this.#core.state;
    this.#core.commit({ ...state, notifications: [...state.notifications, notification], nextSeqNumber: state.nextSeqNumber + 1 });
    this.#core.lastInstalled = undefined;
    return pir;
  }

  #pir(load: Load, finalResult: FinalResult): { notification: StoredNotification; pir: Buffer } {
    const core = this.#core;
    const iccid = load.metadata?.value.iccid;
    const { metadata, der } = core.notificationMetadata(NotificationEvent.notificationInstall, load.session.serverAddress, iccid);
    const data = capture(ProfileInstallationResultData, {
      transactionId: load.session.transactionId,
      notificationMetadata: metadata,
      smdpOid: load.prepared.smdpOid,
      finalResult,
    });
    const result: ProfileInstallationResult = { profileInstallationResultData: data, euiccSignPIR: core.sign(data.der) };
    const pir = encode(ProfileInstallationResult, result);
    const notification: StoredNotification = {
      seqNumber: metadata.seqNumber,
      event: NotificationEvent.notificationInstall,
      notificationAddress: load.session.serverAddress,
      ...(iccid ? { iccid } : {}),
      metadata: der,
      pending: encode(PendingNotification, { type: 'profileInstallationResult', value: result }),
    };
    return { notification, pir };
  }
}

function decodeCommand<T>(codec: Parameters<typeof decode<T>>[0], data: Buffer, command: number): T {
  try {
    return decode(codec, data);
  } catch (e) {
    if (e instanceof Asn1Error) throw new BppFailure(command, ErrorReason.incorrectInputValues, e.message);
    throw e;
  }
}
