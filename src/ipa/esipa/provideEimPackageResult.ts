// SGP.32 v1.2 5.14.8 ESipa.ProvideEimPackageResult, the IPA's side: the result of an eIM package, as the eUICC produced it; the eIM answers the sequence numbers it has stored.
import { ProvideEimPackageResult } from '../../asn1/definitions/sgp32.js';
import { EimAcknowledgements } from '../../asn1/definitions/sgp32.js';
import { decode } from '../../asn1/schema.js';
import { encodeTlv } from '../../asn1/tlv.js';
import { Asn1Error } from '../../asn1/errors.js';
import { EsipaError, IpaError } from '../errors.js';
import type { EsipaClient } from './esipaClient.js';

/** EidValue, tag 5A. */
function eidTlv(eid: Buffer): Buffer {
  return encodeTlv(0x5a, eid);
}

/**
 * Sends `resultDer` (an element of the EimPackageResult CHOICE, as produced: BF51, BF52, BF54, a SEQUENCE or A0) for
 * `eid`; returns the acknowledged sequence numbers. A provideEimPackageResultError is an EsipaError with its code.
 */
export async function provideEimPackageResult(client: EsipaClient, eid: Buffer, resultDer: Buffer): Promise<number[]> {
  const fn = 'ProvideEimPackageResult';
  let error: number | undefined;
  if (client.binding === 'asn1') {
    // BF50 { 5A eid, result }: the result relayed byte for byte.
    const message = encodeTlv(0xbf50, [eidTlv(eid), resultDer]);
    try {
      decode(ProvideEimPackageResult, message);
    } catch (e) {
      if (e instanceof Asn1Error) throw new IpaError('INVALID_ARGUMENT', `${fn}: the result is no EimPackageResult: ${e.message}`, { cause: e });
      throw e;
    }
    const answer = await client.asn1(fn, message);
    if (answer === undefined || answer.value.type !== 'provideEimPackageResultResponse') throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the eIM answered ${answer?.value.type ?? 'nothing'}`);
    const r = answer.value.value;
    if (r.type === 'eimAcknowledgements') return r.value;
    if (r.type === 'emptyResponse') return [];
    error = r.value;
  } else {
    const r = await client.json('provideEimPackageResult', { eidValue: eid, eimPackageResult: resultDer });
    if (r.provideEimPackageResultError === undefined) {
      if (r.eimAcknowledgements === undefined) return [];
      try {
        return decode(EimAcknowledgements, r.eimAcknowledgements);
      } catch (e) {
        if (e instanceof Asn1Error) throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: eimAcknowledgements is malformed: ${e.message}`, { cause: e });
        throw e;
      }
    }
    error = r.provideEimPackageResultError;
  }
  throw new EsipaError(fn, `provideEimPackageResultError ${error}`, { esipaCode: error });
}
