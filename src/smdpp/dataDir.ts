// An SM-DP+ data directory: its configuration, credentials (generated test PKI for both curves, or the operator's own;
// SGP.22 4.5.2.1 profiles), database and secret key.
import { createHmac, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EcCurve } from '../crypto/ecdsa.js';
import { McimError } from '../errors.js';
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';
import type { HttpsOptions } from '../http/server.js';
import { DEFAULT_SMDP_OID, issueTestPki, writeTestPki } from '../pki/testPki.js';
import { openDatabase } from '../store/database.js';
import { SecretBox } from '../store/secretBox.js';
import { SmdpStore } from '../store/smdpStore.js';
import type { KeyedCertificate, SmdpCredential } from './context.js';
import { credentialDirCiFiles, credentialDirSources, hasCredentialDir, writeCredentialDir } from './credentialDir.js';
import { loadCredentialSources, tlsChainPem, tlsServerSettings, validateCredentialMaterial, type CredentialSet, type CredentialSources } from './credentialSet.js';

export const DEFAULT_SMDP_ADDRESS = 'localhost:8443';
const CONFIG_FILE = 'smdpp.json';
/** The operator's credential set, when one was imported (it then replaces the generated test PKI). */
const CREDENTIALS_DIR = 'credentials';
const CURVE_DIRS: readonly (readonly [EcCurve, string])[] = [
  ['P-256', 'p256'],
  ['brainpoolP256r1', 'brainpool'],
];
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

export interface SmdpDataDir {
  readonly dir: string;
  /** host[:port] as activation codes carry it. */
  readonly address: string;
  readonly oid: string;
  readonly credentials: readonly SmdpCredential[];
  /** Every CI the SM-DP+ knows (eUICC chains may end at any of them). */
  readonly trustedCis: readonly GsmaCertificate[];
  /** CERT.DP.TLS and its key (PEM), with the TLS settings its curve needs. */
  readonly tls: HttpsOptions & { readonly key: Buffer; readonly cert: Buffer };
  /** The CI certificates (PEM) devices trust, by curve directory name. */
  readonly ciCertificateFiles: Readonly<Record<string, string>>;
  /** The CI certificate (PEM) CERT.DP.TLS verifies to: what a device's TLS client trusts. */
  readonly tlsCaFile: string;
  /** Test PKI directories (with an EUM that can issue eUICCs), by curve directory name; empty with supplied credentials. */
  readonly pkiDirs: Readonly<Record<string, string>>;
  /** 'generated': the test PKI made on first start; 'supplied': the operator's imported set. */
  readonly credentialSource: 'generated' | 'supplied';
  readonly created: boolean;
}

/** The address an existing data directory serves, undefined when it holds no SM-DP+ yet (nothing is created). */
export function configuredAddress(dirOption: string): string | undefined {
  const configPath = join(resolve(dirOption), CONFIG_FILE);
  return existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as { address: string }).address : undefined;
}

/** Refuses a data directory that does not exist or holds no SM-DP+ (commands that only use one). */
export function requireSmdpDataDir(dirOption: string): void {
  const dir = resolve(dirOption);
  if (!existsSync(join(dir, CONFIG_FILE))) {
    throw new McimError('INVALID_ARGUMENT', `${dir} is not an SM-DP+ data directory: create it with 'mcim serve --data ${dirOption}' or 'mcim smdpp credentials --data ${dirOption}'`);
  }
}

/** Splits host[:port] and checks the host is a DNS name (the TLS certificate names it). */
export function parseAddress(address: string): { host: string; port: number | undefined } {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(address);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  if (m === null || !HOST_NAME.test(m[1]!) || (port !== undefined && (port < 1 || port > 65535))) {
    throw new McimError('INVALID_ARGUMENT', `'${address}' is not an SM-DP+ address (host name[:port])`);
  }
  return { host: m[1]!, port };
}

/** The at-rest key file of a data directory (32 random bytes, mode 600). */
const SECRET_KEY_FILE = 'secret.key';

