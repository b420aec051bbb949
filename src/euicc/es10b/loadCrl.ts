// SGP.22 v2.5 5.7.12 ES10b.LoadCRL (4.6 certificate revocation): the eUICC keeps the CRL of a CI it trusts, verified with that CI's key.
import { Asn1Error } from '../../asn1/errors.js';
import { decode, encode } from '../../asn1/schema.js';
import { LoadCRLRequest, LoadCRLResponse, LoadCRLResponseError } from '../../asn1/definitions/rsp.js';
import { certificateList } from '../../asn1/definitions/x509.js';
import { compareCrls, parseCrl, verifyCrlIssuer, type CrlLimits, type ParsedCrl } from '../../pki/crl.js';
import { PkiError } from '../../pki/errors.js';
import type { EuiccCore } from '../core.js';

/** What the software eUICC stores of one CRL: 16 KiB and 512 entries (a CI revokes SM-DP+ and SM-DS certificates only). */
export const EUICC_CRL_LIMITS: CrlLimits = Object.freeze({ maxBytes: 16 * 1024, maxEntries: 512 });

function answer(error: number | undefined): Buffer {
  return encode(
    LoadCRLResponse,
    error === undefined ? { type: 'loadCRLResponseOk', value: {} } : { type: 'loadCRLResponseError', value: error },
  );
}

/**
 * LoadCRL: a complete CRL of one of the eUICC's CIs (euiccCiPKIdListForVerification), its signature verified with that
 * CI's key, replaces the CI's CRL held unless that one is newer (cRLNumber). Answers invalidCRLFormat (not a DER v2 CRL;
 * delta and partial CRLs, which this eUICC does not take), notEnoughMemorySpace (over EUICC_CRL_LIMITS),
 * verificationKeyNotFound (no CI of that name and key identifier, or one without cRLSign), invalidSignature,
 * fresherCrlAlreadyLoaded. Nothing is stored on an error.
 */
export function loadCrl(core: EuiccCore, command: Buffer): Buffer {
  if (command.length > EUICC_CRL_LIMITS.maxBytes + 16) return answer(LoadCRLResponseError.notEnoughMemorySpace);
  let der: Buffer;
  try {
    der = encode(certificateList, decode(LoadCRLRequest, command).crl);
  } catch (e) {
    if (e instanceof Asn1Error) return answer(LoadCRLResponseError.invalidCRLFormat);
    throw e;
  }
  let crl: ParsedCrl;
  try {
    crl = parseCrl(der, EUICC_CRL_LIMITS);
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    return answer(e.code === 'CRL_TOO_LARGE' ? LoadCRLResponseError.notEnoughMemorySpace : LoadCRLResponseError.invalidCRLFormat);
  }
  const aki = crl.authorityKeyIdentifier;
  const ci = core.ciCertificates.find((c) => aki !== undefined && c.subjectKeyIdentifier?.equals(aki) === true && c.subject.der.equals(crl.issuer.der));
  if (ci === undefined) return answer(LoadCRLResponseError.verificationKeyNotFound);
  try {
    verifyCrlIssuer(crl, ci);
  } catch (e) {
    if (!(e instanceof PkiError)) throw e;
    return answer(e.code === 'CRL_BAD_SIGNATURE' ? LoadCRLResponseError.invalidSignature : LoadCRLResponseError.verificationKeyNotFound);
  }
  const held = core.crlOf(ci);
  if (held !== undefined && compareCrls(crl, held) < 0) return answer(LoadCRLResponseError.fresherCrlAlreadyLoaded);
  const state = core.state;
  const others = (state.crls ?? []).filter((d) => held === undefined || !d.equals(held.der));
  core.commit({ ...state, crls: [...others, crl.der] });
  return answer(undefined);
}
