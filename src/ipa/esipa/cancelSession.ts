// SGP.32 v1.2 5.14.4 ESipa.CancelSession, the IPA's side (3.2.2): the eUICC's signed CancelSessionResponse to the eIM, which relays it to the SM-DP+.
import { decodeTlv, encodeTlv } from '../../asn1/tlv.js';
import { EsipaError, IpaError } from '../errors.js';
import type { EsipaClient } from './esipaClient.js';

/** `cancelSessionResponse` is the eUICC's BF41 as returned; a cancelSessionError is an EsipaError with its code. */
export async function cancelSession(client: EsipaClient, transactionId: Buffer, cancelSessionResponse: Buffer): Promise<void> {
  const fn = 'CancelSession';
  if (client.binding === 'asn1') {
    // BF41 { 80 transactionId, A1 { the response's alternative } }: the signed part unchanged.
    const inner = decodeTlv(cancelSessionResponse).children![0]!;
    const answer = await client.asn1(fn, encodeTlv(0xbf41, [encodeTlv(0x80, transactionId), encodeTlv(0xa1, inner.raw)]));
    if (answer === undefined || answer.value.type !== 'cancelSessionResponseEsipa') throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the eIM answered ${answer?.value.type ?? 'nothing'}`);
    if (answer.value.value.type === 'cancelSessionError') throw new EsipaError(fn, `cancelSessionError ${answer.value.value.value}`, { esipaCode: answer.value.value.value });
    return;
  }
  const a = await client.json('cancelSession', { transactionId, cancelSessionResponse });
  if (a.cancelSessionError !== undefined) throw new EsipaError(fn, `cancelSessionError ${a.cancelSessionError}`, { esipaCode: a.cancelSessionError });
}
