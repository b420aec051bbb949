// SGP.32 v1.2 5.14.2 ESipa.AuthenticateClient, the IPA's side (3.2.2): the eUICC's AuthenticateServerResponse to the eIM, which relays it to the SM-DP+; the profile metadata and the SM-DP+'s smdpSigned2 back as received.
import { encodeTlv } from '../../asn1/tlv.js';
import type { Es9Response } from '../../http/es9plusFunctions.js';
import type { EsipaClient } from './esipaClient.js';
import { field, jsonError, relayedComponents } from './relayedResponse.js';

/** `authenticateServerResponse` is the eUICC's BF38 as returned; an authenticateClientErrorEsipa is an EsipaError with its code. */
export async function authenticateClient(client: EsipaClient, transactionId: Buffer, authenticateServerResponse: Buffer): Promise<Es9Response<'authenticateClient'>> {
  const fn = 'AuthenticateClient';
  if (client.binding === 'asn1') {
    const answer = await client.asn1(fn, encodeTlv(0xbf3b, [encodeTlv(0x80, transactionId), authenticateServerResponse]));
    const parts = relayedComponents(fn, answer, 'authenticateClientResponseEsipa');
    // 80 transactionId, BF25 profileMetaData, 30 smdpSigned2, 5F37 smdpSignature2, 30 smdpCertificate (hashCc absent).
    const [tx, profileMetadata, smdpSigned2, smdpSignature2, smdpCertificate] = parts;
    return {
      transactionId: field(fn, 'transactionId', tx?.[0] === 0x80 ? tx.subarray(2) : undefined),
      profileMetadata: field(fn, 'profileMetaData', profileMetadata?.[0] === 0xbf && profileMetadata[1] === 0x25 ? profileMetadata : undefined),
      smdpSigned2: field(fn, 'smdpSigned2', smdpSigned2),
      smdpSignature2: field(fn, 'smdpSignature2', smdpSignature2),
      smdpCertificate: field(fn, 'smdpCertificate', smdpCertificate),
    };
  }
  const a = await client.json('authenticateClient', { transactionId, authenticateServerResponse });
  jsonError(fn, 'authenticateClientErrorEsipa', a.authenticateClientErrorEsipa);
  return {
    transactionId: field(fn, 'transactionId', a.transactionId),
    profileMetadata: field(fn, 'profileMetadata', a.profileMetadata),
    smdpSigned2: field(fn, 'smdpSigned2', a.smdpSigned2),
    smdpSignature2: field(fn, 'smdpSignature2', a.smdpSignature2),
    smdpCertificate: field(fn, 'smdpCertificate', a.smdpCertificate),
  };
}
