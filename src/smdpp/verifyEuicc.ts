// Verifying the eUICC (SGP.22 3.0.1 and 5.6.3, 4.5.2.2): its certificate chain CI -> EUM -> eUICC, mapped to ES9+ status codes.
import type { GsmaCertificate } from '../pki/certificate.js';
import { PkiError } from '../pki/errors.js';
import { validateChain, type ChainValidationResult } from '../pki/validateChain.js';
import type { FunctionFailure } from '../http/jsonBinding.js';
import type { SmdpContext } from './context.js';
import { fail } from './statusCodes.js';

function chainFailure(e: PkiError): FunctionFailure {
  switch (e.code) {
    case 'UNKNOWN_CI':
      return fail('unknownCi', e.message, e);
    case 'EXPIRED':
    case 'NOT_YET_VALID':
      return fail('euiccCertificateExpired', e.message, e);
    default:
      return fail('euiccCertificateInvalid', e.message, e);
  }
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
  try {
    eum = ctx.certificates.parse(eumCertificate);
  } catch (e) {
    throw fail('eumCertificateInvalid', `the EUM certificate is malformed: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  try {
    const result = validateChain(ctx.certificates.parse(euiccCertificate), [eum], { role: 'euicc', trustedCis, at: new Date(ctx.now()) });
    return { ...result, eid: result.eid! };
  } catch (e) {
    if (e instanceof PkiError) throw chainFailure(e);
    throw e;
  }
}
