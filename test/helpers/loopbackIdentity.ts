// A self-signed P-256 TLS identity for 127.0.0.1 and localhost (an operator's client and callback endpoint in tests and benchmarks), from mcim's own operator credentials.
import { X509Certificate } from 'node:crypto';
import { issueOperatorCredentials } from '../../src/operator/operatorCredentials.js';

export interface LoopbackIdentity {
  /** PEM certificate and PKCS#8 PEM key. */
  readonly cert: string;
  readonly key: string;
  readonly der: Buffer;
  /** SHA-256 of the DER, hex: what the SM-DP+ pins. */
  readonly fingerprint: string;
}

export function loopbackIdentity(name: string): LoopbackIdentity {
  const c = issueOperatorCredentials(name, ['127.0.0.1', 'localhost']);
  return { cert: c.certificatePem, key: c.privateKeyPem, der: new X509Certificate(c.certificatePem).raw, fingerprint: c.fingerprint };
}
