// SGP.32 v1.2 5.14.3 ESipa.GetBoundProfilePackage, the IPA's side (3.2.2): the eUICC's PrepareDownloadResponse to the eIM, which relays it to the SM-DP+; the Bound Profile Package back as received.
import { encodeTlv } from '../../asn1/tlv.js';
import type { Es9Response } from '../../http/es9plusFunctions.js';
import type { EsipaClient } from './esipaClient.js';
import { field, jsonError, relayedComponents } from './relayedResponse.js';

/** `prepareDownloadResponse` is the eUICC's BF21 as returned; a getBoundProfilePackageErrorEsipa is an EsipaError with its code. */
export async function getBoundProfilePackage(client: EsipaClient, transactionId: Buffer, prepareDownloadResponse: Buffer): Promise<Es9Response<'getBoundProfilePackage'>> {
  const fn = 'GetBoundProfilePackage';
  if (client.binding === 'asn1') {
    const answer = await client.asn1(fn, encodeTlv(0xbf3a, [encodeTlv(0x80, transactionId), prepareDownloadResponse]));
    // 80 transactionId, BF36 boundProfilePackage.
    const [tx, bpp] = relayedComponents(fn, answer, 'getBoundProfilePackageResponseEsipa');
    return { transactionId: field(fn, 'transactionId', tx?.[0] === 0x80 ? tx.subarray(2) : undefined), boundProfilePackage: field(fn, 'boundProfilePackage', bpp) };
  }
  const a = await client.json('getBoundProfilePackage', { transactionId, prepareDownloadResponse });
  jsonError(fn, 'getBoundProfilePackageErrorEsipa', a.getBoundProfilePackageErrorEsipa);
  return { transactionId: field(fn, 'transactionId', a.transactionId), boundProfilePackage: field(fn, 'boundProfilePackage', a.boundProfilePackage) };
}
