// A validated SM-DP+ credential set on disk (SGP.22 4.5.2.1 certificates): certificates as DER/PEM, private keys as encrypted PKCS#8.
import { randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { certificateToPem } from '../pki/certificate.js';
import { PRIVATE_DIR_MODE, writePrivateFile } from '../pki/privateFiles.js';
import type { CredentialSet, CredentialSources, KeyedFiles } from './credentialSet.js';

const MANIFEST = 'credentials.json';

interface Manifest {
  readonly cis: readonly string[];
  readonly dpAuth: readonly KeyedFiles[];
  readonly dpPb: readonly KeyedFiles[];
  readonly tls: KeyedFiles;
}

export function hasCredentialDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST));
}

/**
 * Writes `set` as the directory `dir`, replacing any previous one only once everything is written: the files go to a
 * sibling temporary directory that is then renamed. Private keys are AES-256-CBC encrypted PKCS#8 under `passphrase`;
 * the directory is mode 700 and every file in it mode 600.
 */
export function writeCredentialDir(dir: string, set: CredentialSet, passphrase: string): void {
  const suffix = randomBytes(6).toString('hex');
  const tmp = `${dir}.tmp-${suffix}`;
  mkdirSync(tmp, { mode: PRIVATE_DIR_MODE });
  chmodSync(tmp, PRIVATE_DIR_MODE);
  try {
    const key = (name: string, k: KeyObject): string => {
      writePrivateFile(join(tmp, name), k.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }));
      return name;
    };
    const cert = (name: string, der: Buffer): string => {
      writePrivateFile(join(tmp, `${name}.der`), der);
      writePrivateFile(join(tmp, `${name}.pem`), certificateToPem(der));
      return `${name}.der`;
    };
    const ciNames = new Map(set.cis.map((ci, i) => [ci, cert(`ci-${i + 1}-${curveDir(ci.publicKey.curve)}`, ci.der)]));
    const dpAuth: KeyedFiles[] = [];
    const dpPb: KeyedFiles[] = [];
    for (const c of set.credentials) {
      const base = ciNames.get(c.ci)!.replace(/\.der$/, '');
      dpAuth.push({ certificate: cert(`${base}-dp-auth`, c.dpAuth.certificate.der), key: key(`${base}-dp-auth.key.pem`, c.dpAuth.privateKey) });
      dpPb.push({ certificate: cert(`${base}-dp-pb`, c.dpPb.certificate.der), key: key(`${base}-dp-pb.key.pem`, c.dpPb.privateKey) });
    }
    writePrivateFile(join(tmp, 'dp-tls.pem'), set.tls.chain.map((c) => certificateToPem(c.der)).join(''));
    const manifest: Manifest = { cis: [...ciNames.values()], dpAuth, dpPb, tls: { certificate: 'dp-tls.pem', key: key('dp-tls.key.pem', set.tls.privateKey) } };
    writePrivateFile(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const old = `${dir}.old-${suffix}`;
    const replacing = existsSync(dir);
    if (replacing) renameSync(dir, old);
    renameSync(tmp, dir);
    if (replacing) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The stored set as sources (paths inside `dir`), to be loaded and validated like supplied ones. */
export function credentialDirSources(dir: string, passphrase: string): CredentialSources {
  const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  const inDir = (k: KeyedFiles): KeyedFiles => ({ certificate: join(dir, k.certificate), key: join(dir, k.key) });
  return { cis: m.cis.map((f) => join(dir, f)), dpAuth: m.dpAuth.map(inDir), dpPb: m.dpPb.map(inDir), tls: inDir(m.tls), passphrase };
}

/** The PEM files of the stored CIs in stored order, each under a name of its curve (`p256`, `brainpool`, `p256-2`...). */
export function credentialDirCiFiles(dir: string): [name: string, file: string][] {
  const m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  const taken = new Set<string>();
  return m.cis.map((f) => {
    const curve = /-(p256|brainpool)\.der$/.exec(f)?.[1] ?? 'ci';
    let name = curve;
    for (let n = 2; taken.has(name); n++) name = `${curve}-${n}`;
    taken.add(name);
    return [name, join(dir, f.replace(/\.der$/, '.pem'))];
  });
}

function curveDir(curve: string): string {
  return curve === 'P-256' ? 'p256' : 'brainpool';
}
