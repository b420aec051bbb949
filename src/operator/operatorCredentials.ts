// Trial credentials of an operator for ES2+ (SGP.22 6.1, 2.6.6): a self-signed P-256 certificate for both TLS ends (client towards the SM-DP+, server for HandleDownloadProgressInfo).
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { X509_OID, type GeneralName } from '../asn1/definitions/x509.js';
import { generateKeyPair } from '../crypto/ecdsa.js';
import { certificateToPem } from '../pki/certificate.js';
import { buildName, extensions as ext, issueCertificate, keyIdentifier } from '../pki/issue.js';
import { OperatorError } from './errors.js';
import { FQDN } from './identifiers.js';

export interface OperatorCredentials {
  readonly certificatePem: string;
  /** The private key, unencrypted PKCS#8 PEM: store it with mode 0600. */
  readonly privateKeyPem: string;
  /** SHA-256 of the certificate's DER, lower-case hex: what the SM-DP+ pins (`mcim operator add --cert`). */
  readonly fingerprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Host names and addresses the listener is reached at when none are given. */
export const DEFAULT_CREDENTIAL_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
const OPERATOR_NAME = /^[A-Za-z0-9._-]{1,64}$/;

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // IPv6: expand '::' into the missing zero groups, then two bytes per group.
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = head === '' || head === undefined ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.concat(groups.map((g) => Buffer.from(Number.parseInt(g, 16).toString(16).padStart(4, '0'), 'hex')));
}

function altName(host: string): GeneralName {
  if (isIP(host) === 4 || (isIP(host) === 6 && !host.includes('.'))) return { type: 'iPAddress', value: ipBytes(host) };
  if (FQDN.test(host)) return { type: 'dNSName', value: host };
  throw new OperatorError('INVALID_ARGUMENT', `'${host}' is not a host name, an IPv4 address or an IPv6 address without an embedded IPv4 part`);
}

/**
 * Issues a self-signed certificate (CN = the operator's name, subjectAltName = `hosts`) valid for `days` from now,
 * with serverAuth and clientAuth, and a fresh P-256 key.
 */
export function issueOperatorCredentials(name: string, hosts: readonly string[] = DEFAULT_CREDENTIAL_HOSTS, days = 365, now = new Date()): OperatorCredentials {
  if (!OPERATOR_NAME.test(name)) throw new OperatorError('INVALID_ARGUMENT', `'${name}' is not an operator name (letters, digits, '.', '_', '-', at most 64)`);
  if (hosts.length === 0 || hosts.length > 16) throw new OperatorError('INVALID_ARGUMENT', 'give 1 to 16 host names or addresses');
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new OperatorError('INVALID_ARGUMENT', 'the validity is 1 to 3650 days');
  const { privateKey, publicKey } = generateKeyPair('P-256');
  const subject = buildName([
    ['O', 'mcim operator'],
    ['CN', name],
  ]);
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const keyId = keyIdentifier(publicKey);
  const der = issueCertificate(
    {
      issuer: subject,
      subject,
      notBefore,
      notAfter,
      subjectKey: publicKey,
      extensions: [
        ext.basicConstraints(false),
        ext.keyUsage(['digitalSignature']),
        ext.extendedKeyUsage([X509_OID.kpServerAuth, X509_OID.kpClientAuth], false),
        ext.subjectKeyIdentifier(keyId),
        ext.subjectAltName(hosts.map(altName)),
      ],
    },
    privateKey,
  );
  return {
    certificatePem: certificateToPem(der),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint: createHash('sha256').update(der).digest('hex'),
    notBefore,
    notAfter,
  };
}
