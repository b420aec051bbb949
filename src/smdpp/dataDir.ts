// An SM-DP+ data directory: its configuration, credentials (generated test PKI for both curves, or the operator's own;
// SGP.22 4.5.2.1 profiles), database and secret key.
import { createPrivateKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EcCurve } from '../crypto/ecdsa.js';
import { McimError } from '../errors.js';
import { parseCertificate, type GsmaCertificate } from '../pki/certificate.js';
import type { HttpsOptions } from '../http/server.js';
import { PRIVATE_DIR_MODE, makePrivateDir, replacePrivateFile, tightenPrivateTree, writePrivateFile } from '../pki/privateFiles.js';
import { DEFAULT_SMDP_OID, TEST_ENTITIES, issueTestPki, readTestPkiKey, writeTestPki, type TestEntity } from '../pki/testPki.js';
import { DATABASE_ENV, openDatabase, postgresConfig, type DatabaseConfig } from '../store/database.js';
import { AtRestKey, type AtRestKeySource } from '../store/secretBox.js';
import { SmdpStore } from '../store/smdpStore.js';
import { parseAddress, type KeyedCertificate, type SmdpCredential } from './context.js';
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
  /** The key every secret of the directory is encrypted under (checked against the directory's check value). */
  readonly atRestKey: AtRestKey;
}

