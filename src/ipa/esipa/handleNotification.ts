// SGP.32 v1.2 5.14.5 ESipa.HandleNotification, the IPA's side: a pending notification of the eUICC relayed to the eIM byte for byte (HTTP 204).
import { encodeTlv } from '../../asn1/tlv.js';
import { IpaError } from '../errors.js';
import type { EsipaClient } from './esipaClient.js';

export async function handleNotification(client: EsipaClient, pendingNotification: Buffer): Promise<void> {
  const fn = 'HandleNotification';
  if (client.binding === 'asn1') {
    // BF3D { A0 { notification } }.
    const answer = await client.asn1(fn, encodeTlv(0xbf3d, encodeTlv(0xa0, pendingNotification)));
    if (answer !== undefined) throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the eIM answered ${answer.value.type} where 204 No Content is due`);
    return;
  }
  await client.json('handleNotification', { pendingNotification });
}
