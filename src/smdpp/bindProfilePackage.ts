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

/**
 * Builds BF36: BF23 InitialiseSecureChannelRequest (smdpSign over remoteOpId || transactionId || controlRefTemplate ||
 * smdpOtpk, each as its TLV, followed by the euiccOtpk TLV), A0 {87 ConfigureISDP}, A1 {88 StoreMetadata...},
 * [A2 {87 ReplaceSessionKeys}], A3 {86 profile segments}. The one-time private key lives only in this call.
 */
export function bindProfilePackage(input: BindingInput): Buffer {
  const otKeys = new OneTimeEckaKeyPair(input.curve);
  const smdpOtpk = otKeys.publicPoint;
  const sharedSecret = otKeys.agree(input.euiccOtpk);
  const hostId = randomBytes(HOST_ID_LENGTH);
  const crt: ControlRefTemplate = { keyType: Buffer.of(BSP_KEY_TYPE_AES), keyLen: Buffer.of(BSP_KEY_LENGTH), hostId };

  const initialiseSecureChannelRequest = initialiseSecureChannel(input.transactionId, crt, smdpOtpk, input.euiccOtpk, input.dpPbKey);

  const keys = deriveBspKeys(sharedSecret, BSP_KEY_TYPE_AES, BSP_KEY_LENGTH, hostId, input.eid);
  const bsp = new BspSession(keys);
  const firstSequenceOf87 = [bsp.encryptAndMac(0x87, encode(ConfigureISDPRequest, {}))];
  const sequenceOf88 = bsp.macOnlySegments(0x88, encode(StoreMetadataRequest, input.metadata));
  let secondSequenceOf87: Buffer[] | undefined;
  if (input.useProfileProtectionKeys) {
    const ppk = { initialMcv: randomBytes(16), sEnc: randomBytes(16), sMac: randomBytes(16) };
    const request = encode(ReplaceSessionKeysRequest, { initialMacChainingValue: ppk.initialMcv, ppkEnc: ppk.sEnc, ppkCmac: ppk.sMac });
    secondSequenceOf87 = [bsp.encryptAndMac(0x87, request)];
    bsp.replaceSessionKeys(ppk);
  }
  const sequenceOf86 = bsp.protectProfileSegments(input.profilePackage);
  return encode(BoundProfilePackage, {
    initialiseSecureChannelRequest,
    firstSequenceOf87,
    sequenceOf88,
    ...(secondSequenceOf87 === undefined ? {} : { secondSequenceOf87 }),
    sequenceOf86,
  });
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