interface DataDirConfig {
  readonly address: string;
  readonly oid: string;
  /** HMAC of a fixed label under the at-rest key: a wrong key is refused before anything is decrypted or written. */
  readonly atRestKeyCheck?: string;
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

/** The at-rest key file of a data directory when no other source is given (32 random bytes, mode 600). */
const SECRET_KEY_FILE = 'secret.key';
const KEY_CHECK_LABEL = 'mcim at-rest key check v1';
const KEY_PASSPHRASE_LABEL = 'mcim data directory private keys v1';

/** The passphrase of every private key file in a data directory (encrypted PKCS#8), derived from the at-rest key. */
function keyPassphrase(key: AtRestKey): string {
  return key.derive(KEY_PASSPHRASE_LABEL);
}

function readConfig(configPath: string): DataDirConfig {
  return JSON.parse(readFileSync(configPath, 'utf8')) as DataDirConfig;
}

function mismatch(dir: string, key: AtRestKey, cause?: unknown): McimError {
  return new McimError('AT_REST_KEY_MISMATCH', `the at-rest key from ${key.origin} is not the key ${dir} was created with: nothing was decrypted or written`, { cause });
}

/**
 * The at-rest key of an existing data directory, refused unless it is the directory's: compared with the check value
 * smdpp.json keeps, or (directories created before it kept one) by decrypting one of its key files.
 */
function checkedAtRestKey(dir: string, config: DataDirConfig, source: AtRestKeySource): AtRestKey {
  const key = AtRestKey.resolve(join(dir, SECRET_KEY_FILE), source);
  if (config.atRestKeyCheck !== undefined) {
    const expected = Buffer.from(config.atRestKeyCheck, 'hex');
    const actual = Buffer.from(key.derive(KEY_CHECK_LABEL), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw mismatch(dir, key);
    return key;
  }
  const probe = [join(dir, 'pki', 'p256', 'ci.key.pem'), join(dir, CREDENTIALS_DIR, 'dp-tls.key.pem')].find((f) => existsSync(f));
  try {
    if (probe !== undefined) createPrivateKey({ key: readFileSync(probe), format: 'pem', passphrase: keyPassphrase(key) });
  } catch (e) {
    throw mismatch(dir, key, e);
  }
  return key;
}

/** The passphrase of the private keys of the data directory `dataDir` (e.g. for `mcim device init --pki DIR/pki/p256`), with its at-rest key checked. */
export function dataDirKeyPassphrase(dataDir: string, source: AtRestKeySource = {}): string {
  const dir = resolve(dataDir);
  requireSmdpDataDir(dir);
  return keyPassphrase(checkedAtRestKey(dir, readConfig(join(dir, CONFIG_FILE)), source));
}

/** A private key of the generated test PKI (`curveDir`: p256 or brainpool), e.g. the EUM's to issue eUICCs. */
export function openTestPkiKey(data: SmdpDataDir, curveDir: string, entity: TestEntity): KeyObject {
  const pkiDir = data.pkiDirs[curveDir];
  if (pkiDir === undefined) throw new McimError('NOT_FOUND', `${data.dir} holds no generated test PKI '${curveDir}'`);
  return readTestPkiKey(pkiDir, entity, keyPassphrase(data.atRestKey));
}

/**
 * Brings an existing directory to the rules of docs/operations.md (Keys at rest): modes tightened to 0600/0700, and
 * private keys of a generated test PKI written in clear by an older mcim encrypted in place.
 */
function secureDataDir(dir: string, key: AtRestKey): void {
  tightenPrivateTree(dir);
  for (const [, name] of CURVE_DIRS) {
    const pkiDir = join(dir, 'pki', name);
    for (const entity of TEST_ENTITIES) {
      const file = join(pkiDir, `${entity}.key.pem`);
      if (!existsSync(file) || readFileSync(file, 'utf8').includes('ENCRYPTED PRIVATE KEY')) continue;
      replacePrivateFile(file, createPrivateKey(readFileSync(file)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: keyPassphrase(key) }));
    }
  }
}

function keyed(dir: string, entity: TestEntity, passphrase: string): KeyedCertificate {
  return { certificate: parseCertificate(readFileSync(join(dir, `${entity}.der`))), privateKey: readTestPkiKey(dir, entity, passphrase) };
}

/** A new data directory's at-rest key: from the source given, else a fresh `secret.key` inside it. */
function newAtRestKey(dir: string, source: AtRestKeySource): AtRestKey {
  makePrivateDir(dir);
  // The directory itself (it may exist, empty, e.g. a mounted volume); what else it holds is not mcim's yet.
  chmodSync(dir, PRIVATE_DIR_MODE);
  return AtRestKey.resolve(join(dir, SECRET_KEY_FILE), source, true);
}

/** Writes the data directory's configuration (mode 600, replaced atomically) with the check value of its at-rest key. */
function writeConfig(path: string, config: Omit<DataDirConfig, 'atRestKeyCheck'>, key: AtRestKey): void {
  replacePrivateFile(path, `${JSON.stringify({ ...config, atRestKeyCheck: key.derive(KEY_CHECK_LABEL) }, null, 2)}\n`);
}

/**
 * Opens the data directory, creating it on first use: `smdpp.json` (address, OID, at-rest key check), `pki/p256` and
 * `pki/brainpool` (CI, EUM, eUICC, DPauth, DPpb, DPtls for the address's host, every key encrypted under the at-rest
 * key). An address given for an existing directory must match. The at-rest key comes from `keySource`, else `secret.key`.
 */
export function initSmdpDataDir(dirOption: string, address?: string, at: Date = new Date(), keySource: AtRestKeySource = {}): SmdpDataDir {
  const dir = resolve(dirOption);
  const configPath = join(dir, CONFIG_FILE);
  let newKey: AtRestKey | undefined;
  if (!existsSync(configPath)) {
    const wanted = address ?? DEFAULT_SMDP_ADDRESS;
    const { host } = parseAddress(wanted);
    newKey = newAtRestKey(dir, keySource);
    for (const [curve, name] of CURVE_DIRS) {
      writeTestPki(issueTestPki({ curve, smdpAddress: host, smdpOid: DEFAULT_SMDP_OID }), join(dir, 'pki', name), { passphrase: keyPassphrase(newKey), passphraseSource: 'smdp-data-directory' });
    }
    writeConfig(configPath, { address: wanted, oid: DEFAULT_SMDP_OID }, newKey);
  }
  const created = newKey !== undefined;
  const config = readConfig(configPath);
  if (address !== undefined && address.toLowerCase() !== config.address.toLowerCase()) {
    throw new McimError('INVALID_ARGUMENT', `${dir} serves '${config.address}' (its TLS certificate names it); use another data directory for '${address}'`);
  }
  const key = newKey ?? checkedAtRestKey(dir, config, keySource);
  if (!created) secureDataDir(dir, key);
  const passphrase = keyPassphrase(key);
  if (hasCredentialDir(join(dir, CREDENTIALS_DIR))) return suppliedDataDir(dir, config, key, at, created);
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
    tls: { key: Buffer.from(readTestPkiKey(tlsDir, 'dp-tls', passphrase).export({ type: 'pkcs8', format: 'pem' })), cert: readFileSync(join(tlsDir, 'dp-tls.pem')) },
    ciCertificateFiles,
    pkiDirs,
    credentialSource: 'generated',
    created,
    atRestKey: key,
  };
}