/** The SM-DP+'s own private keys (and the test CI's) are encrypted at rest; the EUM key stays readable for `mcim device init --pki`. */
const ENCRYPTED_KEYS = ['ci', 'dp-auth', 'dp-pb', 'dp-tls'] as const;

/** The passphrase of the encrypted key files, derived from the data directory's at-rest key (`secret.key`). */
function keyPassphrase(dir: string): string {
  SecretBox.fromKeyFile(join(dir, SECRET_KEY_FILE));
  return createHmac('sha256', readFileSync(join(dir, SECRET_KEY_FILE))).update('mcim data directory private keys v1').digest('hex');
}

function privateKeyOf(dir: string, entity: string, passphrase: string) {
  return createPrivateKey({ key: readFileSync(join(dir, `${entity}.key.pem`)), format: 'pem', passphrase });
}

function keyed(dir: string, entity: string, passphrase: string): KeyedCertificate {
  return { certificate: parseCertificate(readFileSync(join(dir, `${entity}.der`))), privateKey: privateKeyOf(dir, entity, passphrase) };
}

/**
 * Opens the data directory, creating it on first use: `smdpp.json` (address, OID), `pki/p256` and `pki/brainpool`
 * (CI, EUM, eUICC, DPauth, DPpb, DPtls for the address's host). An address given for an existing directory must match.
 */
