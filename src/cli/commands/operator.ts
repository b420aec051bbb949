// `mcim operator`: ES2+ (SGP.22 5.3) from both ends: the SM-DP+'s operator tenants (pinned client certificates), the operator's calls to the SM-DP+, and its HandleDownloadProgressInfo listener.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { McimError } from '../../errors.js';
import { activationCode } from '../../operator/activationCode.js';
import { cancelOrder, type FinalProfileStatus } from '../../operator/cancelOrder.js';
import { confirmOrder } from '../../operator/confirmOrder.js';
import { downloadOrder } from '../../operator/downloadOrder.js';
import { Es2PlusClient } from '../../operator/es2plusClient.js';
import { listenForDownloadProgress, normalizeFingerprint, type DownloadProgressInfo, type ProgressPeer } from '../../operator/handleDownloadProgressInfo.js';
import { DEFAULT_CREDENTIAL_HOSTS, issueOperatorCredentials } from '../../operator/operatorCredentials.js';
import { releaseProfile } from '../../operator/releaseProfile.js';
import { certificatesFromFile, parseCertificate } from '../../pki/certificate.js';
import { makePrivateDir, writePrivateFile } from '../../pki/privateFiles.js';
import { initSmdpDataDir, openSmdpStore, requireSmdpDataDir } from '../../smdpp/dataDir.js';
import { DATABASE_ENV, postgresConfig } from '../../store/database.js';
import { OperatorTenants, type TenantCertificate } from '../../store/operatorTenants.js';
import { parseWholeNumber } from '../wholeNumber.js';

// ---- tenant administration on the SM-DP+'s data directory ----

