// SGP.22 5.7.6 ES10b.LoadBoundProfilePackage errorResult (bppCommandId, errorReason) in words: the rule the BPP broke, from what the LPA loaded (2.5.3 segments, 2.5.4 layout, 2.6.4 BSP).
import { Asn1Error } from '../../asn1/errors.js';
import { decode } from '../../asn1/schema.js';
import { tagHex } from '../../asn1/tlv.js';
import { BppCommandId, ErrorReason, InitialiseSecureChannelRequest, type ErrorResult } from '../../asn1/definitions/rsp.js';
import { BSP_MAX_SEGMENT_LENGTH } from '../../crypto/bsp.js';
import type { BppStructure } from '../es10Client.js';

/** The container each BPP command travels in (SGP.22 2.5.4). */
const CONTAINER_OF_COMMAND: Readonly<Record<number, number>> = {
  [BppCommandId.configureISDP]: 0xa0,
  [BppCommandId.storeMetadata]: 0xa1,
  [BppCommandId.storeMetadata2]: 0xa1,
  [BppCommandId.replaceSessionKeys]: 0xa2,
  [BppCommandId.loadProfileElements]: 0xa3,
};

const COMMAND_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(BppCommandId).map(([name, id]) => [id, name]));

function hex(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

/** The first segment over 1020 bytes (SGP.22 2.5.3: tag, length and C-MAC included) up to and including the failing command's container. */
function oversizedSegment(bpp: BppStructure, container: number | undefined): string | undefined {
  if (container === undefined) return undefined;
  for (const c of bpp.containers) {
    const index = c.segments.findIndex((s) => s.raw.length > BSP_MAX_SEGMENT_LENGTH);
    if (index >= 0) {
      const s = c.segments[index]!;
      return (
        `segment of ${s.raw.length} bytes exceeds the ${BSP_MAX_SEGMENT_LENGTH}-byte limit of SGP.22 2.5.3 (the SM-DP+ sent an oversized segment): ` +
        `${tagHex(s.tag)} segment ${index + 1} of ${c.segments.length} in ${tagHex(c.tag)}`
      );
    }
    if (c.tag === container) break;
  }
  return undefined;
}

function initialiseSecureChannel(bpp: BppStructure): InitialiseSecureChannelRequest | undefined {
  try {
    return decode(InitialiseSecureChannelRequest, bpp.initialiseSecureChannel.raw);
  } catch (e) {
    if (e instanceof Asn1Error) return undefined;
    throw e;
  }
}

/**
 * Why the eUICC refused the BPP: the errorResult of its ProfileInstallationResult explained with what the LPA can see
 * in the package it loaded (segment sizes, the InitialiseSecureChannelRequest in clear, the session's transactionId).
 */
export function explainErrorResult(bpp: BppStructure, error: ErrorResult, sessionTransactionId: Buffer): string {
  const command = COMMAND_NAMES[error.bppCommandId] ?? `BPP command ${error.bppCommandId}`;
  const container = CONTAINER_OF_COMMAND[error.bppCommandId];
  const where = container === undefined ? 'InitialiseSecureChannelRequest (BF23)' : `${command} (${tagHex(container)})`;
  const isc = initialiseSecureChannel(bpp);
  switch (error.errorReason) {
    case ErrorReason.scp03tStructureError:
      return (
        oversizedSegment(bpp, container) ??
        `a segment of ${where} is not a well-formed BSP segment: its protected data is not whole 16-byte AES blocks, its padding is wrong, ` +
          `or the container's content ends early or runs over (SGP.22 2.6.4)`
      );
    case ErrorReason.scp03tSecurityError:
      return (
        `a segment of ${where} failed its C-MAC check (SGP.22 2.6.4): it was altered, dropped or reordered (each C-MAC chains on the one before), ` +
        `or the SM-DP+ protected it with session keys other than those agreed with this eUICC's one-time key`
      );
    case ErrorReason.invalidSignature:
      return (
        `smdpSign of InitialiseSecureChannelRequest does not verify with the SM-DP+'s binding certificate (CERT.DPpb) (SGP.22 5.7.6, 2.5.4): ` +
        `it covers the eUICC's one-time key (euiccOtpk), so a BPP bound to another PrepareDownload fails here too`
      );
    case ErrorReason.invalidTransactionId:
      return `InitialiseSecureChannelRequest carries transactionId ${isc ? hex(isc.transactionId) : '(unreadable)'}, the session is ${hex(sessionTransactionId)} (SGP.22 5.7.6)`;
    case ErrorReason.unsupportedRemoteOperationType:
      return `InitialiseSecureChannelRequest asks for remoteOpId ${isc ? isc.remoteOpId : '(unreadable)'}: only installBoundProfilePackage (1) is defined (SGP.22 2.5.4)`;
    case ErrorReason.unsupportedCrtValues:
      return (
        `the control reference template asks for key type ${isc ? hex(isc.controlRefTemplate.keyType) : '?'}, key length ${isc ? hex(isc.controlRefTemplate.keyLen) : '?'}: ` +
        `the eUICC supports AES (88) with 16-byte keys (10) (SGP.22 2.6.4)`
      );
    case ErrorReason.incorrectInputValues:
      return `${where} carries a value the eUICC cannot use: malformed ASN.1 in the (decrypted) command, or a one-time public key (smdpOtpk) that is not an uncompressed point of the curve (SGP.22 5.7.6)`;
    case ErrorReason.unsupportedProfileClass:
      return 'the profile class in StoreMetadataRequest is one this eUICC does not install (SGP.22 5.7.6)';
    case ErrorReason.installFailedDueToIccidAlreadyExistsOnEuicc:
      return 'a profile with the same ICCID is already installed on this eUICC (SGP.22 5.7.6)';
    case ErrorReason.installFailedDueToInsufficientMemoryForProfile:
      return 'the profile package is larger than the memory the eUICC has free for it (SGP.22 5.7.6)';
    case ErrorReason.installFailedDueToInterruption:
      return 'the installation was interrupted before the last profile segment (SGP.22 5.7.6)';
    case ErrorReason.installFailedDueToPEProcessingError:
      return 'the eUICC could not process the profile elements: the decrypted profile package is not a complete, well-formed sequence from ProfileHeader to PE-End (SGP.22 5.7.6; TCA eUICC Profile Package)';
    case ErrorReason.installFailedDueToDataMismatch:
      return "the ICCID of the profile's ProfileHeader differs from the ICCID of StoreMetadataRequest (SGP.22 5.7.6)";
    case ErrorReason.testProfileInstallFailedDueToInvalidNaaKey:
      return 'the test profile carries an NAA key that test profiles may not use (SGP.22 5.7.6)';
    case ErrorReason.pprNotAllowed:
      return "the profile's Profile Policy Rules are not allowed by the eUICC's Rules Authorisation Table (SGP.22 2.9.2)";
    default:
      return `${where}: the eUICC reports error reason ${error.errorReason} without naming a cause (SGP.22 5.7.6)`;
  }
}
