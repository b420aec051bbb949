// `mcim pki`: issue an SGP.26-style test PKI (SGP.22 4.5.2.1 profiles) and validate chains (SGP.22 4.5.2.2, SGP.32 eIM).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { encodeBigInteger } from '../../asn1/primitives.js';
import { readPrivateKey } from '../../smdpp/credentialSet.js';
import { dirname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import type { EcCurve } from '../../crypto/ecdsa.js';
import { certificatesFromFile, parseCertificate, type GsmaCertificate } from '../../pki/certificate.js';
import { eidCheckDigits, isValidEid } from '../../pki/eid.js';
import { crlToPem, issueCrl, parseCrl, verifyCrlIssuer } from '../../pki/crl.js';
import { PkiError } from '../../pki/errors.js';
import { writePrivateFile } from '../../pki/privateFiles.js';
import { issueTestPki, writeTestPki, type WrittenFile } from '../../pki/testPki.js';
import { CERTIFICATE_USES, validateChain, type CertificateUse, type ChainValidationResult } from '../../pki/validateChain.js';

const CURVES: Readonly<Record<string, EcCurve>> = { p256: 'P-256', brainpool: 'brainpoolP256r1' };

function badInput(message: string): McimError {
  return new McimError('INVALID_ARGUMENT', message);
}

// ---- the passphrase of a test PKI's keys ----

export const PKI_PASSPHRASE_ENV = 'MCIM_PKI_PASSPHRASE';
const MIN_PASSPHRASE_LENGTH = 16;

/** The default passphrase file of a test PKI directory: beside it (`DIR.passphrase`), never inside it. */
function defaultPassphraseFile(dir: string): string {
  return `${resolve(dir)}.passphrase`;
}

function checkedPassphrase(passphrase: string, where: string): string {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) throw badInput(`the key passphrase in ${where} is shorter than ${MIN_PASSPHRASE_LENGTH} characters`);
  return passphrase;
}

/**
 * The passphrase of a test PKI's private keys: $MCIM_PKI_PASSPHRASE, else the first line of `file` (default
 * DIR.passphrase). `create`: a missing file is created with a random passphrase (mode 600) and reported. Without
 * `create` and without any passphrase: undefined when `required` is false, else NOT_FOUND.
 */
