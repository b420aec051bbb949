// Binding a profile package to one eUICC (SGP.22 2.5.4/2.5.5, ES8+ 5.5): one-time ECKA keys, BSP session keys, the BF36 package.
import { randomBytes } from 'node:crypto';
import { encode } from '../asn1/schema.js';
import { encodeTlv } from '../asn1/tlv.js';
import {
  BoundProfilePackage,
  ConfigureISDPRequest,
  InitialiseSecureChannelRequest,
  ReplaceSessionKeysRequest,
  StoreMetadataRequest,
  type ControlRefTemplate,
} from '../asn1/definitions/rsp.js';
import { capture, type Captured } from '../asn1/schema.js';
import { BSP_KEY_LENGTH, BSP_KEY_TYPE_AES, BspSession, deriveBspKeys } from '../crypto/bsp.js';
import { signPlain, type EcCurve } from '../crypto/ecdsa.js';
import { OneTimeEckaKeyPair } from '../crypto/ecka.js';
import type { KeyObject } from 'node:crypto';

/** remoteOpId installBoundProfilePackage (SGP.22 RemoteOpId). */
export const REMOTE_OP_INSTALL_BPP = 1;
const HOST_ID_LENGTH = 16;

export interface BindingInput {
  readonly curve: EcCurve;
  readonly transactionId: Buffer;
  /** The EID as 16 bytes (32 digits). */
  readonly eid: Buffer;
  /** otPK.EUICC.ECKA from EUICCSigned2 (uncompressed point). */
  readonly euiccOtpk: Buffer;
  /** SK.DPpb.ECDSA: signs the InitialiseSecureChannelRequest. */
  readonly dpPbKey: KeyObject;
  readonly metadata: StoreMetadataRequest;
  readonly profilePackage: Buffer;
  /** Protect the profile with fresh random profile protection keys (ReplaceSessionKeys). */
  readonly useProfileProtectionKeys: boolean;
}

/** Profile protection keys sent in ReplaceSessionKeys (SGP.22 2.5.5). */
export interface ProfileProtectionKeys {
  readonly initialMcv: Buffer;
  readonly sEnc: Buffer;
  readonly sMac: Buffer;
}

/**
 * What makes a binding: otPK.DP.ECKA, the shared secret it agreed with otPK.EUICC.ECKA, the hostId and the profile
 * protection keys. With the same profile package and metadata these give the same package byte for byte (BSP is
 * deterministic: its ICVs come from the block counter), so a retry rebuilds it from them instead of keeping it.
 */
export interface BindingSecrets {
  readonly smdpOtpk: Buffer;
  readonly sharedSecret: Buffer;
  readonly hostId: Buffer;
  readonly ppk: ProfileProtectionKeys | undefined;
}

export interface Binding {
  readonly bpp: Buffer;
  readonly secrets: BindingSecrets;
}

/**
 * Builds BF36: BF23 InitialiseSecureChannelRequest (smdpSign over remoteOpId || transactionId || controlRefTemplate ||
 * smdpOtpk, each as its TLV, followed by the euiccOtpk TLV), A0 {87 ConfigureISDP}, A1 {88 StoreMetadata...},
 * [A2 {87 ReplaceSessionKeys}], A3 {86 profile segments}. A fresh binding generates the one-time key pair (its private
 * key lives only in this call), hostId and PPKs; with `again`, the secrets of an earlier binding to the same
 * otPK.EUICC.ECKA are used (SGP.22 5.6.2 retry) and only BF23 differs: it is signed for this transaction.
 */
