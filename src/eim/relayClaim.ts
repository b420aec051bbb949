// SGP.32 v1.2 3.2.2: one relayed ES9+ call at a time per session (SGP.22's transactionId), taken and released around the call; what the SM-DP+ answered decides the session's next state.
import { FunctionFailure } from '../http/jsonBinding.js';
import type { Relay, RelayState } from '../store/eimRelayStore.js';
import type { EimContext } from './context.js';
import { EimError } from './errors.js';
import { txKey, UNDEFINED_ERROR, type RelayContext } from './relayContext.js';

export interface RelayStep<T> {
  readonly result: T;
  readonly change: { readonly state: RelayState; readonly eid?: string; readonly smdpSignature2?: Buffer };
}

/**
 * Takes the session `transactionId` in one of `states` for the call (until the ES9+ timeout, plus a margin), runs
 * `step`, and releases it with the step's change. Unknown, expired or ended sessions, or one in another state, are
 * RELAY_REFUSED with `invalidTransaction`; one held by a call in flight is RELAY_REFUSED with undefinedError. When the
 * SM-DP+ answers Failed the session ends (it has ended it) unless `keepOnFailure` says the SM-DP+ keeps it open; a
 * refusal of the eIM's own or a transport failure leaves the session as it was.
 */
export async function claimRelay<T>(
  ctx: EimContext,
  relay: RelayContext,
  transactionId: Buffer,
  states: readonly RelayState[],
  invalidTransaction: number,
  step: (session: Relay) => Promise<RelayStep<T>>,
  keepOnFailure: (e: FunctionFailure) => boolean = () => false,
): Promise<T> {
  const key = txKey(transactionId);
  const now = ctx.now();
  const session = await relay.store.claimRelay(key, states, now, now + relay.timeoutMs + 5_000);
  if (session === undefined) {
    const known = await relay.store.getRelay(key);
    if (known !== undefined && known.expiresAt > now && states.includes(known.state)) {
      throw new EimError('RELAY_REFUSED', `another call of the transaction ${key} is in flight`, { esipaCode: UNDEFINED_ERROR });
    }
    throw new EimError('RELAY_REFUSED', `the eIM relays no transaction ${key} at this step`, { esipaCode: invalidTransaction });
  }
  try {
    const { result, change } = await step(session);
    await relay.store.releaseRelay(key, change);
    return result;
  } catch (e) {
    const failure = e instanceof EimError && e.cause instanceof FunctionFailure ? e.cause : undefined;
    await relay.store.releaseRelay(key, { state: failure !== undefined && !keepOnFailure(failure) ? 'ended' : session.state });
    throw e;
  }
}
