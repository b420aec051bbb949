// `mcim smdpp credentials` and the credential flags of `mcim serve`: the operator's own SM-DP+ certificates and keys (SGP.22 4.5.2.1).
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { certificatesFromFile, parseCertificate } from '../../pki/certificate.js';
import { importSmdpCredentials, initSmdpDataDir, requireSmdpDataDir, type SmdpDataDir } from '../../smdpp/dataDir.js';
import { sgp26Sources, type CredentialSources, type KeyedFiles } from '../../smdpp/credentialSet.js';

export interface CredentialCliOptions {
  readonly sgp26?: string;
  readonly sgp26Tls?: 'p256' | 'brainpool';
  readonly ci: readonly string[];
  readonly dpAuth: readonly string[];
  readonly dpAuthKey: readonly string[];
  readonly dpPb: readonly string[];
  readonly dpPbKey: readonly string[];
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly keyPassphraseFile?: string;
  readonly oid?: string;
}

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];

/** Adds the flags that supply a credential set to `command`. */
export function addCredentialOptions(command: Command): Command {
  return command
    .option('--sgp26 <dir>', 'use the GSMA SGP.26 test set from its distribution directory (CertificateIssuer, DPauth, DPpb, DPtls)')
    .addOption(new Option('--sgp26-tls <curve>', 'with --sgp26: which VARO TLS certificate to serve').choices(['p256', 'brainpool']))
    .option('--ci <file>', 'a CI certificate the SM-DP+ trusts (DER or PEM, repeatable)', collect, [])
    .option('--dp-auth <file>', 'CERT.DPauth.ECDSA (repeatable: one per CI)', collect, [])
    .option('--dp-auth-key <file>', 'its private key (PKCS#8 or SEC1, PEM or DER; in the order of --dp-auth)', collect, [])
    .option('--dp-pb <file>', 'CERT.DPpb.ECDSA (repeatable: one per CI)', collect, [])
    .option('--dp-pb-key <file>', 'its private key (in the order of --dp-pb)', collect, [])
    .option('--tls-cert <file>', 'CERT.DP.TLS, then its intermediate certificates (PEM), or DER; with --sgp26 it replaces the VARO certificate')
    .option('--tls-key <file>', "CERT.DP.TLS's private key")
    .option('--key-passphrase-file <file>', 'passphrase of encrypted private keys (first line of the file)')
    .option('--oid <oid>', 'the SM-DP+ OID, when the certificates carry none');
}

function pairs(certs: readonly string[], keys: readonly string[], flag: string): KeyedFiles[] {
  if (certs.length !== keys.length) throw new McimError('INVALID_ARGUMENT', `${certs.length} --${flag} certificate(s) but ${keys.length} --${flag}-key file(s): give one key per certificate`);
  return certs.map((certificate, i) => ({ certificate, key: keys[i]! }));
}

