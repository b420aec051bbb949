// Verifying the eUICC (SGP.22 3.0.1 and 5.6.3, 4.5.2.2): its certificate chain CI -> EUM -> eUICC, mapped to ES9+ status codes.
import type { GsmaCertificate } from '../pki/certificate.js';
import { PkiError } from '../pki/errors.js';
import { validateChain, type ChainValidationResult } from '../pki/validateChain.js';
import type { FunctionFailure } from '../http/jsonBinding.js';
import type { SmdpContext } from './context.js';
import { fail } from './statusCodes.js';

/**
 * The status code names the certificate at fault (SGP.22 5.6.3): the EUM certificate (8.1.2) or the eUICC certificate
 * (8.1.3, also for faults of the chain as a whole, e.g. an EID outside the EUM's range), invalid (6.1) or expired or not
 * yet valid (6.3); a chain that does not end at the session's CI is 8.11.1/3.9. SGP.22 5.6.3 has no reason of its own
 * for a revoked certificate: revoked (and, under the fail-closed policy, unknown revocation status) is invalid, 6.1.
 */
function chainFailure(e: PkiError, eum: GsmaCertificate): FunctionFailure {
  if (e.code === 'UNKNOWN_CI') return fail('unknownCi', e.message, e);
  const expired = e.code === 'EXPIRED' || e.code === 'NOT_YET_VALID';
  if (e.certificate === eum) return fail(expired ? 'eumCertificateExpired' : 'eumCertificateInvalid', e.message, e);
  return fail(expired ? 'euiccCertificateExpired' : 'euiccCertificateInvalid', e.message, e);
}

function parseFailure(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Validates the eUICC certificate through the EUM certificate to one of `trustedCis`; returns the EID. In an RSP
 * session that is the CI of the session alone (euiccCiPKIdToBeUsed): a chain under another CI is 8.11.1/3.9.
 */
export function verifyEuiccChain(
  ctx: SmdpContext,
  euiccCertificate: Buffer,
  eumCertificate: Buffer,
  trustedCis: readonly GsmaCertificate[],
): ChainValidationResult & { eid: string } {
  let eum: GsmaCertificate;
  let euicc: GsmaCertificate;
  try {
    eum = ctx.certificates.parse(eumCertificate);
  } catch (e) {
    throw fail('eumCertificateInvalid', `the EUM certificate is malformed: ${parseFailure(e)}`, e);
  }
  try {
    euicc = ctx.certificates.parse(euiccCertificate);
  } catch (e) {
    throw fail('euiccCertificateInvalid', `the eUICC certificate is malformed: ${parseFailure(e)}`, e);
  }
  let result: ChainValidationResult;
  try {
    result = validateChain(euicc, [eum], { role: 'euicc', trustedCis, at: new Date(ctx.now()), revocation: ctx.revocation?.check });
  } catch (e) {
    if (e instanceof PkiError) throw chainFailure(e, eum);
    throw e;
  }
  // Kept only now: the EUM verified under a trusted CI, the eUICC under the EUM (a failed chain keeps nothing).
  ctx.certificates.remember([eum, euicc]);
  return { ...result, eid: result.eid! };
}