export interface TenantCliOptions {
  readonly data: string;
  /** PostgreSQL URL of the store; default $MCIM_DB, else the data directory's SQLite. */
  readonly db?: string;
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new McimError('INVALID_ARGUMENT', `cannot read ${what} ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function withTenants<T>(o: TenantCliOptions, run: (tenants: OperatorTenants) => Promise<T>): Promise<T> {
  requireSmdpDataDir(o.data);
  const store = await openSmdpStore(initSmdpDataDir(o.data), o.db === undefined ? undefined : postgresConfig(o.db));
  try {
    return await run(new OperatorTenants(store.db));
  } finally {
    await store.close();
  }
}

export interface CertificateReport {
  readonly fingerprint: string;
  readonly subject: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
}

function certificateReport(c: TenantCertificate): CertificateReport {
  return { fingerprint: c.fingerprint, subject: c.subject, notBefore: new Date(c.notBefore).toISOString(), notAfter: new Date(c.notAfter).toISOString() };
}

/** The first certificate of a PEM or DER file (the client's own, before any chain): its SHA-256 pin, subject and validity. */
export function pinnedCertificate(file: string): TenantCertificate {
  const der = certificatesFromFile(readInput(file, 'the client certificate'))[0]!;
  const certificate = parseCertificate(der);
  return {
    fingerprint: createHash('sha256').update(der).digest('hex'),
    subject: certificate.subject.text,
    notBefore: certificate.notBefore.getTime(),
    notAfter: certificate.notAfter.getTime(),
  };
}

export interface TenantAddCliOptions extends TenantCliOptions {
  readonly name: string;
  readonly requesterId: string;
  readonly cert: string;
  readonly callback?: string;
  readonly callbackCa?: string;
  /** Comma-separated notification point ids (SGP.22 5.3.5) the operator is called back at; default every point. */
  readonly notify?: string;
}

/** `--notify 1,3,4`: whole numbers separated by commas. */
function notificationPoints(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const points = text.split(',').map((p) => p.trim());
  if (points.some((p) => !/^\d{1,3}$/.test(p))) throw new McimError('INVALID_ARGUMENT', `--notify takes notification point ids separated by commas (e.g. 1,3,4), got '${text}'`);
  return points.map(Number);
}

export interface TenantReport {
  readonly operator: string;
  readonly functionRequesterIdentifier: string;
  readonly callbackUrl: string | null;
  readonly callbackCa: boolean;
  /** The notification points it is called back at; null: every point. */
  readonly notificationPoints: readonly number[] | null;
  readonly certificates: CertificateReport[];
}

/** Adds the operator with its first client certificate; nothing is written when the certificate is pinned already or unreadable. */
export async function operatorAdd(o: TenantAddCliOptions, now = Date.now()): Promise<TenantReport> {
  const certificate = pinnedCertificate(o.cert);
  const points = notificationPoints(o.notify);
  let callbackCa: string | undefined;
  if (o.callbackCa !== undefined) {
    const pem = readInput(o.callbackCa, 'the callback CA');
    certificatesFromFile(pem).forEach((der) => parseCertificate(der));
    callbackCa = pem.toString('utf8');
  }
  return withTenants(o, async (tenants) => {
    const holder = (await tenants.list()).find((t) => t.certificates.some((c) => c.fingerprint === certificate.fingerprint));
    if (holder !== undefined) throw new McimError('TENANT_EXISTS', `this certificate is already pinned to operator '${holder.operator}'`);
    await tenants.add(
      {
        operator: o.name,
        functionRequesterIdentifier: o.requesterId,
        ...(o.callback === undefined ? {} : { callbackUrl: o.callback }),
        ...(callbackCa === undefined ? {} : { callbackCa }),
        ...(points === undefined ? {} : { notificationPoints: points }),
      },
      now,
    );
    await tenants.addCertificate(o.name, certificate, now);
    return {
      operator: o.name,
      functionRequesterIdentifier: o.requesterId,
      callbackUrl: o.callback ?? null,
      callbackCa: callbackCa !== undefined,
      notificationPoints: points === undefined ? null : [...new Set(points)].sort((a, b) => a - b),
      certificates: [certificateReport(certificate)],
    };
  });
}

/** Pins another client certificate to an operator (a new one before the old expires). */
export async function operatorCertAdd(o: TenantCliOptions & { readonly name: string; readonly cert: string }, now = Date.now()): Promise<CertificateReport> {
  const certificate = pinnedCertificate(o.cert);
  await withTenants(o, (tenants) => tenants.addCertificate(o.name, certificate, now));
  return certificateReport(certificate);
}

/** Unpins a client certificate by its fingerprint (hex, ':' allowed) or by its file; NOT_FOUND when it is not pinned. */
export async function operatorCertRemove(o: TenantCliOptions & { readonly certificate: string }): Promise<string> {
  const fingerprint = existsSync(o.certificate) ? pinnedCertificate(o.certificate).fingerprint : normalizeFingerprint(o.certificate);
  const removed = await withTenants(o, (tenants) => tenants.removeCertificate(fingerprint));
  if (!removed) throw new McimError('NOT_FOUND', `no pinned client certificate ${fingerprint} (see mcim operator list)`);
  return fingerprint;
}

export async function operatorList(o: TenantCliOptions): Promise<TenantReport[]> {
  return withTenants(o, async (tenants) =>
    (await tenants.list()).map((t) => ({
      operator: t.operator,
      functionRequesterIdentifier: t.functionRequesterIdentifier,
      callbackUrl: t.callbackUrl ?? null,
      callbackCa: t.callbackCa !== undefined,
      notificationPoints: t.notificationPoints ?? null,
      certificates: t.certificates.map(certificateReport),
    })),
  );
}

function tenantText(t: TenantReport): string {
  const points = t.notificationPoints === null ? '' : `  points ${t.notificationPoints.join(',')}`;
  const lines = [`${t.operator}  requester ${t.functionRequesterIdentifier}  callback ${t.callbackUrl ?? '(none)'}${t.callbackCa ? ' (own CA)' : ''}${points}`];
  for (const c of t.certificates) lines.push(`  ${c.fingerprint}  ${c.subject}  ${c.notBefore} .. ${c.notAfter}`);
  if (t.certificates.length === 0) lines.push('  no client certificate: it cannot call');
  return `${lines.join('\n')}\n`;
}

// ---- the operator's trial credentials ----

export interface CredentialsReport {
  readonly certificate: string;
  readonly key: string;
  readonly fingerprint: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

export const CREDENTIAL_FILES = { certificate: 'operator.pem', key: 'operator.key' } as const;

/** Writes DIR/operator.pem and DIR/operator.key (0600) for NAME; refuses to overwrite either. */
export function operatorCredentialsInit(dir: string, o: { readonly name: string; readonly host?: readonly string[]; readonly days?: string }): CredentialsReport {
  const days = o.days === undefined ? undefined : parseWholeNumber(o.days, '--days', 1, 3650);
  const issued = issueOperatorCredentials(o.name, o.host === undefined || o.host.length === 0 ? DEFAULT_CREDENTIAL_HOSTS : o.host, days);
  const certificate = join(resolve(dir), CREDENTIAL_FILES.certificate);
  const key = join(resolve(dir), CREDENTIAL_FILES.key);
  for (const f of [certificate, key]) if (existsSync(f)) throw new McimError('FILE_EXISTS', `${f} exists: choose another directory`);
  makePrivateDir(dir);
  writePrivateFile(key, issued.privateKeyPem);
  writePrivateFile(certificate, issued.certificatePem);
  return { certificate, key, fingerprint: issued.fingerprint, notBefore: issued.notBefore.toISOString(), notAfter: issued.notAfter.toISOString() };
}

// ---- ES2+ calls to the SM-DP+ ----

export interface CallCliOptions {
  readonly smdp: string;
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly requesterId: string;
  readonly timeout?: string;
}

export function es2Client(o: CallCliOptions): Es2PlusClient {
  return new Es2PlusClient({
    smdpUrl: o.smdp,
    functionRequesterIdentifier: o.requesterId,
    cert: readInput(o.cert, 'the client certificate'),
    key: readInput(o.key, 'the client key'),
    ...(o.ca === undefined ? {} : { ca: readInput(o.ca, 'the SM-DP+ CA') }),
    ...(o.timeout === undefined ? {} : { timeoutMs: parseWholeNumber(o.timeout, '--timeout', 1, 600) * 1000 }),
  });
}

export async function operatorDownloadOrder(o: CallCliOptions & { readonly iccid?: string; readonly profileType?: string; readonly eid?: string }) {
  return downloadOrder(es2Client(o), {
    ...(o.eid === undefined ? {} : { eid: o.eid }),
    ...(o.iccid === undefined ? {} : { iccid: o.iccid }),
    ...(o.profileType === undefined ? {} : { profileType: o.profileType }),
  });
}

export interface ConfirmCliOptions extends CallCliOptions {
  readonly iccid: string;
  readonly eid?: string;
  readonly matchingId?: string;
  readonly cc?: string;
  readonly smds?: string;
  readonly release?: boolean;
  /** The SM-DP+'s ES9+ address for the activation code when its answer names none. */
  readonly smdpAddress?: string;
}

export interface ConfirmReport {
  readonly iccid: string;
  readonly eid: string | null;
  readonly matchingId: string;
  readonly smdpAddress: string | null;
  /** null when neither the SM-DP+ nor --smdp-address gave the address the device downloads from. */
  readonly activationCode: string | null;
  readonly released: boolean;
  readonly functionCallIdentifier: string;
}

export async function operatorConfirmOrder(o: ConfirmCliOptions): Promise<ConfirmReport> {
  const result = await confirmOrder(es2Client(o), {
    iccid: o.iccid,
    ...(o.eid === undefined ? {} : { eid: o.eid }),
    ...(o.matchingId === undefined ? {} : { matchingId: o.matchingId }),
    ...(o.cc === undefined ? {} : { confirmationCode: o.cc }),
    ...(o.smds === undefined ? {} : { smdsAddress: o.smds }),
    releaseFlag: o.release === true,
  });
  const address = result.smdpAddress ?? o.smdpAddress;
  return {
    iccid: o.iccid,
    eid: result.eid ?? null,
    matchingId: result.matchingId,
    smdpAddress: address ?? null,
    activationCode: address === undefined ? null : activationCode(address, result.matchingId, o.cc !== undefined),
    released: o.release === true,
    functionCallIdentifier: result.functionCallIdentifier,
  };
}

export async function operatorCancelOrder(o: CallCliOptions & { readonly iccid: string; readonly eid?: string; readonly matchingId?: string; readonly final: 'available' | 'unavailable' }) {
  const finalProfileStatusIndicator: FinalProfileStatus = o.final === 'available' ? 'Available' : 'Unavailable';
  return cancelOrder(es2Client(o), {
    iccid: o.iccid,
    ...(o.eid === undefined ? {} : { eid: o.eid }),
    ...(o.matchingId === undefined ? {} : { matchingId: o.matchingId }),
    finalProfileStatusIndicator,
  });
}

export async function operatorReleaseProfile(o: CallCliOptions & { readonly iccid: string }) {
  return releaseProfile(es2Client(o), o.iccid);
}

// ---- the HandleDownloadProgressInfo listener ----

/** One received notification as printed: one JSON object per line. */
export function progressLine(info: DownloadProgressInfo, peer: ProgressPeer, receivedAt: Date): string {
  const { resultData, ...fields } = info;
  return `${JSON.stringify({
    receivedAt: receivedAt.toISOString(),
    peer: { address: peer.address, certificateFingerprint: peer.certificateFingerprint ?? null },
    ...fields,
    ...(resultData === undefined ? {} : { resultData: resultData.toString('base64') }),
  })}\n`;
}

export interface ListenCliOptions {
  readonly port: string;
  readonly listen: string;
  readonly cert: string;
  readonly key: string;
  readonly smdpCertFingerprint?: readonly string[];
  readonly clientCa?: string;
  readonly count?: string;
}

function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new McimError('PORT_IN_USE', `port ${port} on ${host} is already in use`);
  if (code === 'EACCES') return new McimError('PORT_NOT_ALLOWED', `not allowed to listen on port ${port} on ${host}`);
  if (code === 'EADDRNOTAVAIL') return new McimError('INVALID_ARGUMENT', `--listen ${host}: no such interface on this host`);
  return e;
}

/** Serves until SIGINT/SIGTERM, or until --count notifications were printed. */
async function operatorListen(o: ListenCliOptions): Promise<void> {
  const port = parseWholeNumber(o.port, '--port', 0, 65535);
  const count = o.count === undefined ? undefined : parseWholeNumber(o.count, '--count', 1, 1_000_000);
  const pins = o.smdpCertFingerprint ?? [];
  if (pins.length > 0 && o.clientCa !== undefined) throw new McimError('INVALID_ARGUMENT', 'give --smdp-cert-fingerprint or --client-ca, not both');
  let received = 0;
  let stop: (() => void) | undefined;
  const done = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let listener;
  try {
    listener = await listenForDownloadProgress(
      {
        cert: readInput(o.cert, 'the TLS certificate'),
        key: readInput(o.key, 'the TLS key'),
        ...(pins.length > 0 ? { smdpCertificateFingerprints: pins } : {}),
        ...(o.clientCa === undefined ? {} : { clientCa: readInput(o.clientCa, 'the client CA') }),
        onProgress: (info, peer) => {
          if (count !== undefined && received >= count) return;
          process.stdout.write(progressLine(info, peer, new Date()));
          received++;
          if (count !== undefined && received >= count) stop?.();
        },
        onError: (e) => process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`),
      },
      port,
      o.listen,
    );
  } catch (e) {
    throw listenError(e, o.listen, port);
  }
  const authentication = pins.length > 0 ? 'pinned SM-DP+ certificates' : o.clientCa !== undefined ? 'client certificates of the CA' : 'no client certificate required';
  process.stderr.write(`mcim operator listening on https://${o.listen.includes(':') ? `[${o.listen}]` : o.listen}:${listener.port} (${authentication})\n`);
  const onSignal = (): void => stop?.();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await listener.close();
  }
}