function readPassphrase(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0];
  } catch (e) {
    throw new McimError('INVALID_ARGUMENT', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The credential set the flags name, or undefined when none of them is given. */
export function credentialSourcesFromOptions(o: CredentialCliOptions): CredentialSources | undefined {
  const explicit = o.ci.length + o.dpAuth.length + o.dpAuthKey.length + o.dpPb.length + o.dpPbKey.length > 0;
  const tls = o.tlsCert !== undefined || o.tlsKey !== undefined;
  if (tls && (o.tlsCert === undefined || o.tlsKey === undefined)) throw new McimError('INVALID_ARGUMENT', '--tls-cert and --tls-key go together');
  const passphrase = readPassphrase(o.keyPassphraseFile);
  if (o.sgp26 !== undefined) {
    if (explicit) throw new McimError('INVALID_ARGUMENT', '--sgp26 brings its own CI, DPauth and DPpb: drop --ci, --dp-auth and --dp-pb');
    if (tls && o.sgp26Tls !== undefined) throw new McimError('INVALID_ARGUMENT', '--sgp26-tls and --tls-cert both choose the TLS certificate: give one');
    const set = sgp26Sources(o.sgp26, o.sgp26Tls === 'brainpool' ? 'brainpoolP256r1' : 'P-256');
    return { ...set, ...(tls ? { tls: { certificate: o.tlsCert!, key: o.tlsKey! } } : {}), passphrase };
  }
  if (o.sgp26Tls !== undefined) throw new McimError('INVALID_ARGUMENT', '--sgp26-tls needs --sgp26');
  if (!explicit && !tls) {
    if (o.oid !== undefined) throw new McimError('INVALID_ARGUMENT', '--oid goes with a credential set');
    return undefined;
  }
  if (o.ci.length === 0 || !tls) throw new McimError('INVALID_ARGUMENT', 'a credential set needs --ci, --dp-auth/--dp-auth-key, --dp-pb/--dp-pb-key and --tls-cert/--tls-key');
  return { cis: o.ci, dpAuth: pairs(o.dpAuth, o.dpAuthKey, 'dp-auth'), dpPb: pairs(o.dpPb, o.dpPbKey, 'dp-pb'), tls: { certificate: o.tlsCert!, key: o.tlsKey! }, passphrase };
}

export interface CredentialsReport {
  readonly data: string;
  readonly imported: boolean;
  readonly source: SmdpDataDir['credentialSource'];
  readonly address: string;
  readonly oid: string;
  readonly credentials: readonly { curve: string; ci: string; ciKeyId: string; dpAuth: string; dpPb: string; notAfter: string }[];
  readonly trustedCis: readonly { subject: string; keyId: string; curve: string }[];
  readonly tls: { readonly subject: string; readonly curve: string; readonly notAfter: string; readonly maxVersion: string };
  readonly ciCertificateFiles: Readonly<Record<string, string>>;
  readonly tlsCaFile: string;
}

function credentialsReport(data: SmdpDataDir, imported: boolean): CredentialsReport {
  const keyId = (b: Buffer | undefined): string => b?.toString('hex') ?? '';
  return {
    data: data.dir,
    imported,
    source: data.credentialSource,
    address: data.address,
    oid: data.oid,
    credentials: data.credentials.map((c) => ({
      curve: c.curve,
      ci: c.ci.subject.text,
      ciKeyId: keyId(c.ci.subjectKeyIdentifier),
      dpAuth: c.dpAuth.certificate.subject.text,
      dpPb: c.dpPb.certificate.subject.text,
      notAfter: new Date(Math.min(c.dpAuth.certificate.notAfter.getTime(), c.dpPb.certificate.notAfter.getTime())).toISOString(),
    })),
    trustedCis: data.trustedCis.map((ci) => ({ subject: ci.subject.text, keyId: keyId(ci.subjectKeyIdentifier), curve: ci.publicKey.curve })),
    tls: tlsSummary(data.tls.cert, data.tls.maxVersion ?? 'TLSv1.3'),
    ciCertificateFiles: data.ciCertificateFiles,
    tlsCaFile: data.tlsCaFile,
  };
}

/** The served TLS certificate (the first of the chain the directory's checks accepted). */
function tlsSummary(chainPem: Buffer, maxVersion: string): CredentialsReport['tls'] {
  const c = parseCertificate(certificatesFromFile(chainPem)[0]!);
  return { subject: c.subject.text, curve: c.publicKey.curve, notAfter: c.notAfter.toISOString(), maxVersion };
}

function reportText(r: CredentialsReport): string {
  return [
    `${r.imported ? 'imported into' : 'data directory'} ${r.data} (${r.source === 'supplied' ? 'supplied credentials' : 'generated test PKI'})`,
    `SM-DP+ ${r.address} (OID ${r.oid})`,
    ...r.credentials.map((c) => `  ${c.curve}: CI '${c.ci}' (${c.ciKeyId}): DPauth '${c.dpAuth}', DPpb '${c.dpPb}', valid until ${c.notAfter}`),
    ...r.trustedCis.filter((ci) => !r.credentials.some((c) => c.ciKeyId === ci.keyId)).map((ci) => `  trusted CI without DPauth: '${ci.subject}' (${ci.keyId}, ${ci.curve})`),
    `  TLS: '${r.tls.subject}' on ${r.tls.curve}, valid until ${r.tls.notAfter}, TLS 1.2${r.tls.maxVersion === 'TLSv1.3' ? ' and 1.3' : ' only'}`,
    `trust anchors for devices: ${Object.values(r.ciCertificateFiles).join(', ')} (TLS: ${r.tlsCaFile})`,
    '',
  ].join('\n');
}

export function registerSmdppCredentials(smdpp: Command): void {
  const command = smdpp
    .command('credentials')
    .description("import the operator's SM-DP+ credentials (CIs, DPauth, DPpb, DP TLS) into the data directory after checking them; without a set, show the directory's")
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ mcim smdpp credentials --data ./data --sgp26 /path/to/SGP.26',
        '  $ mcim smdpp credentials --data ./data --ci ci-nist.pem --ci ci-brp.pem \\',
        '      --dp-auth auth-nist.der --dp-auth-key auth-nist.key --dp-auth auth-brp.der --dp-auth-key auth-brp.key \\',
        '      --dp-pb pb-nist.der --dp-pb-key pb-nist.key --dp-pb pb-brp.der --dp-pb-key pb-brp.key \\',
        '      --tls-cert tls-chain.pem --tls-key tls.key --key-passphrase-file pass.txt',
        '  $ mcim smdpp credentials --data ./data   # show what the directory holds',
      ].join('\n'),
    )
    .option('--data <dir>', 'data directory (created when it does not exist)', './data')
    .option('--address <host[:port]>', "the SM-DP+ address (default: the directory's, else the TLS certificate's dNSName)")
    .option('--json', 'print JSON');
  addCredentialOptions(command).action((o: CredentialCliOptions & { data: string; address?: string; json?: boolean }) => {
    const sources = credentialSourcesFromOptions(o);
    let report: CredentialsReport;
    if (sources === undefined) {
      if (o.address !== undefined) throw new McimError('INVALID_ARGUMENT', '--address goes with a credential set');
      requireSmdpDataDir(o.data);
      report = credentialsReport(initSmdpDataDir(o.data), false);
    } else {
      report = credentialsReport(importSmdpCredentials(o.data, sources, { address: o.address, oid: o.oid }).data, true);
    }
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : reportText(report));
  });
}
