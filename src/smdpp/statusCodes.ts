// ES9+ status codes the SM-DP+ returns (SGP.22 5.6.1-5.6.5 per function; subject/reason code tables of SGP.22 5.2.6).
import { FunctionFailure } from '../http/jsonBinding.js';

/**
 * The subject code / reason code pairs mcim's SM-DP+ answers with, by function:
 *
 * | condition                                                  | function(s)                      | subject | reason |
 * |------------------------------------------------------------|----------------------------------|---------|--------|
 * | smdpAddress is not this SM-DP+                             | initiateAuthentication           | 8.8.1   | 3.8    |
 * | euiccInfo1.svn is not SGP.22 v2.x (major version 2)        | initiateAuthentication           | 8.8.3   | 3.1    |
 * | no CI of euiccCiPKIdListForVerification or of              | initiateAuthentication           | 8.8.2   | 3.1    |
 * |   euiccCiPKIdListForSigning is known to the SM-DP+         |                                  |         |        |
 * | a CI of the verification list is known, but the SM-DP+     | initiateAuthentication           | 8.8.4   | 3.7    |
 * |   holds no CERT.DPauth under any of them                   |                                  |         |        |
 * | unknown, ended, replayed or expired transactionId;         | authenticateClient, getBPP,      | 8.10.1  | 3.9    |
 * |   transactionId of the signed data differs from the call   |   cancelSession                  |         |        |
 * | eUICC signature (1, 2, cancel) invalid; serverChallenge    | authenticateClient, getBPP,      | 8.1     | 6.1    |
 * |   not the one sent; the eUICC answered with an error       |   cancelSession                  |         |        |
 * | EUM certificate invalid (malformed, signature, role, CA)   | authenticateClient               | 8.1.2   | 6.1    |
 * | EUM certificate expired / not yet valid                    | authenticateClient               | 8.1.2   | 6.3    |
 * | eUICC certificate invalid (malformed, signature, role,     | authenticateClient               | 8.1.3   | 6.1    |
 * |   EID outside the EUM's range, invalid EID)                |                                  |         |        |
 * | eUICC certificate expired / not yet valid                  | authenticateClient               | 8.1.3   | 6.3    |
 * | EUM certificate revoked (the CI's CRL); eUICC certificate  | authenticateClient               | 8.1.2 / | 6.1    |
 * |   revoked (its EUM's CRL), or its CRL stale (fail-closed)  |                                  | 8.1.3   |        |
 * | the eUICC's chain does not end at the CI of the session    | authenticateClient               | 8.11.1  | 3.9    |
 * |   (euiccCiPKIdToBeUsed), even if the SM-DP+ trusts its CI  |                                  |         |        |
 * | matchingId unknown (an EID-only order has none to match)   | authenticateClient               | 8.2.6   | 3.8    |
 * | matchingId absent or empty and no released EID-only order  | authenticateClient               | 8.1.1   | 3.8    |
 * |   for the authenticated EID (default SM-DP+, SM-DS)        |                                  |         |        |
 * | the order names another EID (also: a delivered profile     | authenticateClient               | 8.1.1   | 3.8    |
 * |   re-released by cancelSession is for its eUICC only)      |                                  |         |        |
 * | the profile is not released (not yet released: imported    | authenticateClient               | 8.2     | 1.2    |
 * |   with --unreleased; error, installed...)                  |                                  |         |        |
 * | the download order expired (import --expires)              | authenticateClient               | 8.8.5   | 4.10   |
 * | the profile's policy rules are forbidden by the eUICC      | authenticateClient               | 8.2.5   | 4.3    |
 * |   (EUICCInfo2.forbiddenProfilePolicyRules)                 |                                  |         |        |
 * | the order's download attempts are spent (import            | authenticateClient               | 8.8.5   | 6.4    |
 * |   --max-attempts; the order goes to error)                 |                                  |         |        |
 * | the profile was already delivered (no new binding)         | authenticateClient, getBPP       | 8.2     | 3.7    |
 * | confirmation code required but hashCc absent               | getBoundProfilePackage           | 8.2.7   | 2.2    |
 * | confirmation code wrong (the session stays open for        | getBoundProfilePackage           | 8.2.7   | 3.8    |
 * |   another attempt in the same transaction)                 |                                  |         |        |
 * | confirmation code attempts exhausted (order now in error)  | authenticateClient, getBPP       | 8.2.7   | 6.4    |
 * | smdpOid of the signed cancel response is not this SM-DP+   | cancelSession                    | 8.8     | 3.10   |
 * | malformed field (JSON type, base64, hex, ASN.1)            | all                              | field's | 2.1    |
 * | mandatory field missing                                    | all                              | field's | 2.2    |
 * | request body is not a JSON object                          | all                              | 1.1     | 2.1    |
 * | X-Admin-Protocol is not gsma/rsp/v2.x.y (HTTP 400)         | all                              | 8.8.3   | 3.1    |
 * | the source already holds the open sessions it may, or is  | initiateAuthentication           | 1.2     | 4.4    |
 * |   locked out after failed eUICC authentications            |                                  |         |        |
 * |   (src/smdpp/rateLimit.ts; nothing signed, nothing stored) |                                  |         |        |
 * | the EID or source is locked out after matching-ID failures | authenticateClient               | 8.2.6   | 3.8    |
 * |   (the refusal a wrong matchingId gets: nothing looked up) |                                  |         |        |
 * | internal error (HTTP 500, no detail)                       | all                              | 1.2     | 4.2    |
 *
 * The field's subject code: 8.10.1 for transactionId, 8.8.1 for smdpAddress, 8.1 for what the eUICC produced
 * (euiccChallenge, euiccInfo1, authenticateServerResponse, prepareDownloadResponse, pendingNotification,
 * cancelSessionResponse).
 */