export function initSmdpDataDir(dirOption: string, address?: string, at: Date = new Date()): SmdpDataDir {
  const dir = resolve(dirOption);
  const configPath = join(dir, CONFIG_FILE);
  let created = false;
  if (!existsSync(configPath)) {
    const wanted = address ?? DEFAULT_SMDP_ADDRESS;
    const { host } = parseAddress(wanted);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const encrypt = { passphrase: keyPassphrase(dir), entities: ENCRYPTED_KEYS };
    for (const [curve, name] of CURVE_DIRS) {
      writeTestPki(issueTestPki({ curve, smdpAddress: host, smdpOid: DEFAULT_SMDP_OID }), join(dir, 'pki', name), { encrypt });
    }
    writeFileSync(configPath, `${JSON.stringify({ address: wanted, oid: DEFAULT_SMDP_OID }, null, 2)}\n`, { flag: 'wx' });
    created = true;
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { address: string; oid: string };
  if (address !== undefined && address.toLowerCase() !== config.address.toLowerCase()) {
    throw new McimError('INVALID_ARGUMENT', `${dir} serves '${config.address}' (its TLS certificate names it); use another data directory for '${address}'`);
  }
  const passphrase = keyPassphrase(dir);
  if (hasCredentialDir(join(dir, CREDENTIALS_DIR))) return suppliedDataDir(dir, config, passphrase, at, created);
  const credentials: SmdpCredential[] = [];
  const ciCertificateFiles: Record<string, string> = {};
  const pkiDirs: Record<string, string> = {};
  for (const [curve, name] of CURVE_DIRS) {
    const pkiDir = join(dir, 'pki', name);
    pkiDirs[name] = pkiDir;
    ciCertificateFiles[name] = join(pkiDir, 'ci.pem');
    credentials.push({ curve, ci: parseCertificate(readFileSync(join(pkiDir, 'ci.der'))), dpAuth: keyed(pkiDir, 'dp-auth', passphrase), dpPb: keyed(pkiDir, 'dp-pb', passphrase) });
  }
  const tlsDir = join(dir, 'pki', 'p256');
  return {
    dir,
    address: config.address,
    oid: config.oid,
    credentials,
    // The TLS key is decrypted into memory only.
    trustedCis: credentials.map((c) => c.ci),
    tlsCaFile: ciCertificateFiles.p256!,
    tls: { key: Buffer.from(privateKeyOf(tlsDir, 'dp-tls', passphrase).export({ type: 'pkcs8', format: 'pem' })), cert: readFileSync(join(tlsDir, 'dp-tls.pem')) },
    ciCertificateFiles,
    pkiDirs,
    credentialSource: 'generated',
    created,
  };
}

/** The imported set, checked again now (it may have expired since the import). */
function suppliedDataDir(dir: string, config: { address: string; oid: string }, passphrase: string, at: Date, created: boolean): SmdpDataDir {
  const credentialDir = join(dir, CREDENTIALS_DIR);
  const set = validateCredentialMaterial(loadCredentialSources(credentialDirSources(credentialDir, passphrase)), { address: config.address, oid: config.oid, at });
  // set.cis keeps the stored order (each CI is stored once).
  const ciFiles = credentialDirCiFiles(credentialDir);
  return {
    dir,
    address: config.address,
    oid: config.oid,
    credentials: set.credentials,
    trustedCis: set.cis,
    tls: { ...tlsServerSettings(set.tls.curve), key: Buffer.from(set.tls.privateKey.export({ type: 'pkcs8', format: 'pem' })), cert: Buffer.from(tlsChainPem(set)) },
    ciCertificateFiles: Object.fromEntries(ciFiles),
    tlsCaFile: ciFiles[set.cis.findIndex((ci) => ci.der.equals(set.tls.ci.der))]![1],
    pkiDirs: {},
    credentialSource: 'supplied',
    created,
  };
}

export interface ImportCredentialsOptions {
  /** host[:port]; default: the directory's address, else the TLS certificate's single dNSName. */
  readonly address?: string;
  /** Default: the OID the certificates carry. */
  readonly oid?: string;
  /** Validation time (default now). */
  readonly at?: Date;
}

/**
 * Validates the operator's credential set and makes it the data directory's (creating the directory if needed). Nothing is
 * written unless every check passes. An existing directory keeps its address: the set's TLS certificate must name it.
 */
export function importSmdpCredentials(dirOption: string, sources: CredentialSources, options: ImportCredentialsOptions = {}): { set: CredentialSet; data: SmdpDataDir } {
  const dir = resolve(dirOption);
  const configPath = join(dir, CONFIG_FILE);
  const existing = existsSync(configPath) ? (JSON.parse(readFileSync(configPath, 'utf8')) as { address: string; oid: string } & Record<string, unknown>) : undefined;
  if (existing !== undefined && options.address !== undefined && options.address.toLowerCase() !== existing.address.toLowerCase()) {
    throw new McimError('INVALID_ARGUMENT', `${dir} serves '${existing.address}' (activation codes name it); use another data directory for '${options.address}'`);
  }
  if (options.address !== undefined) parseAddress(options.address);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new McimError('INVALID_ARGUMENT', `${dir} is not a directory`);
  const at = options.at ?? new Date();
  let set: CredentialSet;
  try {
    set = validateCredentialMaterial(loadCredentialSources(sources), { address: options.address ?? existing?.address, oid: options.oid, at });
  } catch (e) {
    if (e instanceof McimError && e.code === 'ADDRESS_NOT_IN_TLS_CERTIFICATE' && options.address === undefined && existing !== undefined) {
      throw new McimError(e.code, `${e.message}; ${dir} serves '${existing.address}': import into a new data directory`, { cause: e });
    }
    throw e;
  }
  parseAddress(set.address);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeCredentialDir(join(dir, CREDENTIALS_DIR), set, keyPassphrase(dir));
  const tmp = `${configPath}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...existing, address: set.address, oid: set.oid }, null, 2)}\n`);
  renameSync(tmp, configPath);
  return { set, data: { ...initSmdpDataDir(dir, undefined, at), created: existing === undefined } };
}

/** The SQLite database `mcim.sqlite` and the sealing key `secret.key` of a data directory. */
export async function openSmdpStore(data: SmdpDataDir): Promise<SmdpStore> {
  const db = await openDatabase({ engine: 'sqlite', file: join(data.dir, 'mcim.sqlite') });
  return new SmdpStore(db, SecretBox.fromKeyFile(join(data.dir, SECRET_KEY_FILE)));
}
