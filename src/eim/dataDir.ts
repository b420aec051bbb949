// An eIM data directory (SGP.32 v1.2 2.5 eIM, issue 10): its eimId and address, its TLS credentials (a generated test PKI by default), the CIs whose eUICCs it registers, the fleet API token and the at-rest key its secrets are sealed under.
import { createHmac, createPrivateKey, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EcCurve } from '../crypto/ecdsa.js';
import { McimError } from '../errors.js';
import { certificateToPem, parseCertificate } from '../pki/certificate.js';
import { makePrivateDir, replacePrivateFile, tightenPrivateTree, writePrivateFile } from '../pki/privateFiles.js';
import { issueTestPki } from '../pki/testPki.js';
import { AtRestKey, type AtRestKeySource } from '../store/secretBox.js';

const CONFIG_FILE = 'eim.json';
const SECRET_KEY_FILE = 'secret.key';
const TOKEN_FILE = 'api.token';
const KEY_CHECK_LABEL = 'mcim eim at-rest key check v1';
const KEY_PASSPHRASE_LABEL = 'mcim eim data directory private keys v1';
export const DEFAULT_EIM_ADDRESS = 'localhost:8444';
export const DEFAULT_EIM_ID = 'eim.mcim.local';

export interface EimDataDir {
  readonly dir: string;
  readonly eimId: string;
  /** host[:port] the eUICCs know (eimFqdn) and the TLS certificate names. */
  readonly address: string;
  /** The curve of the eIM's package-signing keys. */
  readonly curve: EcCurve;
  /** TLS key and certificate (PEM); the key decrypted into memory only. */
  readonly tls: { readonly key: Buffer; readonly cert: Buffer };
  /** The CA certificate (PEM) devices and fleet clients trust for the eIM's TLS. */
  readonly tlsCaFile: string;
  /** DER of the CIs device certificate chains must end at. */
  readonly trustedCis: readonly Buffer[];
  /** The fleet API's bearer token and its file (mode 600). */
  readonly token: string;
  readonly tokenFile: string;
  readonly atRestKey: AtRestKey;
  readonly created: boolean;
}

interface Config {
  readonly eimId: string;
  readonly address: string;
  readonly curve: EcCurve;
  readonly atRestKeyCheck: string;
}

export interface InitEimDataDirOptions {
  readonly eimId?: string;
  /** host[:port] (default localhost:8444). */
  readonly address?: string;
  /** Curve of the package-signing keys (default P-256). */
  readonly curve?: EcCurve;
  /** CI certificates (DER or PEM files) to trust for device registration, added to the directory. */
  readonly cis?: readonly string[];
  readonly keySource?: AtRestKeySource;
}

function readCertificateFile(file: string): Buffer {
  if (!existsSync(file)) throw new McimError('NOT_FOUND', `the CI certificate ${file} does not exist`);
  const data = readFileSync(file);
  const text = data.toString('latin1');
  const pem = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  const der = pem === null ? data : Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
  const cert = parseCertificate(der);
  if (cert.subjectKeyIdentifier === undefined) throw new McimError('INVALID_ARGUMENT', `${file} has no subject key identifier (a GSMA CI has one)`);
  return der;
}

function hostOf(address: string): string {
  const m = /^([A-Za-z0-9.-]{1,253})(?::([0-9]{1,5}))?$/.exec(address);
  if (m === null || (m[2] !== undefined && Number(m[2]) > 65535)) throw new McimError('INVALID_ARGUMENT', `'${address}' is not host[:port]`);
  return m[1]!;
}

function check(key: AtRestKey): string {
  return key.derive(KEY_CHECK_LABEL);
}

/**
 * Opens the eIM data directory, creating it on first use: `eim.json` (eimId, address, curve, at-rest key check),
 * `secret.key` (unless the key comes from elsewhere), `tls/` (a test CI and the eIM's TLS certificate for the address's
 * host, its key encrypted under the at-rest key), `cis/` (the CIs it trusts: the test CI, and each --ci), `api.token`.
 * CIs given for an existing directory are added to it. A wrong at-rest key is refused before anything is read.
 */
