// `mcim device`: a simulated device (SGP.22 3.1.3 download, 3.2 local profile management, 3.5 notifications): the IPA driving a software eUICC over APDUs.
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { X509_OID } from '../../asn1/definitions/x509.js';
import type { EcCurve } from '../../crypto/ecdsa.js';
import { McimError } from '../../errors.js';
import { parseWholeNumber } from '../wholeNumber.js';
import { Card } from '../../euicc/card.js';
import { Euicc, identityFromSgp26, identityFromTestPki, type EuiccIdentity } from '../../euicc/euicc.js';
import { distinguishedName, nameAttribute, parseCertificate } from '../../pki/certificate.js';
import { makeEid } from '../../pki/eid.js';
import { writePrivateFile } from '../../pki/privateFiles.js';
import { issueTestCertificate, issueTestPki, readTestPkiKey, testPkiPassphraseSource, type IssuedCertificate } from '../../pki/testPki.js';
import { dataDirKeyPassphrase } from '../../smdpp/dataDir.js';
import { pkiPassphrase } from './pki.js';
import { Es10Client } from '../../ipa/es10Client.js';
import { getEid } from '../../ipa/es10c/getEid.js';
import { parseConnectOverride, type HttpsClientOptions } from '../../ipa/httpsClient.js';
import { listProfiles, manageProfile, type ProfileOperation, type ProfileOperationResult, type ProfileSummary } from '../../ipa/localProfileManagement.js';
import { listPendingNotifications, sendPendingNotifications, type DeliveryReport, type NotificationSummary } from '../../ipa/notifications.js';
import { downloadProfile, type DownloadResult } from '../../ipa/profileDownload.js';
import { DEFAULT_MAX_PACKAGES, runIpad, type IpadOptions, type IpadReport } from '../../ipa/ipad.js';
import { startPushListener } from '../../ipa/pushListener.js';
import { MAX_FALLBACK_AFTER_MS } from '../../ipa/ipadFallback.js';
import { UsimClient, type UsimAuthenticateAnswer } from '../../ipa/usimClient.js';
import { addRollbackOptions, addSimulateCommand, rollbackOptions } from './deviceSimulate.js';
import { parseHexArg } from './aka.js';
import { untilStopped } from '../untilStopped.js';

const CURVES: Readonly<Record<string, EcCurve>> = { p256: 'P-256', brainpool: 'brainpoolP256r1' };
const SECRET_ENV = 'MCIM_DEVICE_SECRET';
const SECRET_LENGTH = 32;

function badInput(message: string): McimError {
  return new McimError('INVALID_ARGUMENT', message);
}

// ---- the device secret and the eUICC ----

export interface DeviceOptions {
  /** The eUICC's sealed state file. */
  readonly state: string;
  /** File holding the device secret (hex); default `<state>.secret`. */
  readonly secretFile?: string;
  /** STORE DATA block size, 120 to 255. */
  readonly segmentSize?: number;
}

function secretPath(o: DeviceOptions): string {
  return o.secretFile ?? `${o.state}.secret`;
}

function parseSecret(text: string, where: string): Buffer {
  const hex = text.trim();
  if (!/^(?:[0-9A-Fa-f]{2}){32,}$/.test(hex)) throw badInput(`the device secret in ${where} must be at least ${SECRET_LENGTH} bytes of hex`);
  return Buffer.from(hex, 'hex');
}

/**
 * The device secret: $MCIM_DEVICE_SECRET (hex), else the secret file. With `create`, a missing
 * secret file is created with a fresh random secret, mode 600 (for test devices).
 */
