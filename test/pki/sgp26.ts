// SGP.26 test PKI fixtures for the PKI tests, and the validation time derived from the certificates themselves.
import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateToPem, parseCertificate, type GsmaCertificate } from '../../src/pki/certificate.js';
import { issueTestCertificate, type IssuedCertificate } from '../../src/pki/testPki.js';
import { readFixture } from '../helpers/fixtures.js';

export type Sgp26Curve = 'NIST' | 'BRP';

export interface Sgp26Set {
  readonly ci: Buffer;
  readonly eum: Buffer;
  readonly euicc: Buffer;
  readonly dpAuth: Buffer;
  readonly dpPb: Buffer;
  readonly dpTls: Buffer;
  readonly dp2Auth: Buffer;
  readonly dp2Pb: Buffer;
}

export const SGP26_EID = '89049032123451234512345678901235';

export function sgp26(curve: Sgp26Curve): Sgp26Set {
  return {
    ci: readFixture('sgp26', 'CertificateIssuer', `CERT_CI_ECDSA_${curve}.der`),
    eum: readFixture('sgp26', 'EUM', `CERT_EUM_ECDSA_${curve}.der`),
    euicc: readFixture('sgp26', 'eUICC', `CERT_EUICC_ECDSA_${curve}.der`),
    dpAuth: readFixture('sgp26', 'DPauth', `CERT_S_SM_DPauth_ECDSA_${curve}.der`),
    dpPb: readFixture('sgp26', 'DPpb', `CERT_S_SM_DPpb_ECDSA_${curve}.der`),
    dpTls: readFixture('sgp26', 'DPtls', `CERT_S_SM_DP_VARO_TLS_${curve}.der`),
    dp2Auth: readFixture('sgp26', 'DPauth', `CERT_S_SM_DP2auth_ECDSA_${curve}.der`),
    dp2Pb: readFixture('sgp26', 'DPpb', `CERT_S_SM_DP2pb_ECDSA_${curve}.der`),
  };
}

/** The middle of the period in which all the given certificates are valid (fails if there is none). */
export function commonValidityMidpoint(certs: readonly GsmaCertificate[]): Date {
  const start = Math.max(...certs.map((c) => c.notBefore.getTime()));
  const end = Math.min(...certs.map((c) => c.notAfter.getTime()));
  if (start >= end) throw new Error('the certificates have no common validity period');
  return new Date(start + Math.floor((end - start) / 2));
}

/** The SGP.26 CI with its private key, which SGP.26 ships so that fresh certificates (e.g. CERT.DP.TLS) can be issued. */
export function sgp26Ci(curve: Sgp26Curve): IssuedCertificate {
  const der = readFixture('sgp26', 'CertificateIssuer', `CERT_CI_ECDSA_${curve}.der`);
  return {
    entity: 'ci',
    der,
    certificate: parseCertificate(der),
    privateKey: createPrivateKey(readFixture('sgp26', 'CertificateIssuer', `SK_CI_ECDSA_${curve}.pem`)),
  };
}

/**
 * A fresh P-256 CERT.DP.TLS for `host` from the SGP.26 NIST CI (SGP.26's own VARO TLS certificates expire in 2027),
 * written as PEM files into `dir` for `mcim serve --tls-cert/--tls-key`.
 */
export function writeSgp26TlsFiles(dir: string, host: string): { cert: string; key: string } {
  const tls = issueTestCertificate('dp-tls', sgp26Ci('NIST'), { smdpAddress: host, smdpOid: '2.999.10', curve: 'P-256' });
  const files = { cert: join(dir, 'tls.pem'), key: join(dir, 'tls.key') };
  writeFileSync(files.cert, certificateToPem(tls.der));
  writeFileSync(files.key, tls.privateKey.export({ type: 'sec1', format: 'pem' }));
  return files;
}
