// Order limits and eligibility at ES9+.AuthenticateClient (SGP.22 5.6.3, 3.1.3; Annex F): expiry, device eligibility, download attempts.
import { PprId, hasNamedBit, type EUICCInfo2 } from '../asn1/definitions/rsp.js';
import type { Order } from '../store/smdpStore.js';
import type { SmdpContext } from './context.js';
import { NOTIFICATION_POINT } from './es2plus/handleDownloadProgressInfo.js';
import { fail } from './statusCodes.js';

/** The profile's PprIds (bit mask, bit n = PprId n) that the eUICC lists as forbidden (EUICCInfo2.forbiddenProfilePolicyRules). */
function forbiddenRules(order: Order, info: EUICCInfo2): number[] {
  const rules = order.profilePolicyRules ?? 0;
  const forbidden = info.forbiddenProfilePolicyRules;
  if (rules === 0 || forbidden === undefined) return [];
  return Object.values(PprId).filter((id) => (rules & (1 << id)) !== 0 && hasNamedBit(forbidden, id));
}

/**
 * Checks a released order against its limits and the authenticated eUICC, then counts the download attempt:
 * expired order 8.8.5/4.10, profile policy rules the eUICC forbids 8.2.5/4.3, attempts spent 8.8.5/6.4 (the order
 * goes to error). Attempts are counted only for an order with a limit; nothing is written unless the attempt is
 * admitted or the attempts are spent.
 */
export async function admitDownload(ctx: SmdpContext, order: Order, info: EUICCInfo2, eid: string): Promise<void> {
  if (order.expiresAt !== undefined && ctx.now() > order.expiresAt) {
    throw fail('orderExpired', `the download order expired at ${new Date(order.expiresAt).toISOString()}`);
  }
  const forbidden = forbiddenRules(order, info);
  if (forbidden.length > 0) {
    throw fail('noEligibleProfile', `the eUICC forbids the profile policy rules of this profile (PprIds ${forbidden.join(', ')})`);
  }
  // Without a limit there is nothing to count: the order's row is not rewritten per session (an ES2+ operator still
  // hears that the eligibility check passed).
  if (order.maxDownloadAttempts === undefined) {
    await ctx.store.orders.reportProgress(order, eid, { notificationPointId: NOTIFICATION_POINT.eligibilityAndRetryLimit, status: 'Executed-Success' }, ctx.now());
    return;
  }
  const attempt = await ctx.store.orders.countDownloadAttempt(order.matchingId, ctx.now(), eid, (a) =>
    a === 'counted'
      ? { notificationPointId: NOTIFICATION_POINT.eligibilityAndRetryLimit, status: 'Executed-Success' }
      : { notificationPointId: NOTIFICATION_POINT.eligibilityAndRetryLimit, status: 'Failed', statusCodeData: { subjectCode: '8.8.5', reasonCode: '6.4', message: 'maximum number of download attempts exceeded' } },
  );
  if (attempt === 'exceeded') throw fail('downloadAttemptsExceeded', `the ${order.maxDownloadAttempts ?? 0} download attempts of the order are spent`);
  if (attempt === 'unavailable') throw fail('profileNotReleased', 'the profile is no longer released');
}
