// SGP.32 v1.2 5.14.1 ESipa.InitiateAuthentication (3.2.2 indirect profile download): the IPA's euiccChallenge and EUICCInfo1 relayed to the SM-DP+ it names (ES9+.InitiateAuthentication, SGP.22 5.6.1); the SM-DP+'s signed answer returned unchanged.
import { InitiateAuthenticationErrorEsipa, ProfileDownloadTriggerRequest } from '../asn1/definitions/sgp32.js';
import { decode } from '../asn1/schema.js';
import type { Es9Response } from '../http/es9plusFunctions.js';
import type { EimContext } from './context.js';
import { EimError } from './errors.js';
import { relayEs9, txKey, UNDEFINED_ERROR, type RelayContext } from './relayContext.js';

export interface InitiateAuthenticationEsipa {
  readonly euiccChallenge: Buffer;
  readonly smdpAddress?: string;
  /** EUICCInfo1 (BF20) as the eUICC produced it. */
  readonly euiccInfo1?: Buffer;
  /** The eimTransactionId of the ProfileDownloadTriggerRequest the download runs for. */
  readonly eimTransactionId?: Buffer;
}

const E = InitiateAuthenticationErrorEsipa;

/** SGP.22 5.2.6 status codes of ES9+.InitiateAuthentication (as mcim's SM-DP+ uses them) to the ESipa error. */
const STATUS_MAP = { '8.8.1/3.8': E.invalidDpAddress, '8.8.3/3.1': E.euiccVersionNotSupportedByDp, '8.8.2/3.1': E.ciPKIdNotSupported, '8.8.4/3.7': E.ciPKIdNotSupported };

/** The SM-DP+ address of a trigger's activation code (`1$address$...`), or undefined for a contactDefaultSmdp trigger. */
function triggerAddress(request: Buffer): string | undefined {
  const data = decode(ProfileDownloadTriggerRequest, request).profileDownloadData;
  return data?.type === 'activationCode' ? data.value.split('$')[1] : undefined;
}

/**
 * Refused before the SM-DP+ is called (RELAY_REFUSED / INVALID_ARGUMENT, with the ESipa code): no smdpAddress or one the
 * allow-list does not hold, invalidDpAddress (1); no euiccInfo1 (ES9+ needs it), undefinedError; an eimTransactionId
 * that is no open download trigger of a registered device, invalidEimTransactionId (52); a trigger whose activation code
 * names another SM-DP+, smdpAddressMismatch (50); the device's (or the unattributed) open sessions at their bound,
 * undefinedError. The session is recorded under the SM-DP+'s transactionId with the device, if known.
 */
export async function relayInitiateAuthentication(ctx: EimContext, relay: RelayContext, r: InitiateAuthenticationEsipa): Promise<Es9Response<'initiateAuthentication'>> {
  const address = r.smdpAddress;
  if (address === undefined || !relay.allows(address)) {
    throw new EimError('RELAY_REFUSED', `the eIM does not relay to the SM-DP+ '${address ?? '(none)'}'`, { esipaCode: E.invalidDpAddress });
  }
  if (r.euiccInfo1 === undefined) throw new EimError('INVALID_ARGUMENT', 'InitiateAuthentication without euiccInfo1: the SM-DP+ needs it', { esipaCode: UNDEFINED_ERROR });
  let eid: string | undefined;
  if (r.eimTransactionId !== undefined) {
    const pkg = await ctx.store.getPackage(txKey(r.eimTransactionId));
    if (pkg === undefined || pkg.kind !== 'profileDownloadTrigger' || pkg.state !== 'sent') {
      throw new EimError('RELAY_REFUSED', `${txKey(r.eimTransactionId)} is no open download trigger of this eIM`, { esipaCode: E.invalidEimTransactionId });
    }
    const expected = triggerAddress(pkg.request);
    if (expected !== undefined && expected.toLowerCase() !== address.toLowerCase()) {
      throw new EimError('RELAY_REFUSED', `the trigger names the SM-DP+ ${expected}, not ${address}`, { esipaCode: E.smdpAddressMismatch });
    }
    eid = pkg.eid;
  }
  const now = ctx.now();
  const bound = eid === undefined ? relay.maxOpenUnattributed : relay.maxOpenPerDevice;
  if ((await relay.store.openRelayCount(eid, now)) >= bound) {
    throw new EimError('RELAY_REFUSED', `${eid === undefined ? 'unattributed devices hold' : `${eid} holds`} ${bound} open relayed sessions already`, { esipaCode: UNDEFINED_ERROR });
  }
  const answer = await relayEs9(relay, address, 'initiateAuthentication', { euiccChallenge: r.euiccChallenge, euiccInfo1: r.euiccInfo1, smdpAddress: address }, STATUS_MAP);
  const started = await relay.store.startRelay(
    { transactionId: txKey(answer.transactionId), ...(eid === undefined ? {} : { eid }), ...(r.eimTransactionId === undefined ? {} : { eimTransactionId: txKey(r.eimTransactionId) }), smdpAddress: address, expiresAt: now + relay.sessionTtlMs },
    now,
  );
  if (!started) throw new EimError('RELAY_FAILED', `the SM-DP+ ${address} answered with a transactionId already relayed`, { esipaCode: UNDEFINED_ERROR });
  return answer;
}