export function bindProfilePackage(input: BindingInput, again?: BindingSecrets): Binding {
  const secrets = again ?? freshSecrets(input);
  const { smdpOtpk, sharedSecret, hostId } = secrets;
  const crt: ControlRefTemplate = { keyType: Buffer.of(BSP_KEY_TYPE_AES), keyLen: Buffer.of(BSP_KEY_LENGTH), hostId };

  const initialiseSecureChannelRequest = initialiseSecureChannel(input.transactionId, crt, smdpOtpk, input.euiccOtpk, input.dpPbKey);

  const keys = deriveBspKeys(sharedSecret, BSP_KEY_TYPE_AES, BSP_KEY_LENGTH, hostId, input.eid);
  const bsp = new BspSession(keys);
  const firstSequenceOf87 = [bsp.encryptAndMac(0x87, encode(ConfigureISDPRequest, {}))];
  const sequenceOf88 = bsp.macOnlySegments(0x88, encode(StoreMetadataRequest, input.metadata));
  let secondSequenceOf87: Buffer[] | undefined;
  const ppk = secrets.ppk;
  if (ppk !== undefined) {
    const request = encode(ReplaceSessionKeysRequest, { initialMacChainingValue: ppk.initialMcv, ppkEnc: ppk.sEnc, ppkCmac: ppk.sMac });
    secondSequenceOf87 = [bsp.encryptAndMac(0x87, request)];
    bsp.replaceSessionKeys(ppk);
  }
  const sequenceOf86 = bsp.protectProfileSegments(input.profilePackage);
  const bpp = encode(BoundProfilePackage, {
    initialiseSecureChannelRequest,
    firstSequenceOf87,
    sequenceOf88,
    ...(secondSequenceOf87 === undefined ? {} : { secondSequenceOf87 }),
    sequenceOf86,
  });
  return { bpp, secrets };
}

/** A new one-time key pair agreed with otPK.EUICC.ECKA (its private key dropped), a random hostId and, if asked, PPKs. */
function freshSecrets(input: BindingInput): BindingSecrets {
  const otKeys = new OneTimeEckaKeyPair(input.curve);
  const sharedSecret = otKeys.agree(input.euiccOtpk);
  const ppk = input.useProfileProtectionKeys ? { initialMcv: randomBytes(16), sEnc: randomBytes(16), sMac: randomBytes(16) } : undefined;
  return { smdpOtpk: otKeys.publicPoint, sharedSecret, hostId: randomBytes(HOST_ID_LENGTH), ppk };
}

/**
 * BF23 InitialiseSecureChannelRequest for `transactionId`, signed with SK.DPpb.ECDSA over remoteOpId || transactionId ||
 * controlRefTemplate || smdpOtpk (each as its TLV) || the euiccOtpk TLV (SGP.22 5.5.1).
 */
export function initialiseSecureChannel(
  transactionId: Buffer,
  controlRefTemplate: ControlRefTemplate,
  smdpOtpk: Buffer,
  euiccOtpk: Buffer,
  dpPbKey: KeyObject,
): Captured<InitialiseSecureChannelRequest> {
  const unsigned = { remoteOpId: REMOTE_OP_INSTALL_BPP, transactionId, controlRefTemplate, smdpOtpk, smdpSign: Buffer.alloc(0) };
  const signedPart = smdpSignInput(encode(InitialiseSecureChannelRequest, unsigned));
  const smdpSign = signPlain(dpPbKey, Buffer.concat([signedPart, encodeTlv(0x5f49, euiccOtpk)]));
  return capture(InitialiseSecureChannelRequest, { ...unsigned, smdpSign });
}

/**
 * The components smdpSign covers, as their TLVs in the order they are sent: the content of BF23 without its last
 * element (the 5F37 smdpSign itself, here encoded empty as 5F37 00).
 */
function smdpSignInput(bf23WithEmptySign: Buffer): Buffer {
  // BF23 L ... 5F37 00: the content starts after the tag (2 bytes) and the length field.
  const lengthByte = bf23WithEmptySign[2]!;
  const contentStart = 3 + (lengthByte < 0x80 ? 0 : lengthByte & 0x7f);
  return bf23WithEmptySign.subarray(contentStart, bf23WithEmptySign.length - 3);
}
