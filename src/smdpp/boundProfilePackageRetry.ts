// Retry of a download already bound (SGP.22 5.6.3 bppEuiccOtpk, 5.6.2 same otPK.EUICC.ECKA): the same BPP, same otPK.DP.ECKA.
import type { Order } from '../store/smdpStore.js';
import type { BindingSecrets } from './bindProfilePackage.js';
import type { SmdpContext } from './context.js';

/** Version byte of the stored binding secrets. */
const BINDING_SECRETS_V1 = 1;
const PPK_KEY_LENGTH = 16;

/**
 * SmdpSigned2.bppEuiccOtpk for an authenticated eUICC: the otPK.EUICC.ECKA of the binding retained for this order, when
 * that binding was made for this very eUICC (the order was re-released to it after a postponed, timed-out or failed
 * load); otherwise none, and the eUICC generates a new one-time key.
 */
export function bppEuiccOtpkFor(order: Order, eid: string): Buffer | undefined {
  return order.deliveredEid === eid ? order.bppEuiccOtpk : undefined;
}

/**
 * The binding secrets as the store keeps them (sealed, about 130-180 bytes instead of the whole package): a version
 * byte, then otPK.DP.ECKA, the shared secret and hostId each after its one-byte length, then 0, or 1 and the three PPKs.
 */
export function encodeBindingSecrets(s: BindingSecrets): Buffer {
  const field = (b: Buffer) => Buffer.concat([Buffer.of(b.length), b]);
  const ppk = s.ppk === undefined ? [Buffer.of(0)] : [Buffer.of(1), s.ppk.initialMcv, s.ppk.sEnc, s.ppk.sMac];
  return Buffer.concat([Buffer.of(BINDING_SECRETS_V1), field(s.smdpOtpk), field(s.sharedSecret), field(s.hostId), ...ppk]);
}

/** The inverse of encodeBindingSecrets; the bytes come from the store's authenticated seal, so a bad layout is a bug. */
export function decodeBindingSecrets(stored: Buffer): BindingSecrets {
  let at = 0;
  const take = (n: number): Buffer => {
    if (at + n > stored.length) throw new Error('stored binding secrets are truncated');
    const b = stored.subarray(at, at + n);
    at += n;
    return Buffer.from(b);
  };
  const version = take(1)[0];
  if (version !== BINDING_SECRETS_V1) throw new Error(`stored binding secrets have an unknown version ${String(version)}`);
  const field = () => take(take(1)[0]!);
  const smdpOtpk = field();
  const sharedSecret = field();
  const hostId = field();
  const ppk = take(1)[0] === 1 ? { initialMcv: take(PPK_KEY_LENGTH), sEnc: take(PPK_KEY_LENGTH), sMac: take(PPK_KEY_LENGTH) } : undefined;
  if (at !== stored.length) throw new Error('stored binding secrets have trailing bytes');
  return { smdpOtpk, sharedSecret, hostId, ppk };
}

/**
 * The secrets of the binding retained for this order when the eUICC came back with the otPK.EUICC.ECKA it was made for:
 * binding with them again gives the same ConfigureISDP, StoreMetadata, ReplaceSessionKeys and profile segments (same
 * otPK.DP.ECKA and hostId, hence the same BSP keys) and a BF23 signed for the new transactionId (which the eUICC checks).
 * Undefined when nothing is retained for that eUICC and key: the caller binds afresh.
 */
export async function retainedBinding(ctx: SmdpContext, order: Order, eid: string, euiccOtpk: Buffer): Promise<BindingSecrets | undefined> {
  // The order row already says whether a binding is retained for this eUICC and key: most sessions need no lookup.
  if (bppEuiccOtpkFor(order, eid)?.equals(euiccOtpk) !== true) return undefined;
  const stored = await ctx.store.orders.retainedBinding(order.matchingId, eid, euiccOtpk);
  return stored === undefined ? undefined : decodeBindingSecrets(stored);
}