export const ES9_STATUS = {
  invalidSmdpAddress: ['8.8.1', '3.8'],
  ciNotSupported: ['8.8.2', '3.1'],
  svnNotSupported: ['8.8.3', '3.1'],
  noCredentialForCi: ['8.8.4', '3.7'],
  unknownTransaction: ['8.10.1', '3.9'],
  euiccVerificationFailed: ['8.1', '6.1'],
  eumCertificateInvalid: ['8.1.2', '6.1'],
  eumCertificateExpired: ['8.1.2', '6.3'],
  euiccCertificateInvalid: ['8.1.3', '6.1'],
  euiccCertificateExpired: ['8.1.3', '6.3'],
  unknownCi: ['8.11.1', '3.9'],
  matchingIdRefused: ['8.2.6', '3.8'],
  eidRefused: ['8.1.1', '3.8'],
  profileNotReleased: ['8.2', '1.2'],
  orderExpired: ['8.8.5', '4.10'],
  noEligibleProfile: ['8.2.5', '4.3'],
  downloadAttemptsExceeded: ['8.8.5', '6.4'],
  profileUnavailable: ['8.2', '3.7'],
  ccMissing: ['8.2.7', '2.2'],
  ccRefused: ['8.2.7', '3.8'],
  ccAttemptsExceeded: ['8.2.7', '6.4'],
  invalidSmdpOid: ['8.8', '3.10'],
  busy: ['1.2', '4.4'],
} as const satisfies Record<string, readonly [string, string]>;

export type Es9Condition = keyof typeof ES9_STATUS;

/** Subject codes under which malformed fields are reported (declared with the fields). */
export { FIELD_SUBJECT } from '../http/es9plusFunctions.js';

export function fail(condition: Es9Condition, message: string, cause?: unknown): FunctionFailure {
  const [subject, reason] = ES9_STATUS[condition];
  return new FunctionFailure(subject, reason, message, cause === undefined ? undefined : { cause });
}