export function pkiPassphrase(dir: string, file: string | undefined, mode: { create: boolean; required: boolean }): { passphrase: string; file?: string; created?: boolean } | undefined {
  const fromEnv = process.env[PKI_PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (file !== undefined) throw badInput(`the key passphrase comes from one source: --key-passphrase-file and $${PKI_PASSPHRASE_ENV} are both set`);
    return { passphrase: checkedPassphrase(fromEnv, `$${PKI_PASSPHRASE_ENV}`) };
  }
  const path = file ?? defaultPassphraseFile(dir);
  if (!existsSync(path)) {
    if (mode.create) {
      const passphrase = randomBytes(32).toString('hex');
      writePrivateFile(path, `${passphrase}\n`);
      return { passphrase, file: path, created: true };
    }
    if (!mode.required) return undefined;
    throw new McimError('NOT_FOUND', `no key passphrase: ${path} does not exist and $${PKI_PASSPHRASE_ENV} is not set`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw badInput(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { passphrase: checkedPassphrase(text.split(/\r?\n/)[0]!, path), file: path };
}

// ---- init ----

export interface PkiInitOptions {
  readonly curve?: string;
  readonly eid?: string;
  readonly smdpAddress?: string;
  /** The keys' passphrase (first line; created with a random one if missing; default DIR.passphrase; or $MCIM_PKI_PASSPHRASE). */
  readonly keyPassphraseFile?: string;
}

export interface PkiInitReport {
  readonly dir: string;
  /** The file holding the keys' passphrase; absent when it came from $MCIM_PKI_PASSPHRASE. */
  readonly passphraseFile?: string;
  readonly curve: EcCurve;
  readonly eid: string;
  readonly smdpAddress: string;
  readonly ciKeyId: string;
  readonly files: readonly WrittenFile[];
}

/** Issues the test PKI into `dir`. Throws McimError for bad options or when a file already exists. */
export function pkiInit(dir: string, options: PkiInitOptions = {}): PkiInitReport {
  const curveName = options.curve ?? 'p256';
  const curve = Object.hasOwn(CURVES, curveName) ? CURVES[curveName] : undefined;
  if (curve === undefined) throw badInput(`unknown curve '${curveName}': use p256 or brainpool`);
  if (options.eid !== undefined && !isValidEid(options.eid)) {
    const hint = /^\d{32}$/.test(options.eid) ? ` (its check digits would be ${eidCheckDigits(options.eid)})` : '';
    throw badInput(`'${options.eid}' is not an EID: 32 digits with valid check digits${hint}`);
  }
  if (options.smdpAddress !== undefined && !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(options.smdpAddress)) {
    throw badInput(`'${options.smdpAddress}' is not a host name`);
  }
  const pki = issueTestPki({ curve, eid: options.eid, smdpAddress: options.smdpAddress });
  const { passphrase, file, created } = pkiPassphrase(dir, options.keyPassphraseFile, { create: true, required: true })!;
  let files: WrittenFile[];
  try {
    files = writeTestPki(pki, dir, { passphrase, passphraseSource: 'pki-passphrase' });
  } catch (e) {
    // Nothing is left behind: a passphrase file made for keys that were not written goes too.
    if (created === true && file !== undefined) rmSync(file, { force: true });
    throw e;
  }
  return {
    dir: resolve(dir),
    ...(file === undefined ? {} : { passphraseFile: file }),
    curve,
    eid: pki.eid,
    smdpAddress: pki.smdpAddress,
    ciKeyId: pki.ci.certificate.subjectKeyIdentifier!.toString('hex'),
    files,
  };
}

export function formatPkiInit(report: PkiInitReport, json: boolean): string {
  if (json) return `${JSON.stringify(report, null, 2)}\n`;
  const lines = [
    `test PKI (${report.curve}) written to ${report.dir}`,
    `  EID:          ${report.eid}`,
    `  SM-DP+:       ${report.smdpAddress}`,
    `  CI key id:    ${report.ciKeyId}`,
    `  keys:         encrypted PKCS#8, passphrase ${report.passphraseFile ?? `$${PKI_PASSPHRASE_ENV}`}`,
    ...report.files.map((f) => `  ${f.kind.padEnd(16)}${f.path}`),
  ];
  return `${lines.join('\n')}\n`;
}

// ---- verify ----

export interface PkiVerifyOptions {
  readonly chain?: readonly string[];
  readonly ci: readonly string[];
  readonly role?: string;
  readonly at?: string;
}

export type PkiVerifyOutcome =
  | { readonly valid: true; readonly result: ChainValidationResult }
  | { readonly valid: false; readonly error: PkiError };

function readCertificates(path: string): Buffer[] {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw badInput(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return certificatesFromFile(data);
}

function inferRole(leaf: GsmaCertificate): CertificateUse {
  const candidates = CERTIFICATE_USES.filter((use) => (leaf.roles as readonly string[]).includes(use));
  if (candidates.length !== 1) {
    throw badInput(`cannot infer the role of '${leaf.subject.text}' (GSMA roles: ${leaf.roles.join(', ') || 'none'}): pass --role`);
  }
  return candidates[0]!;
}

function parseAt(at: string | undefined): Date {
  if (at === undefined) return new Date();
  const d = new Date(at);
  if (!/^\d{4}-\d{2}-\d{2}/.test(at) || Number.isNaN(d.getTime())) throw badInput(`'${at}' is not an ISO 8601 time`);
  return d;
}

/**
 * Validates the certificate in `certPath` (PEM or DER; further certificates in the file join the chain).
 * Bad arguments throw McimError; a certificate that does not validate is a `valid: false` outcome.
 */
export function pkiVerify(certPath: string, options: PkiVerifyOptions): PkiVerifyOutcome {
  if (options.role !== undefined && !(CERTIFICATE_USES as readonly string[]).includes(options.role)) {
    throw badInput(`unknown role '${options.role}': use one of ${CERTIFICATE_USES.join(', ')}`);
  }
  if (options.ci.length === 0) throw badInput('at least one trusted CI certificate (--ci) is needed');
  const at = parseAt(options.at);
  const [leafDer, ...rest] = readCertificates(certPath);
  const chain = [...rest, ...(options.chain ?? []).flatMap(readCertificates)];
  const cis = options.ci.flatMap(readCertificates);
  try {
    const leaf = parseCertificate(leafDer!);
    const role = (options.role as CertificateUse | undefined) ?? inferRole(leaf);
    return { valid: true, result: validateChain(leaf, chain, { role, trustedCis: cis, at }) };
  } catch (e) {
    if (e instanceof PkiError) return { valid: false, error: e };
    throw e;
  }
}

export function formatPkiVerify(outcome: PkiVerifyOutcome, json: boolean): string {
  if (!outcome.valid) {
    const { code, message } = outcome.error;
    return json ? `${JSON.stringify({ valid: false, code, message }, null, 2)}\n` : `INVALID ${code}: ${message}\n`;
  }
  const r = outcome.result;
  if (json) {
    const report = {
      valid: true,
      role: r.role,
      at: r.at.toISOString(),
      subject: r.leaf.subject.text,
      eid: r.eid,
      curve: r.leaf.publicKey.curve,
      ciKeyId: r.ciKeyId.toString('hex'),
      path: r.path.map((c) => ({
        subject: c.subject.text,
        serialNumber: c.serialNumber.toString('hex'),
        keyId: c.subjectKeyIdentifier?.toString('hex'),
        roles: c.roles,
        notBefore: c.notBefore.toISOString(),
        notAfter: c.notAfter.toISOString(),
      })),
    };
    return `${JSON.stringify(report, null, 2)}\n`;
  }
  const lines = [
    `VALID ${r.role} certificate at ${r.at.toISOString()}`,
    `  subject:    ${r.leaf.subject.text}`,
    ...(r.eid !== undefined ? [`  EID:        ${r.eid}`] : []),
    `  curve:      ${r.leaf.publicKey.curve}`,
    `  valid:      ${r.leaf.notBefore.toISOString()} .. ${r.leaf.notAfter.toISOString()}`,
    `  path:       ${r.path.map((c) => `'${c.subject.text}'`).join(' <- ')}`,
    `  CI key id:  ${r.ciKeyId.toString('hex')}`,
  ];
  return `${lines.join('\n')}\n`;
}

// ---- crl ----

export interface PkiCrlOptions {
  /** The issuing CA's certificate (CI or EUM). */
  readonly issuer: string;
  /** Its private key (PEM or DER PKCS#8; encrypted like `mcim pki init`'s, or not). */
  readonly key: string;
  /** The passphrase of an encrypted key: first line of this file, else $MCIM_PKI_PASSPHRASE, else `<key's directory>.passphrase`. */
  readonly keyPassphraseFile?: string;
  /** Certificates (files) or serial numbers (hex) to list as revoked. */
  readonly revoke?: readonly string[];
  readonly number?: string;
  readonly thisUpdate?: string;
  readonly days?: string;
  readonly pem?: boolean;
}

export interface PkiCrlReport {
  readonly out: string;
  readonly issuer: string;
  readonly crlNumber: string;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly revoked: readonly string[];
}

/** A serial number to revoke: hex digits, or a certificate file whose serial number is taken. */
function serialToRevoke(item: string): Buffer {
  if (/^[0-9a-fA-F]{1,40}$/.test(item)) return encodeBigInteger(BigInt(`0x${item}`));
  const [der] = readCertificates(item);
  return parseCertificate(der!).serialNumber;
}

/** Issues a CRL signed by the CA in `options.issuer` into `out` (never overwriting): for tests and labs. */
export function pkiCrl(out: string, options: PkiCrlOptions): PkiCrlReport {
  const [issuerDer] = readCertificates(options.issuer);
  const issuer = parseCertificate(issuerDer!);
  const key = readPrivateKey(options.key, pkiPassphrase(dirname(options.key), options.keyPassphraseFile, { create: false, required: false })?.passphrase);
  const number = options.number ?? '1';
  if (!/^\d{1,20}$/.test(number)) throw badInput(`--number takes a non-negative integer, got '${number}'`);
  const days = options.days ?? '30';
  if (!/^\d{1,5}$/.test(days) || Number(days) < 1) throw badInput(`--days takes 1 to 99999, got '${days}'`);
  const thisUpdate = new Date(Math.floor(parseAt(options.thisUpdate).getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + Number(days) * 86_400_000);
  const serials = (options.revoke ?? []).map(serialToRevoke);
  const der = issueCrl(
    { issuer, thisUpdate, nextUpdate, crlNumber: BigInt(number), revoked: serials.map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate })) },
    key,
  );
  // A CRL that its issuer's key would not verify is not written.
  try {
    verifyCrlIssuer(parseCrl(der), issuer);
  } catch (e) {
    if (e instanceof PkiError) throw badInput(`${options.key} and ${options.issuer} do not make a valid CRL: ${e.message}`);
    throw e;
  }
  try {
    writeFileSync(out, options.pem === true ? crlToPem(der) : der, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new McimError('FILE_EXISTS', `refusing to overwrite ${out}`);
    throw new McimError('IO_ERROR', `cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    out: resolve(out),
    issuer: issuer.subject.text,
    crlNumber: number,
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate.toISOString(),
    revoked: serials.map((s) => s.toString('hex')),
  };
}

export function formatPkiCrl(report: PkiCrlReport, json: boolean): string {
  if (json) return `${JSON.stringify(report, null, 2)}\n`;
  return [
    `CRL ${report.crlNumber} of '${report.issuer}' written to ${report.out}`,
    `  valid:    ${report.thisUpdate} .. ${report.nextUpdate}`,
    `  revoked:  ${report.revoked.length === 0 ? '(none)' : report.revoked.join(', ')}`,
    '',
  ].join('\n');
}

// ---- registration ----

export function registerPki(program: Command): void {
  const pki = program.command('pki').description('GSMA RSP test PKI: issue certificates and validate certificate chains');

  pki
    .command('init')
    .description('issue a test PKI (CI, EUM, eUICC, SM-DP+ auth/pb/TLS, eIM) into DIR: DER and PEM certificates, encrypted PKCS#8 keys')
    .argument('<dir>', 'output directory (created if missing; existing files are never overwritten)')
    .addOption(new Option('--curve <curve>', 'curve of the CI and the signing keys (TLS keys are P-256)').choices(['p256', 'brainpool']).default('p256'))
    .option('--eid <eid>', 'EID of the eUICC (32 digits, valid check digits); the EUM is constrained to its first 8 digits')
    .option('--smdp-address <host>', 'SM-DP+ address of the TLS certificate')
    .option('--key-passphrase-file <file>', `passphrase of the private keys (first line; created with a random one if missing; default DIR.passphrase; or $${PKI_PASSPHRASE_ENV})`)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ mcim pki init ./pki
  $ mcim pki init ./pki-brp --curve brainpool --eid 89049032123451234512345678901235
  $ mcim pki init ./pki --smdp-address smdp.example.org --json`,
    )
    .action((dir: string, opts: PkiInitOptions & { json?: boolean }) => {
      process.stdout.write(formatPkiInit(pkiInit(dir, opts), opts.json === true));
    });

  pki
    .command('verify')
    .description('validate a certificate chain up to a trusted CI (exit 1 with the reason when it does not validate)')
    .argument('<cert>', 'certificate to validate (PEM or DER)')
    .option('--chain <cert...>', 'intermediate certificates, e.g. the EUM certificate of an eUICC')
    .requiredOption('--ci <cert...>', 'trusted CI certificates')
    .addOption(new Option('--role <role>', 'use to validate for (default: the GSMA role the certificate carries)').choices([...CERTIFICATE_USES]))
    .option('--at <time>', 'validation time, ISO 8601 (default: now)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ mcim pki verify pki/euicc.pem --chain pki/eum.pem --ci pki/ci.pem
  $ mcim pki verify pki/dp-auth.der --ci pki/ci.der --role dp-auth --at 2027-01-01T00:00:00Z
  $ mcim pki verify pki/eim.pem --ci pki/ci.pem --role eim --json`,
    )
    .action((cert: string, opts: PkiVerifyOptions & { json?: boolean }) => {
      const outcome = pkiVerify(cert, opts);
      process.stdout.write(formatPkiVerify(outcome, opts.json === true));
      if (!outcome.valid) process.exitCode = 1;
    });

  pki
    .command('crl')
    .description('issue an X.509 v2 CRL (RFC 5280 5) signed by a CI or EUM key, for tests and labs (mcim serve --crl)')
    .argument('<out>', 'CRL file to write (never overwritten)')
    .requiredOption('--issuer <cert>', 'the issuing CA certificate (CI or EUM)')
    .requiredOption('--key <file>', "the issuer's private key (PKCS#8, unencrypted)")
    .option('--revoke <cert-or-serial...>', 'certificates (files) or hex serial numbers to list as revoked')
    .option('--number <n>', 'cRLNumber (default 1; a newer CRL needs a higher one)')
    .option('--this-update <time>', 'thisUpdate, ISO 8601 (default: now)')
    .option('--days <n>', 'days until nextUpdate (default 30)')
    .option('--pem', 'write PEM instead of DER')
    .option('--key-passphrase-file <file>', "the passphrase of an encrypted key (default: $MCIM_PKI_PASSPHRASE, else the key directory's DIR.passphrase)")
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ mcim pki crl ci.crl --issuer pki/ci.pem --key pki/ci.key.pem --revoke pki/eum.pem
  $ mcim pki crl eum.crl --issuer pki/eum.pem --key pki/eum.key.pem --revoke 4a1b2c3d --number 2 --pem`,
    )
    .action((out: string, opts: PkiCrlOptions & { json?: boolean }) => {
      process.stdout.write(formatPkiCrl(pkiCrl(out, opts), opts.json === true));
    });
}
