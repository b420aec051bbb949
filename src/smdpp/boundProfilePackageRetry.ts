// Retry of a download already bound (SGP.22 5.6.3 bppEuiccOtpk, 5.6.2 same otPK.EUICC.ECKA): the same BPP, same otPK.DP.ECKA.
import type { KeyObject } from 'node:crypto';
import { decode, encode } from '../asn1/schema.js';
import { BoundProfilePackage } from '../asn1/definitions/rsp.js';
import type { Order } from '../store/smdpStore.js';
import type { SmdpContext } from './context.js';
import { initialiseSecureChannel } from './bindProfilePackage.js';

/**
 * SmdpSigned2.bppEuiccOtpk for an authenticated eUICC: the otPK.EUICC.ECKA of the bound profile package retained for
 * this order, when that package was bound for this very eUICC (the order was re-released to it after a postponed,
 * timed-out or failed load); otherwise none, and the eUICC generates a new one-time key.
 */
export function bppEuiccOtpkFor(order: Order, eid: string): Buffer | undefined {
  return order.deliveredEid === eid ? order.bppEuiccOtpk : undefined;
}

/**
 * The retained bound profile package when the eUICC came back with the otPK.EUICC.ECKA it was bound to: its ConfigureISDP,
 * StoreMetadata, ReplaceSessionKeys and profile segments unchanged (the same otPK.DP.ECKA and hostId, hence the same BSP
 * keys), its InitialiseSecureChannelRequest re-signed for this session's transactionId (which the eUICC checks).
 * Undefined when nothing is retained for that key: the caller binds afresh.
 */
export async function retriedBoundProfilePackage(
  ctx: SmdpContext,
  order: Order,
  eid: string,
  transactionId: Buffer,
  euiccOtpk: Buffer,
  dpPbKey: KeyObject,
): Promise<{ retained: Buffer; bpp: Buffer } | undefined> {
  // The order row already says whether a package is retained for this eUICC and key: most sessions need no lookup.
  if (bppEuiccOtpkFor(order, eid)?.equals(euiccOtpk) !== true) return undefined;
  const retained = await ctx.store.retainedBpp(order.matchingId, eid, euiccOtpk);
  if (retained === undefined) return undefined;
  const previous = decode(BoundProfilePackage, retained);
  const isc = previous.initialiseSecureChannelRequest.value;
  const resigned = initialiseSecureChannel(transactionId, isc.controlRefTemplate, isc.smdpOtpk, euiccOtpk, dpPbKey);
  return { retained, bpp: encode(BoundProfilePackage, { ...previous, initialiseSecureChannelRequest: resigned }) };
}