/** The imported set, checked again now (it may have expired since the import). */
function suppliedDataDir(dir: string, config: DataDirConfig, key: AtRestKey, at: Date, created: boolean): SmdpDataDir {
  const credentialDir = join(dir, CREDENTIALS_DIR);
  const set = validateCredentialMaterial(loadCredentialSources(credentialDirSources(credentialDir, keyPassphrase(key))), { address: config.address, oid: config.oid, at });
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
    atRestKey: key,
  };
}

export interface ImportCredentialsOptions {
  /** host[:port]; default: the directory's address, else the TLS certificate's single dNSName. */
  readonly address?: string;
  /** Default: the OID the certificates carry. */
  readonly oid?: string;
  /** Validation time (default now). */
  readonly at?: Date;
  /** Where the at-rest key comes from (default: the directory's `secret.key`, created with a new directory). */
  readonly keySource?: AtRestKeySource;
}

/**
 * Validates the operator's credential set and makes it the data directory's (creating the directory if needed). Nothing is
 * written unless every check passes. An existing directory keeps its address: the set's TLS certificate must name it.
 */
export function importSmdpCredentials(dirOption: string, sources: CredentialSources, options: ImportCredentialsOptions = {}): { set: CredentialSet; data: SmdpDataDir } {
  const dir = resolve(dirOption);
  const configPath = join(dir, CONFIG_FILE);
  const existing = existsSync(configPath) ? (readConfig(configPath) as DataDirConfig & Record<string, unknown>) : undefined;
  const keySource = options.keySource ?? {};
  // A wrong key is refused before anything is validated or written.
  const existingKey = existing === undefined ? undefined : checkedAtRestKey(dir, existing, keySource);
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
  const key = existingKey ?? newAtRestKey(dir, keySource);
  writeCredentialDir(join(dir, CREDENTIALS_DIR), set, keyPassphrase(key));
  writeConfig(configPath, { ...existing, address: set.address, oid: set.oid }, key);
  return { set, data: { ...initSmdpDataDir(dir, undefined, at, keySource), created: existing === undefined } };
}

/**
 * The SM-DP+'s store, values sealed under the data directory's at-rest key: in `database` if given, else in the
 * PostgreSQL database $MCIM_DB names, else in the SQLite database `mcim.sqlite` of the data directory. The SQLite file
 * is created with mode 0600 first: SQLite gives its -wal and -shm files the database file's mode.
 */
export async function openSmdpStore(data: SmdpDataDir, database?: DatabaseConfig): Promise<SmdpStore> {
  const fromEnvironment = process.env[DATABASE_ENV];
  let config = database ?? (fromEnvironment === undefined || fromEnvironment === '' ? undefined : postgresConfig(fromEnvironment));
  if (config === undefined) {
    const file = join(data.dir, 'mcim.sqlite');
    if (!existsSync(file)) writePrivateFile(file, '', 'a');
    config = { engine: 'sqlite', file };
  }
  const db = await openDatabase(config);
  return new SmdpStore(db, data.atRestKey.box());
}