// ---- registration ----

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json === true ? `${JSON.stringify(value, null, 2)}\n` : text);
}

function callOptions(c: Command): Command {
  return c
    .requiredOption('--smdp <url>', "the SM-DP+'s ES2+ base URL, https://HOST:PORT (mcim serve --es2plus-port)")
    .requiredOption('--cert <pem>', "the operator's TLS client certificate (PEM), pinned at the SM-DP+")
    .requiredOption('--key <pem>', 'its private key (PEM)')
    .option('--ca <pem>', "trust anchors of the SM-DP+'s TLS certificate (default: the system's)")
    .requiredOption('--requester-id <id>', 'functionRequesterIdentifier: the identity the SM-DP+ knows the operator by')
    .option('--timeout <seconds>', 'give up after this long (default 15)')
    .option('--json', 'print JSON');
}

export function registerOperator(program: Command): void {
  const operator = program.command('operator').description("ES2+ (SGP.22 5.3): the SM-DP+'s operators, and the operator's calls and progress listener");
  const tenantOptions = (c: Command): Command =>
    c
      .option('--data <dir>', 'the SM-DP+ data directory', './data')
      .option('--db <url>', `PostgreSQL for the store, postgres://USER@HOST:PORT/DATABASE[?schema=NAME] (default: $${DATABASE_ENV}, else SQLite in the data directory)`)
      .option('--json', 'print JSON');

  tenantOptions(
    operator
      .command('add <name>')
      .description('let an operator call the SM-DP+ over ES2+: its functionRequesterIdentifier and its TLS client certificate (pinned by SHA-256)')
      .addHelpText('after', '\nExample:\n  $ mcim operator add acme --requester-id acme-1 --cert acme/operator.pem --callback https://acme.example:9443 --data ./data')
      .requiredOption('--requester-id <id>', 'the functionRequesterIdentifier its calls carry')
      .requiredOption('--cert <pem>', 'its TLS client certificate (PEM or DER; the first of a chain is pinned)')
      .option('--callback <url>', 'https base URL of its HandleDownloadProgressInfo endpoint')
      .option('--callback-ca <pem>', "trust anchors of the callback endpoint's TLS certificate (default: the system's)")
      .option('--notify <ids>', 'notification points to call back at, e.g. 1,3,4 (SGP.22 5.3.5: 1 eligibility, 2 confirmation failure, 3 BPP download, 4 installation; 100-102 enable/disable/delete); default every point'),
  ).action(async (name: string, o: Omit<TenantAddCliOptions, 'name'> & { json?: boolean }) => {
    const t = await operatorAdd({ ...o, name });
    print(o.json, t, tenantText(t));
  });

  tenantOptions(operator.command('list').description('the operators, their callback endpoints and pinned client certificates')).action(async (o: TenantCliOptions & { json?: boolean }) => {
    const tenants = await operatorList(o);
    print(o.json, tenants, tenants.length === 0 ? 'no operators\n' : tenants.map(tenantText).join(''));
  });

  const cert = operator.command('cert').description("an operator's pinned TLS client certificates");
  tenantOptions(cert.command('add <name>').description('pin another client certificate to the operator').requiredOption('--cert <pem>', 'the client certificate (PEM or DER)')).action(
    async (name: string, o: TenantCliOptions & { cert: string; json?: boolean }) => {
      const c = await operatorCertAdd({ ...o, name });
      print(o.json, c, `${c.fingerprint} pinned to ${name}\n`);
    },
  );
  tenantOptions(cert.command('remove <certificate>').description('unpin a client certificate: its SHA-256 fingerprint (hex) or its file')).action(
    async (certificate: string, o: TenantCliOptions & { json?: boolean }) => {
      const fingerprint = await operatorCertRemove({ ...o, certificate });
      print(o.json, { fingerprint, removed: true }, `${fingerprint} removed\n`);
    },
  );

  operator
    .command('credentials')
    .description("an operator's trial TLS credentials")
    .command('init <dir>')
    .description(`write a self-signed P-256 certificate (client and server) and its key: DIR/${CREDENTIAL_FILES.certificate}, DIR/${CREDENTIAL_FILES.key} (0600)`)
    .requiredOption('--name <name>', "the operator's name (the certificate's CN)")
    .option('--host <name>', `a host name or IP address the listener is reached at, repeatable (default: ${DEFAULT_CREDENTIAL_HOSTS.join(', ')})`, collect, [])
    .option('--days <n>', 'validity in days (default 365)')
    .option('--json', 'print JSON')
    .action((dir: string, o: { name: string; host: string[]; days?: string; json?: boolean }) => {
      const r = operatorCredentialsInit(dir, o);
      print(o.json, r, `certificate ${r.certificate}\nkey         ${r.key}\nSHA-256     ${r.fingerprint}\nvalid       ${r.notBefore} .. ${r.notAfter}\n`);
    });

  callOptions(
    operator
      .command('download-order')
      .description('ES2+.DownloadOrder: reserve a profile by ICCID or profile type, optionally for an EID')
      .option('--iccid <iccid>', 'the profile to reserve')
      .option('--profile-type <type>', 'any profile of this type')
      .option('--eid <eid>', 'link the order to this eUICC'),
  ).action(async (o: Parameters<typeof operatorDownloadOrder>[0] & { json?: boolean }) => {
    const r = await operatorDownloadOrder(o);
    print(o.json, r, `reserved ${r.iccid}\n`);
  });

  callOptions(
    operator
      .command('confirm-order')
      .description('ES2+.ConfirmOrder: confirm a reserved profile; prints its matching ID and activation code')
      .requiredOption('--iccid <iccid>', 'the reserved profile')
      .option('--eid <eid>', 'the eUICC (the one given to download-order, if any)')
      .option('--matching-id <id>', 'the matching ID (default: the SM-DP+ generates one; empty: Default SM-DP+ use)')
      .option('--cc <code>', 'a confirmation code the end user must enter')
      .option('--smds <fqdn>', 'register the event at this SM-DS')
      .option('--release', 'release at once (else: mcim operator release-profile)')
      .option('--smdp-address <host:port>', "the SM-DP+'s ES9+ address for the activation code when its answer names none"),
  ).action(async (o: ConfirmCliOptions & { json?: boolean }) => {
    const r = await operatorConfirmOrder(o);
    print(
      o.json,
      r,
      `matching ID     ${r.matchingId}\nactivation code ${r.activationCode ?? '(the SM-DP+ named no address: give --smdp-address)'}\n${r.released ? 'released\n' : 'not released: mcim operator release-profile\n'}`,
    );
  });

  callOptions(
    operator
      .command('cancel-order')
      .description('ES2+.CancelOrder: end a pending order; the profile goes back to stock or is retired')
      .requiredOption('--iccid <iccid>', 'the profile')
      .option('--eid <eid>', 'the EID of the order, if any')
      .option('--matching-id <id>', 'the matching ID of the order, if any')
      .addOption(new Option('--final <status>', 'what becomes of the profile').choices(['available', 'unavailable']).makeOptionMandatory()),
  ).action(async (o: Parameters<typeof operatorCancelOrder>[0] & { json?: boolean }) => {
    const r = await operatorCancelOrder(o);
    print(o.json, { iccid: o.iccid, final: o.final, ...r }, `cancelled ${o.iccid} (${o.final})\n`);
  });

  callOptions(operator.command('release-profile').description('ES2+.ReleaseProfile: make a confirmed profile downloadable').requiredOption('--iccid <iccid>', 'the profile')).action(
    async (o: CallCliOptions & { iccid: string; json?: boolean }) => {
      const r = await operatorReleaseProfile(o);
      print(o.json, { iccid: o.iccid, ...r }, `released ${o.iccid}\n`);
    },
  );

  operator
    .command('listen')
    .description('receive ES2+.HandleDownloadProgressInfo from the SM-DP+: each notification is printed as one JSON line')
    .addHelpText('after', '\nExample:\n  $ mcim operator listen --port 9443 --cert acme/operator.pem --key acme/operator.key --smdp-cert-fingerprint 3f1c...')
    .requiredOption('--port <n>', 'TCP port (0: any free one, printed)')
    .option('--listen <ip>', 'interface to listen on', '127.0.0.1')
    .requiredOption('--cert <pem>', 'the TLS certificate (PEM)')
    .requiredOption('--key <pem>', 'its private key (PEM)')
    .option('--smdp-cert-fingerprint <hex>', "accept only the SM-DP+'s client certificate with this SHA-256, repeatable", collect, [])
    .option('--client-ca <pem>', 'accept only client certificates of these trust anchors')
    .option('--count <n>', 'exit after N notifications')
    .action(async (o: ListenCliOptions) => operatorListen(o));
}
