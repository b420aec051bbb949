// SGP.22 v2.5 5.7.13 and 5.7.5 (certificate verification steps of AuthenticateServer and PrepareDownload), 4.5.2.2: SM-DP+ certificates checked against the eUICC's CIs.
import { PkiError } from '../../pki/errors.js';
import { validateChain, type ChainValidationResult } from '../../pki/validateChain.js';
import type { EuiccCore } from '../core.js';

/** Why an SM-DP+ certificate was refused, in the terms of AuthenticateErrorCode / DownloadErrorCode. */
export type CertificateFailure = 'invalidCertificate' | 'invalidOid' | 'unsupportedCurve' | 'ciPKUnknown';

export type CertificateCheck =
  | { readonly ok: true; readonly result: ChainValidationResult; readonly smdpOid: string }
  | { readonly ok: false; readonly failure: CertificateFailure };

/**
 * Validates CERT.DPauth.ECDSA or CERT.DPpb.ECDSA: a path to one of the eUICC's CIs listed for verification, valid
 * now, not revoked by a CRL loaded with ES10b.LoadCRL (REVOKED is invalidCertificate, 1: AuthenticateErrorCode and
 * DownloadErrorCode have no code of their own for it), with the role's policy OID and an SM-DP+ OID (registeredID) in
 * its subjectAltName.
 */
export function checkServerCertificate(core: EuiccCore, certificate: Buffer, role: 'dp-auth' | 'dp-pb'): CertificateCheck {
  let result: ChainValidationResult;
  try {
    result = validateChain(certificate, [], {
      role,
      trustedCis: core.ciCertificates,
      trustedCiKeyIds: core.ciKeyIdsForVerification,
      at: core.clock(),
      revocation: core.revocation,
    });
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    switch (e.code) {
      case 'UNKNOWN_CI':
        return { ok: false, failure: 'ciPKUnknown' };
      case 'WRONG_ROLE':
        return { ok: false, failure: 'invalidOid' };
      case 'UNSUPPORTED_ALGORITHM':
        return { ok: false, failure: 'unsupportedCurve' };
      default:
        return { ok: false, failure: 'invalidCertificate' };
    }
  }
  const smdpOid = result.leaf.subjectAltName?.registeredIds[0];
  if (smdpOid === undefined) return { ok: false, failure: 'invalidOid' };
  return { ok: true, result, smdpOid };
}
