// SGP.32 v1.2 5.14.1 ESipa.InitiateAuthentication, the IPA's side (3.2.2 indirect profile download): the eUICC's challenge and EUICCInfo1 to the eIM, which relays them to the SM-DP+; the SM-DP+'s signed serverSigned1 and certificate back as received.
import { encodeTlv } from '../../asn1/tlv.js';
import type { Es9Response } from '../../http/es9plusFunctions.js';
import type { EsipaClient } from './esipaClient.js';
import { field, jsonError, relayedComponents } from './relayedResponse.js';

export interface InitiateAuthenticationEsipaRequest {
  readonly euiccChallenge: Buffer;
  readonly smdpAddress: string;
  /** EUICCInfo1 (BF20) as the eUICC returned it. */
  readonly euiccInfo1: Buffer;
  readonly eimTransactionId?: Buffer;
}

/** The ES9+ fields, as the SM-DP+ sent them; an initiateAuthenticationErrorEsipa is an EsipaError with its code. */
export async function initiateAuthentication(client: EsipaClient, r: InitiateAuthenticationEsipaRequest): Promise<Es9Response<'initiateAuthentication'>> {
  const fn = 'InitiateAuthentication';
  if (client.binding === 'asn1') {
    const message = encodeTlv(0xbf39, [
      encodeTlv(0x81, r.euiccChallenge),
      encodeTlv(0x83, Buffer.from(r.smdpAddress, 'utf8')),
      r.euiccInfo1,
      ...(r.eimTransactionId === undefined ? [] : [encodeTlv(0x82, r.eimTransactionId)]),
    ]);
    const parts = relayedComponents(fn, await client.asn1(fn, message), 'initiateAuthenticationResponseEsipa');
    // 80 transactionId, 30 serverSigned1, 5F37 serverSignature1, 04 euiccCiPKIdentifierToBeUsed, 30 serverCertificate.
    const [transactionId, serverSigned1, serverSignature1, euiccCiPKIdToBeUsed, serverCertificate] = parts;
    return {
      transactionId: field(fn, 'transactionId', transactionId?.[0] === 0x80 ? transactionId.subarray(2) : undefined),
      serverSigned1: field(fn, 'serverSigned1', serverSigned1),
      serverSignature1: field(fn, 'serverSignature1', serverSignature1),
      euiccCiPKIdToBeUsed: field(fn, 'euiccCiPKIdToBeUsed', euiccCiPKIdToBeUsed),
      serverCertificate: field(fn, 'serverCertificate', serverCertificate),
    };
  }
  const a = await client.json('initiateAuthentication', {
    euiccChallenge: r.euiccChallenge,
    smdpAddress: r.smdpAddress,
    euiccInfo1: r.euiccInfo1,
    ...(r.eimTransactionId === undefined ? {} : { eimTransactionId: r.eimTransactionId }),
  });
  jsonError(fn, 'initiateAuthenticationErrorEsipa', a.initiateAuthenticationErrorEsipa);
  return {
    transactionId: field(fn, 'transactionId', a.transactionId),
    serverSigned1: field(fn, 'serverSigned1', a.serverSigned1),
    serverSignature1: field(fn, 'serverSignature1', a.serverSignature1),
    euiccCiPKIdToBeUsed: field(fn, 'euiccCiPKIdToBeUsed', a.euiccCiPKIdToBeUsed),
    serverCertificate: field(fn, 'serverCertificate', a.serverCertificate),
  };
}