export function initEimDataDir(dirOption: string, o: InitEimDataDirOptions = {}): EimDataDir {
  const dir = resolve(dirOption);
  const configPath = join(dir, CONFIG_FILE);
  const cis = (o.cis ?? []).map(readCertificateFile);
  let created = false;
  let key: AtRestKey;
  if (!existsSync(configPath)) {
    const address = o.address ?? DEFAULT_EIM_ADDRESS;
    const host = hostOf(address);
    const eimId = o.eimId ?? DEFAULT_EIM_ID;
    if (eimId.length === 0 || eimId.length > 128) throw new McimError('INVALID_ARGUMENT', 'an eimId is 1 to 128 characters');
    makePrivateDir(dir);
    key = AtRestKey.resolve(join(dir, SECRET_KEY_FILE), o.keySource ?? {}, true);
    const pki = issueTestPki({ curve: 'P-256', smdpAddress: host });
    makePrivateDir(join(dir, 'tls'));
    writePrivateFile(join(dir, 'tls', 'ca.pem'), certificateToPem(pki.ci.der));
    writePrivateFile(join(dir, 'tls', 'eim-tls.pem'), certificateToPem(pki.dpTls.der));
    writePrivateFile(
      join(dir, 'tls', 'eim-tls.key.pem'),
      pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: key.derive(KEY_PASSPHRASE_LABEL) }),
    );
    makePrivateDir(join(dir, 'cis'));
    writePrivateFile(join(dir, TOKEN_FILE), `${randomBytes(32).toString('hex')}\n`);
    replacePrivateFile(configPath, `${JSON.stringify({ eimId, address, curve: o.curve ?? 'P-256', atRestKeyCheck: check(key) }, null, 2)}\n`);
    created = true;
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as Config;
  if (!created) {
    key = AtRestKey.resolve(join(dir, SECRET_KEY_FILE), o.keySource ?? {});
    const expected = Buffer.from(config.atRestKeyCheck, 'hex');
    const actual = Buffer.from(check(key), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new McimError('AT_REST_KEY_MISMATCH', `the at-rest key from ${key.origin} is not the key ${dir} was created with: nothing was decrypted or written`);
    }
    if (o.eimId !== undefined && o.eimId !== config.eimId) throw new McimError('INVALID_ARGUMENT', `${dir} is the eIM '${config.eimId}', not '${o.eimId}'`);
    if (o.address !== undefined && o.address.toLowerCase() !== config.address.toLowerCase()) {
      throw new McimError('INVALID_ARGUMENT', `${dir} serves '${config.address}' (its TLS certificate names it), not '${o.address}'`);
    }
    tightenPrivateTree(dir);
  }
  for (const der of cis) {
    const id = createHmac('sha256', 'ci').update(der).digest('hex').slice(0, 16);
    const file = join(dir, 'cis', `ci-${id}.der`);
    if (!existsSync(file)) writePrivateFile(file, der);
  }
  const ciDir = join(dir, 'cis');
  const trustedCis = [
    readCertificateFile(join(dir, 'tls', 'ca.pem')),
    ...readdirSync(ciDir)
      .filter((f) => f.endsWith('.der'))
      .sort()
      .map((f) => readFileSync(join(ciDir, f))),
  ];
  const tlsKey = createPrivateKey({ key: readFileSync(join(dir, 'tls', 'eim-tls.key.pem')), format: 'pem', passphrase: key!.derive(KEY_PASSPHRASE_LABEL) });
  return {
    dir,
    eimId: config.eimId,
    address: config.address,
    curve: config.curve,
    tls: { key: Buffer.from(tlsKey.export({ type: 'pkcs8', format: 'pem' })), cert: readFileSync(join(dir, 'tls', 'eim-tls.pem')) },
    tlsCaFile: join(dir, 'tls', 'ca.pem'),
    trustedCis,
    token: readFileSync(join(dir, TOKEN_FILE), 'utf8').trim(),
    tokenFile: join(dir, TOKEN_FILE),
    atRestKey: key!,
    created,
  };
}

/** The fleet API token and TLS CA of an existing data directory (for `mcim fleet --data DIR`), without opening its keys. */
export function eimClientSettings(dirOption: string): { token: string; caFile: string; address: string } {
  const dir = resolve(dirOption);
  if (!existsSync(join(dir, CONFIG_FILE))) throw new McimError('NOT_FOUND', `${dir} is not an eIM data directory (create it with 'mcim eim serve --data ${dirOption}')`);
  const config = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as Config;
  return { token: readFileSync(join(dir, TOKEN_FILE), 'utf8').trim(), caFile: join(dir, 'tls', 'ca.pem'), address: config.address };
}
