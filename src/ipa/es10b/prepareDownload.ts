// SGP.22 5.7.5 ES10b.PrepareDownload: relays smdpSigned2 (with the hashed confirmation code); the eUICC answers with its one-time key, signed.
import { createHash } from 'node:crypto';
import { DownloadErrorCode, PrepareDownloadResponse } from '../../asn1/definitions/rsp.js';
import { encodeTlv } from '../../asn1/tlv.js';
import { decodeEs10Response, resultName, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

export interface PrepareDownloadInput {
  /** The SmdpSigned2 SEQUENCE exactly as the SM-DP+ sent it. */
  readonly smdpSigned2: Buffer;
  /** The smdpSignature2 TLV (5F37). */
  readonly smdpSignature2: Buffer;
  /** The smdpCertificate (DER). */
  readonly smdpCertificate: Buffer;
  /** hashCc, when the SM-DP+ requires a confirmation code (see hashConfirmationCode). */
  readonly hashCc?: Buffer;
}

/**
 * SGP.22 3.1.3: the LPAd computes the Hashed Confirmation Code SHA256(SHA256(CC) | TransactionID)
 * and passes it to the eUICC, which signs it within EUICCSigned2.
 */
export function hashConfirmationCode(confirmationCode: string, transactionId: Buffer): Buffer {
  const inner = createHash('sha256').update(confirmationCode, 'utf8').digest();
  return createHash('sha256').update(inner).update(transactionId).digest();
}

/** Returns the whole BF21 response for getBoundProfilePackage; a downloadResponseError becomes Es10ResultError. */
export async function prepareDownload(client: Es10Client, input: PrepareDownloadInput): Promise<Buffer> {
  const fn = 'PrepareDownload';
  const parts = [input.smdpSigned2, input.smdpSignature2];
  if (input.hashCc) parts.push(encodeTlv(0x04, input.hashCc));
  parts.push(input.smdpCertificate);
  const der = await client.command(encodeTlv(0xbf21, parts), fn);
  const response = decodeEs10Response(PrepareDownloadResponse, der, fn);
  if (response.type === 'downloadResponseError') {
    const code = response.value.downloadErrorCode;
    throw new Es10ResultError(fn, code, resultName(DownloadErrorCode, code), { response: der });
  }
  return der;
}
