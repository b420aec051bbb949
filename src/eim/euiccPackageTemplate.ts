// SGP.32 v1.2 2.11.1.1 EuiccPackageRequest for many devices at once: the same eUICC Package under each device's EID, counter and eimTransactionId, its DER spliced from one encoding made by the codec (the bytes are the codec's own).
import { EuiccPackageRequest, EuiccPackageSigned, type EuiccPackage } from '../asn1/definitions/sgp32.js';
import { capture, encode } from '../asn1/schema.js';
import { decodeTlv, encodeLength, encodeTag } from '../asn1/tlv.js';
import { PLAIN_SIGNATURE_LENGTH } from '../crypto/ecdsa.js';
import { associationTokenTlv } from './eimSignature.js';
import { EimError } from './errors.js';

const EID_BYTES = 16;
const TRANSACTION_ID_BYTES = 16;

/** counterValue's content octets (X.690 8.3: two's complement, minimal) for 0 to 2^31 - 1. */
function integerOctets(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new EimError('INVALID_ARGUMENT', `a counterValue is 0 to ${0x7fffffff}`);
  if (n < 0x80) return [n];
  if (n < 0x8000) return [n >> 8, n & 0xff];
  if (n < 0x800000) return [n >> 16, (n >> 8) & 0xff, n & 0xff];
  return [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/**
 * One eUICC Package for one eimId, ready to be put under many devices' EIDs, counters and 16-byte eimTransactionIds.
 * The codec encodes it once; each device's EuiccPackageSigned is that encoding with its own values in place (the
 * fields around them are the same bytes), so it equals what the codec would produce for the device.
 */
export class EuiccPackageTemplate {
  /** eimId's TLV, eidValue's header, counterValue's tag, eimTransactionId's header, euiccPackage's TLV. */
  readonly #eimId: Buffer;
  readonly #eidHead: Buffer;
  readonly #counterTag: number;
  readonly #transactionHead: Buffer;
  readonly #package: Buffer;
  readonly #sequenceTag: Buffer;
  /** EuiccPackageRequest's tag and eimSignature's header. */
  readonly #requestTag: Buffer;
  readonly #signatureHead: Buffer;
  readonly #tokens = new Map<number, Buffer>();

  constructor(eimId: string, pkg: EuiccPackage) {
    const sample = capture(EuiccPackageSigned, { eimId, eidValue: Buffer.alloc(EID_BYTES), counterValue: 0, eimTransactionId: Buffer.alloc(TRANSACTION_ID_BYTES), euiccPackage: pkg });
    const tlv = decodeTlv(sample.der);
    const [id, eid, counter, transaction, body] = tlv.children!;
    this.#sequenceTag = encodeTag(tlv.tag);
    this.#eimId = Buffer.from(id!.raw);
    this.#eidHead = Buffer.from(eid!.raw.subarray(0, eid!.raw.length - EID_BYTES));
    this.#counterTag = counter!.raw[0]!;
    this.#transactionHead = Buffer.from(transaction!.raw.subarray(0, transaction!.raw.length - TRANSACTION_ID_BYTES));
    this.#package = Buffer.from(body!.raw);
    const request = decodeTlv(encode(EuiccPackageRequest, { euiccPackageSigned: sample, eimSignature: Buffer.alloc(PLAIN_SIGNATURE_LENGTH) }));
    const signature = request.children![1]!.raw;
    this.#requestTag = encodeTag(request.tag);
    this.#signatureHead = Buffer.from(signature.subarray(0, signature.length - PLAIN_SIGNATURE_LENGTH));
  }

  /**
   * What eimSignature is computed over: the device's EuiccPackageSigned DER, then `84 len associationToken`. The DER
   * is the first `signedLength` bytes.
   */
  toBeSigned(eidValue: Buffer, counter: number, eimTransactionId: Buffer, associationToken: number): { readonly data: Buffer; readonly signedLength: number } {
    if (eidValue.length !== EID_BYTES) throw new EimError('INVALID_ARGUMENT', `an eidValue is ${EID_BYTES} bytes`);
    if (eimTransactionId.length !== TRANSACTION_ID_BYTES) throw new EimError('INVALID_ARGUMENT', `a batch's eimTransactionIds are ${TRANSACTION_ID_BYTES} bytes`);
    let token = this.#tokens.get(associationToken);
    if (token === undefined) {
      token = associationTokenTlv(associationToken);
      if (this.#tokens.size < 1024) this.#tokens.set(associationToken, token);
    }
    const counterOctets = integerOctets(counter);
    const content = this.#eimId.length + this.#eidHead.length + EID_BYTES + 2 + counterOctets.length + this.#transactionHead.length + TRANSACTION_ID_BYTES + this.#package.length;
    const length = encodeLength(content);
    const signedLength = this.#sequenceTag.length + length.length + content;
    const data = Buffer.allocUnsafe(signedLength + token.length);
    let at = this.#sequenceTag.copy(data, 0);
    at += length.copy(data, at);
    at += this.#eimId.copy(data, at);
    at += this.#eidHead.copy(data, at);
    at += eidValue.copy(data, at);
    data[at++] = this.#counterTag;
    data[at++] = counterOctets.length;
    for (const o of counterOctets) data[at++] = o;
    at += this.#transactionHead.copy(data, at);
    at += eimTransactionId.copy(data, at);
    at += this.#package.copy(data, at);
    token.copy(data, at);
    return { data, signedLength };
  }

  /** The EuiccPackageRequest (BF51): the EuiccPackageSigned DER and its eimSignature (plain r || s). */
  request(signedDer: Uint8Array, signature: Uint8Array): Buffer {
    if (signature.length !== PLAIN_SIGNATURE_LENGTH) throw new EimError('INVALID_ARGUMENT', `an eimSignature is ${PLAIN_SIGNATURE_LENGTH} bytes`);
    const length = encodeLength(signedDer.length + this.#signatureHead.length + signature.length);
    const out = Buffer.allocUnsafe(this.#requestTag.length + length.length + signedDer.length + this.#signatureHead.length + signature.length);
    let at = this.#requestTag.copy(out, 0);
    at += length.copy(out, at);
    out.set(signedDer, at);
    at += signedDer.length;
    at += this.#signatureHead.copy(out, at);
    out.set(signature, at);
    return out;
  }
}