export function deviceSecret(o: DeviceOptions, create = false): Buffer {
  const fromEnv = process.env[SECRET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseSecret(fromEnv, `$${SECRET_ENV}`);
  const path = secretPath(o);
  if (!existsSync(path)) {
    if (!create) throw badInput(`no device secret: ${path} does not exist and $${SECRET_ENV} is not set`);
    const secret = randomBytes(SECRET_LENGTH);
    writePrivateFile(path, `${secret.toString('hex')}\n`);
    return secret;
  }
  return parseSecret(readFileSync(path, 'utf8'), path);
}

/** Opens the eUICC from its state file, puts it on a card and opens an ES10 session with its ISD-R. */
export async function withDevice<T>(o: DeviceOptions, run: (es10: Es10Client) => Promise<T>): Promise<T> {
  const euicc = Euicc.open(o.state, deviceSecret(o));
  const card = new Card();
  euicc.attach(card);
  const es10 = await Es10Client.open({ transmit: (apdu) => card.transmit(apdu) }, { segmentSize: o.segmentSize });
  try {
    return await run(es10);
  } finally {
    await es10.close();
  }
}

// ---- init ----

export interface DeviceInitOptions extends DeviceOptions {
  /** A test PKI directory (pki.json, ci.der, eum.der, eum.key.pem): the new eUICC is issued by its EUM. */
  readonly pki?: string;
  /** The GSMA SGP.26 test set (a folder with eUICC/, EUM/, CertificateIssuer/): its eUICC identity, to talk to SM-DP+ servers on SGP.26. */
  readonly sgp26?: string;
  /** Curve of a new test PKI (without `pki`), or of the SGP.26 identity. */
  readonly curve?: string;
  /** The EID (default: random within the EUM's EID prefix). */
  readonly eid?: string;
  /** With `pki` from `mcim pki init`: the file holding its keys' passphrase (default DIR.passphrase; or $MCIM_PKI_PASSPHRASE). */
  readonly keyPassphraseFile?: string;
  /** With `pki` inside an SM-DP+ data directory: its at-rest key file (default: its secret.key; or $MCIM_AT_REST_KEY). */
  readonly atRestKeyFile?: string;
}

export interface DeviceInitReport {
  readonly state: string;
  readonly secretFile?: string;
  readonly eid: string;
  readonly curve: EcCurve;
  readonly ciKeyIds: readonly string[];
}

/** The EID prefix an EUM certificate's name constraints permit (SGP.22 4.5.2.1.0.2). */
function eumEidPrefix(eum: IssuedCertificate): string {
  for (const base of eum.certificate.nameConstraints?.permitted ?? []) {
    if (base.type !== 'directoryName') continue;
    const prefix = nameAttribute(distinguishedName(base.value), X509_OID.serialNumber);
    if (prefix !== undefined) return prefix;
  }
  throw badInput('the EUM certificate permits no EID prefix');
}

function randomEid(prefix: string): string {
  let filler = '';
  for (let i = prefix.length; i < 30; i++) filler += String(randomInt(10));
  return makeEid(prefix, filler);
}

/**
 * The passphrase of the EUM key in a test PKI directory, from where its pki.json says: the at-rest key of the SM-DP+ data
 * directory it is in, or the passphrase `mcim pki init` used. A directory with keys in clear (older mcim) needs none.
 */
function pkiDirPassphrase(dir: string, o: Pick<DeviceInitOptions, 'keyPassphraseFile' | 'atRestKeyFile'>): string | undefined {
  if (testPkiPassphraseSource(dir) === 'smdp-data-directory') {
    if (o.keyPassphraseFile !== undefined) throw badInput(`${dir} is in an SM-DP+ data directory: its keys open with the at-rest key (--at-rest-key-file), not --key-passphrase-file`);
    return dataDirKeyPassphrase(join(dir, '..', '..'), { file: o.atRestKeyFile });
  }
  if (o.atRestKeyFile !== undefined) throw badInput(`${dir} is not in an SM-DP+ data directory: its keys open with --key-passphrase-file, not --at-rest-key-file`);
  return pkiPassphrase(dir, o.keyPassphraseFile, { create: false, required: testPkiPassphraseSource(dir) === 'pki-passphrase' })?.passphrase;
}

/** A test PKI directory's CI and EUM (its key opened as pki.json says): what issues eUICC identities. */
export interface TestEum {
  readonly ciDer: Buffer;
  readonly eum: IssuedCertificate;
}

export function loadTestEum(dir: string, o: Pick<DeviceInitOptions, 'keyPassphraseFile' | 'atRestKeyFile'>): TestEum {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (e) {
      throw badInput(`cannot read ${join(dir, name)}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const ciDer = read('ci.der');
  const eumDer = read('eum.der');
  const eum: IssuedCertificate = {
    entity: 'eum',
    der: eumDer,
    certificate: parseCertificate(eumDer),
    privateKey: readTestPkiKey(dir, 'eum', pkiDirPassphrase(dir, o)),
  };
  return { ciDer, eum };
}

/** A new eUICC identity issued by the EUM: a fresh key, its certificate for `eid` (default: random within the EUM's prefix). */
export function issueEuiccIdentity(t: TestEum, eid?: string): EuiccIdentity {
  const euicc = issueTestCertificate('euicc', t.eum, { eid: eid ?? randomEid(eumEidPrefix(t.eum)) });
  return { eid: euicc.certificate.eid!, euiccCertificate: euicc.der, euiccPrivateKey: euicc.privateKey, eumCertificate: t.eum.der, ciCertificates: [t.ciDer] };
}

function identityFromPkiDir(dir: string, o: DeviceInitOptions): { identity: EuiccIdentity; curve: EcCurve } {
  const eum = loadTestEum(dir, o);
  return { identity: issueEuiccIdentity(eum, o.eid), curve: eum.eum.certificate.publicKey.curve };
}

/** Personalises a new eUICC into the state file. */
export function deviceInit(o: DeviceInitOptions): DeviceInitReport {
  if (existsSync(o.state)) throw new McimError('FILE_EXISTS', `${o.state} already exists`);
  let identity: EuiccIdentity;
  let curve: EcCurve;
  if (o.pki === undefined && (o.keyPassphraseFile !== undefined || o.atRestKeyFile !== undefined)) throw badInput('--key-passphrase-file and --at-rest-key-file open the keys of --pki');
  if (o.sgp26 !== undefined) {
    if (o.pki !== undefined || o.eid !== undefined) throw badInput('--sgp26 brings its own EUM and EID: not with --pki or --eid');
    const curveName = o.curve ?? 'p256';
    const c = Object.hasOwn(CURVES, curveName) ? CURVES[curveName] : undefined;
    if (c === undefined) throw badInput(`unknown curve '${curveName}': use p256 or brainpool`);
    curve = c;
    identity = identityFromSgp26(o.sgp26, curve === 'P-256' ? 'NIST' : 'BRP');
  } else if (o.pki !== undefined) {
    if (o.curve !== undefined) throw badInput('--curve applies to a new test PKI, not to --pki (whose EUM decides)');
    ({ identity, curve } = identityFromPkiDir(o.pki, o));
  } else {
    const curveName = o.curve ?? 'p256';
    const c = Object.hasOwn(CURVES, curveName) ? CURVES[curveName] : undefined;
    if (c === undefined) throw badInput(`unknown curve '${curveName}': use p256 or brainpool`);
    curve = c;
    identity = identityFromTestPki(issueTestPki({ curve, eid: o.eid }));
  }
  const usesFile = !process.env[SECRET_ENV];
  Euicc.create(o.state, deviceSecret(o, true), identity);
  return {
    state: o.state,
    ...(usesFile ? { secretFile: secretPath(o) } : {}),
    eid: identity.eid,
    curve,
    ciKeyIds: identity.ciCertificates.map((der) => parseCertificate(der).subjectKeyIdentifier?.toString('hex') ?? ''),
  };
}

// ---- the commands ----

/** `mcim device usim`: the enabled profile's IMSI or ICCID, or one AUTHENTICATE, through the card's APDUs (src/ipa/usimClient.ts). */
export async function usimQuery(o: DeviceOptions, query: string, rand?: string, autn?: string): Promise<Record<string, string>> {
  if (query !== 'imsi' && query !== 'iccid' && query !== 'authenticate') throw badInput(`usim: '${query}' is not imsi, iccid or authenticate`);
  const euicc = Euicc.open(o.state, deviceSecret(o));
  const card = new Card();
  euicc.attach(card);
  const usim = new UsimClient({ transmit: (apdu) => card.transmit(apdu) });
  if (query === 'imsi') return { imsi: await usim.readImsi() };
  if (query === 'iccid') return { iccid: await usim.readIccid() };
  if (rand === undefined || autn === undefined) throw badInput('usim authenticate needs --rand and --autn');
  const answer: UsimAuthenticateAnswer = await usim.authenticate(parseHexArg('--rand', rand, 16), parseHexArg('--autn', autn, 16, 24, 40));
  const hex = (b: Buffer): string => b.toString('hex').toUpperCase();
  switch (answer.status) {
    case 'success':
      return { status: 'success', res: hex(answer.res), ck: hex(answer.ck), ik: hex(answer.ik), ...(answer.kc ? { kc: hex(answer.kc) } : {}) };
    case 'sync_failure':
      return { status: 'sync_failure', auts: hex(answer.auts) };
    case 'mac_failure':
      return { status: 'mac_failure' };
  }
}

interface CommonCliOptions {
  state: string;
  secretFile?: string;
  segmentSize?: number;
  json?: boolean;
}

interface NetworkCliOptions extends CommonCliOptions {
  ca?: string[];
  connect?: string;
}

function deviceOptions(o: CommonCliOptions): DeviceOptions {
  return { state: o.state, secretFile: o.secretFile, segmentSize: o.segmentSize };
}

/** HTTPS options from --ca (PEM files, each possibly holding several certificates) and --connect. */
export function httpOptions(o: { ca?: readonly string[]; connect?: string }): HttpsClientOptions {
  const ca = (o.ca ?? []).map((path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw badInput(`cannot read CA file ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
  return { ...(ca.length > 0 ? { ca } : {}), ...(o.connect ? { connect: parseConnectOverride(o.connect) } : {}) };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function formatProfiles(profiles: readonly ProfileSummary[]): string {
  if (profiles.length === 0) return 'no profiles\n';
  return profiles
    .map((p) => `${p.iccid ?? '-'}  ${(p.state ?? '-').padEnd(8)}  ${p.profileClass ?? '-'}  ${p.serviceProviderName ?? ''}: ${p.profileName ?? ''}${p.nickname ? ` (${p.nickname})` : ''}\n`)
    .join('');
}

function formatNotification(n: NotificationSummary | DeliveryReport): string {
  const fate = 'delivered' in n ? (n.delivered ? '  delivered' : `  NOT delivered: ${n.error ?? ''}`) : '';
  return `#${n.seqNumber}  ${n.events.join(',')}  ${n.iccid ?? '-'}  -> ${n.notificationAddress}${fate}\n`;
}

function formatDownload(r: DownloadResult): string {
  const n = r.notification;
  return [
    `installed ${r.iccid} '${r.profileName}' by ${r.serviceProviderName} (ISD-P ${r.isdpAid})`,
    n.delivered ? `installation result #${n.seqNumber} delivered` : `installation result #${n.seqNumber} still pending: ${n.error ?? ''}`,
  ].join('\n') + '\n';
}

function formatIpadReport(r: IpadReport): string {
  const lines = [`eUICC ${r.eid}, eIM ${r.eimId}`];
  if (r.fallback?.returned !== undefined) lines.push(`ReturnFromFallback: ${r.fallback.returned.result}${r.fallback.returned.to === undefined ? '' : `, ${r.fallback.returned.to} enabled`}`);
  if (r.fallback?.executed !== undefined) lines.push(`ExecuteFallbackMechanism: ${r.fallback.executed.result}, ${r.fallback.executed.from ?? '?'} -> ${r.fallback.executed.to ?? '?'}`);
  if (r.keptResultsDelivered > 0) lines.push(`${r.keptResultsDelivered} kept package result(s) delivered`);
  for (const p of r.packages) {
    const rollback = p.rollback === undefined ? '' : ` (${p.rollback.iccid} could not reach the eIM: ProfileRollback ${p.rollback.cmdResult})`;
    lines.push(`${p.kind}: ${p.outcome}${rollback}${p.acknowledged.length > 0 ? ` (acknowledged ${p.acknowledged.join(', ')})` : ''}`);
  }
  lines.push(`${r.notificationsDelivered} notification(s) delivered`, r.idle ? 'idle: no package left' : 'stopped at --max-packages: packages may remain');
  return `${lines.join('\n')}\n`;
}

function formatOperation(r: ProfileOperationResult): string {
  return `${r.operation}d ${r.iccid}\n${r.notifications.map(formatNotification).join('')}`;
}

function addCommon(cmd: Command): Command {
  return cmd
    .requiredOption('--state <file>', "the eUICC's sealed state file")
    .option('--secret-file <file>', `the device secret (hex; default <state>.secret; or $${SECRET_ENV})`)
    .addOption(new Option('--segment-size <bytes>', 'STORE DATA block size, 120 to 255').argParser((v) => parseWholeNumber(v, '--segment-size', 120, 255)))
    .option('--json', 'print JSON');
}

function addNetwork(cmd: Command): Command {
  return cmd
    .option('--ca <pem>', 'trusted CA certificate file for TLS (repeatable)', collect)
    .option('--connect <host:port>', 'connect there instead of resolving the server address');
}

/** Registers `mcim device`; `write` receives what the commands print (default: stdout). */
export function registerDevice(program: Command, write: (text: string) => void = (text) => void process.stdout.write(text)): void {
  const device = program
    .command('device')
    .description('a simulated device: its IPA driving a software eUICC over APDUs (SGP.22 LPA functions)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ mcim device init --state device.state --pki data/pki/p256',
        "  $ mcim device download --state device.state --ac 'LPA:1$localhost:8443$TS48V2' --ca data/pki/p256/ci.pem --connect 127.0.0.1:8443",
        '  $ mcim device profiles --state device.state --json',
        '  $ mcim device enable 8949449999999990049 --state device.state --ca data/pki/p256/ci.pem',
        '  $ mcim device notifications --state device.state --send --ca data/pki/p256/ci.pem',
      ].join('\n'),
    );

  device
    .command('init')
    .description('personalise a new software eUICC into a sealed state file')
    .requiredOption('--state <file>', "the eUICC's sealed state file to create")
    .option('--secret-file <file>', `the device secret (created if missing, mode 600; default <state>.secret; or $${SECRET_ENV})`)
    .option('--pki <dir>', "a test PKI directory (as `mcim pki init` or `mcim serve` write): its EUM issues the eUICC")
    .option('--sgp26 <dir>', 'take the eUICC identity (EID, keys, EUM, CI) of the GSMA SGP.26 test set in this folder')
    .addOption(new Option('--curve <curve>', 'curve of a new test PKI (without --pki) or of the SGP.26 identity').choices(Object.keys(CURVES)))
    .option('--eid <eid>', 'the EID (default: random within the EUM prefix)')
    .option('--key-passphrase-file <file>', 'with --pki from `mcim pki init`: its keys\' passphrase (default DIR.passphrase; or $MCIM_PKI_PASSPHRASE)')
    .option('--at-rest-key-file <file>', "with --pki inside an SM-DP+ data directory: the directory's at-rest key (default its secret.key; or $MCIM_AT_REST_KEY)")
    .option('--json', 'print JSON')
    .action((o: DeviceInitOptions & { json?: boolean }) => {
      const r = deviceInit(o);
      write(o.json ? json(r) : `eUICC ${r.eid} (${r.curve}) created in ${r.state}${r.secretFile ? `, secret in ${r.secretFile}` : ''}\n`);
    });

  addNetwork(addCommon(device.command('download').description('download and install a profile from an activation code (SGP.22 3.1.3)')))
    .requiredOption('--ac <code>', "activation code 'LPA:1$<SM-DP+ address>$<matching ID>[$<OID>$<1>]'")
    .option('--cc <code>', 'confirmation code')
    .action(async (o: NetworkCliOptions & { ac: string; cc?: string }) => {
      const http = httpOptions(o);
      const r = await withDevice(deviceOptions(o), (es10) =>
        downloadProfile(es10, {
          activationCode: o.ac,
          confirmationCode: o.cc,
          http,
          onProgress: o.json ? undefined : (step, detail) => process.stderr.write(`${step}: ${detail}\n`),
        }),
      );
      write(o.json ? json(r) : formatDownload(r));
    });

  addCommon(device.command('info').description('the EID (ES10c.GetEID)')).action(async (o: CommonCliOptions) => {
    const eid = await withDevice(deviceOptions(o), (es10) => getEid(es10));
    write(o.json ? json({ eid }) : `${eid}\n`);
  });

  addCommon(device.command('profiles').description('list the installed profiles (ES10c.GetProfilesInfo)')).action(async (o: CommonCliOptions) => {
    const profiles = await withDevice(deviceOptions(o), (es10) => listProfiles(es10));
    write(o.json ? json(profiles) : formatProfiles(profiles));
  });

  for (const operation of ['enable', 'disable', 'delete'] as const satisfies readonly ProfileOperation[]) {
    addNetwork(addCommon(device.command(`${operation} <iccid>`).description(`${operation} a profile (ES10c), then deliver the notifications`)))
      .option('--no-notify', 'leave the notifications pending')
      .action(async (iccid: string, o: NetworkCliOptions & { notify: boolean }) => {
        const http = httpOptions(o);
        const r = await withDevice(deviceOptions(o), (es10) => manageProfile(es10, operation, iccid, { notify: o.notify, http }));
        write(o.json ? json(r) : formatOperation(r));
      });
  }

  addNetwork(addCommon(device.command('notifications').description('list the pending notifications; --send delivers and removes them (SGP.22 3.5)')))
    .option('--send', 'deliver each to its address (ES9+ handleNotification) and remove it')
    .action(async (o: NetworkCliOptions & { send?: boolean }) => {
      const http = httpOptions(o);
      const list = await withDevice(deviceOptions(o), (es10) => (o.send ? sendPendingNotifications(es10, http) : listPendingNotifications(es10)));
      write(o.json ? json(list) : list.length === 0 ? 'no pending notifications\n' : list.map(formatNotification).join(''));
      if (list.some((n) => 'delivered' in n && !n.delivered)) process.exitCode = 1;
    });

  addRollbackOptions(addNetwork(addCommon(device.command('run').description("one IPAd cycle (SGP.32 3.1.1): deliver kept results, poll the eIM, execute its packages, report, deliver notifications; ends when the eIM has none left or at --max-packages")))
    .option('--eim <url>', "the eIM (https://host[:port]); default: the FQDN of the eUICC's only eIM")
    .addOption(new Option('--binding <binding>', 'ESipa binding').choices(['asn1', 'json']).default('asn1'))
    .option('--eim-ca <pem>', "trusted CA certificate file for the eIM's TLS (repeatable)", collect)
    .option('--eim-connect <host:port>', "connect there instead of resolving the eIM's address")
    .addOption(new Option('--max-packages <n>', `packages executed at most (default ${DEFAULT_MAX_PACKAGES})`).argParser((v) => parseWholeNumber(v, '--max-packages', 1, 1024)))
    .addOption(new Option('--state-change <cause>', 'tell the eIM that something changed locally (stateChangeCause 0-127)').argParser((v) => parseWholeNumber(v, '--state-change', 0, 127)))
    .addOption(
      new Option('--fallback-after <seconds>', 'Fallback Mechanism (SGP.32 3.4.6): ExecuteFallbackMechanism once the eIM cannot be reached over the enabled profile (--unreachable) for this long').argParser((v) =>
        parseWholeNumber(v, '--fallback-after', 0, MAX_FALLBACK_AFTER_MS / 1000),
      ),
    )
    .option('--return-from-fallback', 'with --fallback-after: ReturnFromFallback first (connectivity over the profile left is back)')
    .addOption(new Option('--listen <port>', "after the cycle, take the eIM's pushes (TransferEimPackage, inject mode) on this HTTPS port until SIGINT/SIGTERM or --listen-for").argParser((v) => parseWholeNumber(v, '--listen', 0, 65535)))
    .option('--listen-host <ip>', 'with --listen: the address to listen on (default 127.0.0.1)')
    .option('--listen-cert <pem>', "with --listen: the listener's TLS certificate (PEM; the eIM trusts its CA: mcim eim serve --push-ca)")
    .option('--listen-key <pem>', "with --listen: the listener's TLS private key (PEM, unencrypted)")
    .addOption(new Option('--listen-for <seconds>', 'with --listen: stop after this long').argParser((v) => parseWholeNumber(v, '--listen-for', 1, 86_400)))
    .option('--indirect', 'indirect mode (SGP.32 3.2.2): download through the eIM, which relays ES9+, and leave notifications to the eIM (removed once it has them)'))
    .action(async (o: NetworkCliOptions & { eim?: string; binding: 'asn1' | 'json'; eimCa?: string[]; eimConnect?: string; maxPackages?: number; stateChange?: number; rollbackAfter?: number; unreachable?: string[]; indirect?: boolean; fallbackAfter?: number; returnFromFallback?: boolean; listen?: number; listenHost?: string; listenCert?: string; listenKey?: string; listenFor?: number }) => {
      if (o.returnFromFallback === true && o.fallbackAfter === undefined) throw badInput('--return-from-fallback needs --fallback-after');
      if (o.listen !== undefined && (o.listenCert === undefined || o.listenKey === undefined || o.eimCa === undefined)) throw badInput('--listen needs --listen-cert, --listen-key and --eim-ca (the CA of the eIM\'s client certificate)');
      const smdpHttp = httpOptions(o);
      const eimHttp = httpOptions({ ...(o.eimCa === undefined ? {} : { ca: o.eimCa }), ...(o.eimConnect === undefined ? {} : { connect: o.eimConnect }) });
      const ipad: IpadOptions = {
        ...(o.eim === undefined ? {} : { eim: o.eim }),
        binding: o.binding,
        eimHttp,
        smdpHttp,
        ...(o.maxPackages === undefined ? {} : { maxPackages: o.maxPackages }),
        ...(o.stateChange === undefined ? {} : { stateChange: o.stateChange }),
        ...(o.indirect === true ? { indirect: true } : {}),
        ...rollbackOptions(o),
        ...(o.fallbackAfter === undefined ? {} : { fallbackAfterMs: o.fallbackAfter * 1000, returnFromFallback: o.returnFromFallback === true }),
        ...(o.json ? {} : { onProgress: (step: string, detail: string) => void process.stderr.write(`${step}: ${detail}\n`) }),
      };
      await withDevice(deviceOptions(o), async (es10) => {
        const r = await runIpad(es10, ipad);
        write(o.json ? json(r) : formatIpadReport(r));
        if (o.listen === undefined) return;
        const listener = await startPushListener(es10, {
          key: readFileSync(o.listenKey!),
          cert: readFileSync(o.listenCert!),
          eimCa: o.eimCa!.map((f) => readFileSync(f)),
          port: o.listen,
          ...(o.listenHost === undefined ? {} : { host: o.listenHost }),
          ipad,
          ...(ipad.onProgress === undefined ? {} : { onProgress: ipad.onProgress }),
        });
        process.stderr.write(`listening for TransferEimPackage on https://${o.listenHost ?? '127.0.0.1'}:${listener.port}/gsma/rsp2/asn1\n`);
        await untilStopped(o.listenFor === undefined ? undefined : o.listenFor * 1000);
        await listener.close();
        await listener.idle();
      });
    });

  addCommon(device.command('usim <query>').description("the enabled profile's USIM over APDUs: imsi, iccid, or authenticate (TS 31.102 7.1.2, 3G context)"))
    .option('--rand <hex>', 'authenticate: RAND (16 bytes)')
    .option('--autn <hex>', 'authenticate: AUTN (16 to 40 bytes)')
    .action(async (query: string, o: CommonCliOptions & { rand?: string; autn?: string }) => {
      const r = await usimQuery(o, query, o.rand, o.autn);
      write(o.json ? json(r) : `${Object.entries(r).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
    });

  addSimulateCommand(device, write);

  const network = '--ca data/pki/p256/ci.pem --connect 127.0.0.1:8443';
  const examples: Record<string, string> = {
    init: 'mcim device init --state device.state --pki data/pki/p256',
    download: `mcim device download --state device.state --ac 'LPA:1$localhost:8443$TS48V2' ${network}`,
    info: 'mcim device info --state device.state',
    profiles: 'mcim device profiles --state device.state --json',
    enable: `mcim device enable 8949449999999990049 --state device.state ${network}`,
    disable: `mcim device disable 8949449999999990049 --state device.state ${network}`,
    delete: `mcim device delete 8949449999999990049 --state device.state ${network}`,
    notifications: `mcim device notifications --state device.state --send ${network}`,
    run: `mcim device run --state device.state --eim https://eim.example.com --eim-ca eim-ca.pem --binding json --rollback-after 30 ${network}`,
    simulate: `mcim device simulate --count 100 --pki data/pki/p256 --eim https://eim.example.com --eim-id eim-1 --eim-public-key eim.pub.pem --eim-ca eim-ca.pem --registrations fleet.jsonl --rounds 10 --interval 30`,
    usim: 'mcim device usim authenticate --state device.state --rand 00112233445566778899AABBCCDDEEFF --autn 0123456789ABCDEF0123456789ABCDEF',
  };
  for (const command of device.commands) {
    const example = examples[command.name()];
    if (example) command.addHelpText('after', `\nExample:\n  $ ${example}`);
  }
}
