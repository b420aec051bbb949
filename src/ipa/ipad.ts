// SGP.32 v1.2 3.1.1 (eIM package retrieval) and 3.2-3.6: the IPAd's cycle: deliver the package results its eUICC keeps, poll the eIM, execute each package on the eUICC over ES10 (LoadEuiccPackage, IpaEuiccData, a profile download from the SM-DP+), report the result (rolling back an enable whose new profile cannot reach the eIM, 3.4.1.1), remove what the eIM acknowledged, deliver the notifications.
import { EUICCInfo1, ProfileInstallationResult, namedBitString } from '../asn1/definitions/rsp.js';
import { iccidDigitsFromEf } from '../asn1/definitions/saip.js';
import {
  EuiccPackageRequest,
  ProfileRollbackResult,
  IpaEuiccDataErrorCode,
  IpaEuiccDataRequest,
  IpaEuiccDataResponse,
  IpaFeature,
  PendingNotification,
  ProfileDownloadErrorReason,
  ProfileDownloadTriggerRequest,
  ProfileDownloadTriggerResult,
  type EimConfigurationData,
  type EuiccPackageResult,
  type IpaEuiccData,
} from '../asn1/definitions/sgp32.js';
import { decode, encode } from '../asn1/schema.js';
import { getEuiccConfiguredAddresses } from './es10a/getEuiccConfiguredAddresses.js';
import { getCerts } from './es10b/getCerts.js';
import { getEimConfigurationData } from './es10b/getEimConfigurationData.js';
import { getEuiccInfo1, getEuiccInfo2 } from './es10b/getEuiccInfo.js';
import { loadEuiccPackage, type LoadedPackage } from './es10b/loadEuiccPackage.js';
import { profileRollback } from './es10b/profileRollback.js';
import { removeNotificationFromList } from './es10b/removeNotificationFromList.js';
import { retrieveEuiccPackageResults } from './es10b/retrieveEuiccPackageResults.js';
import { retrieveNotificationsList } from './es10b/retrieveNotificationsList.js';
import { getEid } from './es10c/getEid.js';
import type { Es10Client } from './es10Client.js';
import { McimError } from '../errors.js';
import { IpaError } from './errors.js';
import { EsipaClient, type EsipaBinding } from './esipa/esipaClient.js';
import { getEimPackage } from './esipa/getEimPackage.js';
import { handleNotification as esipaHandleNotification } from './esipa/handleNotification.js';
import { esipaDownloadServer } from './esipa/indirectDownload.js';
import { provideEimPackageResult } from './esipa/provideEimPackageResult.js';
import { Es9PlusClient } from './es9plus/es9plusClient.js';
import { handleNotification as es9HandleNotification } from './es9plus/handleNotification.js';
import type { HttpsClientOptions } from './httpsClient.js';
import { summarizeNotification } from './notifications.js';
import { DEFAULT_DEVICE_INFO, downloadProfile } from './profileDownload.js';
import { ensureConnectivity, type FallbackOptions, type FallbackReport } from './ipadFallback.js';

/** Packages one cycle executes at most (the cycle ends earlier when the eIM has none left). */
export const DEFAULT_MAX_PACKAGES = 16;
/** How long the IPAd tries to reach the eIM over a profile enabled with rollbackFlag before it rolls back (SGP.32 leaves the time to the device). */
export const DEFAULT_ROLLBACK_AFTER_MS = 60_000;
/** The most a device waits for a new profile's connectivity: one hour. */
export const MAX_ROLLBACK_AFTER_MS = 3_600_000;

export interface IpadOptions extends FallbackOptions {
  /** The eIM: `https://host[:port]`; default: the FQDN of the eUICC's only associated eIM. */
  readonly eim?: string;
  readonly binding?: EsipaBinding;
  /** TLS trust and routing towards the eIM. */
  readonly eimHttp?: HttpsClientOptions;
  /** TLS trust and routing towards SM-DP+ servers (downloads, notifications). */
  readonly smdpHttp?: HttpsClientOptions;
  readonly maxPackages?: number;
  /** Tell the eIM that something changed locally (GetEimPackage notifyStateChange) with this cause (StateChangeCause). */
  readonly stateChange?: number;
  /**
   * Connectivity, simulated: whether the eIM can be reached over the profile with this ICCID once it is enabled
   * (default: always). After an enable that carried rollbackFlag, the IPAd reports its result over the new profile;
   * while this answers false (or the report fails in transport) it retries until rollbackAfterMs pass, then executes
   * ES10b.ProfileRollback and reports the rollback's result instead.
   */
  readonly reachable?: (iccid: string) => boolean | Promise<boolean>;
  /** The time the new profile has to reach the eIM (default DEFAULT_ROLLBACK_AFTER_MS; 0 rolls back at the first failure). */
  readonly rollbackAfterMs?: number;
  /**
   * Indirect mode (SGP.32 3.2.2, 3.6): downloads go through the eIM (ESipa relay of ES9+), and notifications are left to
   * the eIM, which forwards them to their SM-DP+: each is removed once the eIM has it. Default: the IPAd reaches the
   * SM-DP+ itself.
   */
  readonly indirect?: boolean;
  readonly onProgress?: (step: string, detail: string) => void;
}

/** An enable with rollbackFlag whose profile could not reach the eIM, and what ProfileRollback answered. */
export interface RollbackReport {
  /** The profile the package enabled (ICCID digits). */
  readonly iccid: string;
  /** ProfileRollbackResult's name: ok, rollbackNotAllowed, catBusy, commandError, undefinedError. */
  readonly cmdResult: string;
}

export interface PackageReport {
  readonly kind: 'euiccPackageRequest' | 'ipaEuiccDataRequest' | 'profileDownloadTriggerRequest';
  /** What the device did: the eUICC's answer type, or the download's ICCID / error. */
  readonly outcome: string;
  /** Sequence numbers the eIM acknowledged (removed from the eUICC). */
  readonly acknowledged: readonly number[];
  /** Present when the package enabled a profile with rollbackFlag that could not reach the eIM. */
  readonly rollback?: RollbackReport;
}

export interface IpadReport {
  readonly eid: string;
  readonly eimId: string;
  /** Package results the eUICC kept from before, delivered first. */
  readonly keptResultsDelivered: number;
  readonly packages: readonly PackageReport[];
  /** Notifications delivered to their SM-DP+ (in indirect mode: to the eIM) and removed. */
  readonly notificationsDelivered: number;
  /** Whether the eIM had nothing more: false when the cycle stopped at maxPackages. */
  readonly idle: boolean;
  /** The Fallback Mechanism (SGP.32 3.4.6) before the cycle, when fallbackAfterMs is set and it did something. */
  readonly fallback?: FallbackReport;
}

/** The eIM this IPA polls: the configured URL's, matched by FQDN, or the only associated eIM's. */
function resolveEim(configs: readonly EimConfigurationData[], url: string | undefined): { eimId: string; url: string } {
  if (url !== undefined) {
    let host: string;
    try {
      host = new URL(url).host.toLowerCase();
    } catch {
      throw new IpaError('INVALID_ARGUMENT', `'${url}' is not a URL`);
    }
    const byFqdn = configs.find((c) => c.eimFqdn?.toLowerCase() === host || c.eimFqdn?.toLowerCase() === host.replace(/:\d+$/, ''));
    const config = byFqdn ?? (configs.length === 1 ? configs[0] : undefined);
    if (config === undefined) throw new IpaError('INVALID_ARGUMENT', `no eIM associated with the eUICC has the FQDN ${host}`);
    return { eimId: config.eimId, url };
  }
  if (configs.length !== 1 || configs[0]!.eimFqdn === undefined) {
    throw new IpaError('INVALID_ARGUMENT', `the eUICC has ${configs.length} associated eIMs: give the eIM's URL`);
  }
  return { eimId: configs[0]!.eimId, url: `https://${configs[0]!.eimFqdn}` };
}

function eimIdOf(r: EuiccPackageResult): string {
  if (r.type === 'euiccPackageResultSigned') return r.value.euiccPackageResultDataSigned.value.eimId;
  if (r.type === 'euiccPackageErrorSigned') return r.value.euiccPackageErrorDataSigned.value.eimId;
  return r.value.eimId;
}

/** A signed result's or error's package: its eimId and counter (an unsigned error has none). */
function packageKey(r: EuiccPackageResult): string | undefined {
  if (r.type === 'euiccPackageResultSigned') return `${r.value.euiccPackageResultDataSigned.value.eimId}/${r.value.euiccPackageResultDataSigned.value.counterValue}`;
  if (r.type === 'euiccPackageErrorSigned') return `${r.value.euiccPackageErrorDataSigned.value.eimId}/${r.value.euiccPackageErrorDataSigned.value.counterValue}`;
  return undefined;
}

function seqNumberOf(r: EuiccPackageResult): number | undefined {
  return r.type === 'euiccPackageResultSigned' ? r.value.euiccPackageResultDataSigned.value.seqNumber : undefined;
}

/** The ICCID (digits) a package enabled with rollbackFlag, when its enable succeeded (enableResult ok); else undefined. */
function enabledWithRollback(request: Buffer, answer: LoadedPackage): string | undefined {
  if (answer.value.type !== 'euiccPackageResultSigned') return undefined;
  const pkg = decode(EuiccPackageRequest, request).euiccPackageSigned.value.euiccPackage;
  if (pkg.type !== 'psmoList') return undefined;
  const results = answer.value.value.euiccPackageResultDataSigned.value.euiccResult;
  for (const [i, psmo] of pkg.value.entries()) {
    if (psmo.type !== 'enable' || psmo.value.rollbackFlag === undefined) continue;
    const result = results[i];
    if (result?.type !== 'enableResult' || result.value !== 0) return undefined;
    return iccidDigitsFromEf(psmo.value.iccid);
  }
  return undefined;
}

/**
 * SGP.32 3.4.1.1: the result of an enable with rollbackFlag goes to the eIM over the newly enabled profile. While the
 * eIM cannot be reached over it (o.reachable, or a transport failure) the IPAd retries until rollbackAfterMs pass; then
 * ES10b.ProfileRollback re-enables the previous profile and the rollback's signed result (same eimId, counter and
 * eimTransactionId) is reported instead, over the previous profile; the superseded enable result is removed with it.
 * A rollback the eUICC refuses leaves the enable result to be reported as it is.
 */
async function reportOverNewProfile(
  es10: Es10Client,
  client: EsipaClient,
  eid: Buffer,
  iccid: string,
  answer: LoadedPackage,
  o: IpadOptions,
  acknowledge: (seqNumbers: readonly number[]) => Promise<void>,
  progress: (step: string, detail: string) => void,
): Promise<PackageReport> {
  const kind = 'euiccPackageRequest';
  const waitMs = o.rollbackAfterMs ?? DEFAULT_ROLLBACK_AFTER_MS;
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_ROLLBACK_AFTER_MS) throw new IpaError('INVALID_ARGUMENT', `rollbackAfterMs is 0 to ${MAX_ROLLBACK_AFTER_MS}`);
  const retryMs = Math.min(1000, Math.max(10, Math.floor(waitMs / 10)));
  const deadline = Date.now() + waitMs;
  for (;;) {
    if ((await (o.reachable ?? (() => true))(iccid)) === true) {
      try {
        const acknowledged = await provideEimPackageResult(client, eid, answer.der);
        await acknowledge(acknowledged);
        return { kind, outcome: answer.value.type, acknowledged };
      } catch (e) {
        if (!(e instanceof McimError && e.code === 'TRANSPORT_ERROR')) throw e;
        progress('rollback', `the eIM is not reachable over ${iccid}: ${e.message}`);
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, left)));
  }
  progress('rollback', `no contact with the eIM over ${iccid} within ${waitMs} ms: ProfileRollback`);
  const rolled = await profileRollback(es10);
  const rollback: RollbackReport = { iccid, cmdResult: rolled.cmdResultName };
  if (rolled.cmdResult !== ProfileRollbackResult.ok || rolled.result === undefined) {
    const acknowledged = await provideEimPackageResult(client, eid, answer.der);
    await acknowledge(acknowledged);
    return { kind, outcome: answer.value.type, acknowledged, rollback };
  }
  const acknowledged = await provideEimPackageResult(client, eid, rolled.result.der);
  await acknowledge(acknowledged);
  const superseded = seqNumberOf(answer.value);
  if (acknowledged.length > 0 && superseded !== undefined) await acknowledge([superseded]);
  return { kind, outcome: 'rollbackResult', acknowledged, rollback };
}

/** One IPAd cycle against the eUICC behind `es10`, bounded by maxPackages. */
export async function runIpad(es10: Es10Client, o: IpadOptions = {}): Promise<IpadReport> {
  const progress = o.onProgress ?? (() => undefined);
  const maxPackages = o.maxPackages ?? DEFAULT_MAX_PACKAGES;
  if (!Number.isInteger(maxPackages) || maxPackages < 1 || maxPackages > 1024) throw new IpaError('INVALID_ARGUMENT', 'maxPackages is 1 to 1024');
  const eidText = await getEid(es10);
  const eid = Buffer.from(eidText, 'hex');
  const configs = await getEimConfigurationData(es10);
  const { eimId, url } = resolveEim(configs, o.eim);
  const connectivity = await ensureConnectivity(es10, o, progress);
  const client = new EsipaClient(url, o.binding ?? 'asn1', o.eimHttp);
  try {
    const acknowledge = async (seqNumbers: readonly number[]): Promise<void> => {
      for (const seq of seqNumbers) await removeNotificationFromList(es10, seq).catch(() => undefined);
    };
    // 1. Results the eUICC kept (an earlier cycle ended before the eIM acknowledged them); of two results of one
    // package (an enable, then its rollback), the later one stands and the earlier is removed with it.
    let keptResultsDelivered = 0;
    const kept = (await retrieveEuiccPackageResults(es10)).filter((r) => eimIdOf(r.value) === eimId);
    for (const [i, result] of kept.entries()) {
      const key = packageKey(result.value);
      if (key !== undefined && kept.slice(i + 1).some((later) => packageKey(later.value) === key)) continue;
      const acknowledged = await provideEimPackageResult(client, eid, result.der);
      await acknowledge(acknowledged);
      if (key !== undefined && acknowledged.length > 0) {
        await acknowledge(kept.slice(0, i).filter((earlier) => packageKey(earlier.value) === key).flatMap((earlier) => seqNumberOf(earlier.value) ?? []));
      }
      keptResultsDelivered++;
    }
    // 2. The packages, oldest first.
    const packages: PackageReport[] = [];
    let idle = false;
    let stateChange = connectivity.stateChange ?? o.stateChange;
    while (packages.length < maxPackages) {
      const pkg = await getEimPackage(client, {
        eidValue: eid,
        ...(stateChange === undefined ? {} : { notifyStateChange: null, stateChangeCause: stateChange }),
      });
      stateChange = undefined;
      if (pkg.kind === 'none') {
        idle = true;
        break;
      }
      progress(pkg.kind, `${pkg.der.length} bytes`);
      let report: PackageReport;
      switch (pkg.kind) {
        case 'euiccPackageRequest': {
          const answer = await loadEuiccPackage(es10, pkg.der);
          const enabled = enabledWithRollback(pkg.der, answer);
          if (enabled === undefined) {
            const acknowledged = await provideEimPackageResult(client, eid, answer.der);
            await acknowledge(acknowledged);
            report = { kind: pkg.kind, outcome: answer.value.type, acknowledged };
            break;
          }
          report = await reportOverNewProfile(es10, client, eid, enabled, answer, o, acknowledge, progress);
          break;
        }
        case 'ipaEuiccDataRequest': {
          const response = await ipaEuiccData(es10, pkg.der, eimId, configs, o.indirect === true);
          const acknowledged = await provideEimPackageResult(client, eid, response.der);
          await acknowledge(acknowledged);
          report = { kind: pkg.kind, outcome: response.outcome, acknowledged };
          break;
        }
        case 'profileDownloadTriggerRequest': {
          const result = await profileDownload(es10, pkg.der, o.smdpHttp, progress, o.indirect === true ? client : undefined);
          const acknowledged = await provideEimPackageResult(client, eid, result.der);
          await acknowledge(acknowledged);
          report = { kind: pkg.kind, outcome: result.outcome, acknowledged };
          break;
        }
      }
      packages.push(report);
    }
    // 3. The notifications the packages produced: to the eIM, then to their SM-DP+, removed once delivered there.
    const notificationsDelivered = await deliverNotifications(es10, client, o.smdpHttp, progress, o.indirect === true);
    const fallback = Object.keys(connectivity.report).length === 0 ? {} : { fallback: connectivity.report };
    return { eid: eidText, eimId, keptResultsDelivered, packages, notificationsDelivered, idle, ...fallback };
  } finally {
    client.close();
  }
}

/**
 * Each pending notification goes to the eIM (HandleNotification) and to its SM-DP+ (ES9+), and is removed once the
 * SM-DP+ has it; in indirect mode it is removed once the eIM has it (the eIM forwards it).
 */
async function deliverNotifications(
  es10: Es10Client,
  eim: EsipaClient,
  http: HttpsClientOptions | undefined,
  progress: (step: string, detail: string) => void,
  viaEim: boolean,
): Promise<number> {
  let delivered = 0;
  const clients = new Map<string, Es9PlusClient>();
  try {
    for (const n of await retrieveNotificationsList(es10)) {
      const summary = summarizeNotification(n.metadata);
      try {
        await esipaHandleNotification(eim, n.der);
        if (viaEim) {
          await removeNotificationFromList(es10, summary.seqNumber);
          delivered++;
          continue;
        }
      } catch (e) {
        progress('notification', `the eIM refused notification ${summary.seqNumber}: ${e instanceof Error ? e.message : String(e)}`);
        if (viaEim) continue;
      }
      try {
        const key = summary.notificationAddress.toLowerCase();
        let smdp = clients.get(key);
        if (smdp === undefined) {
          smdp = new Es9PlusClient(summary.notificationAddress, http);
          clients.set(key, smdp);
        }
        await es9HandleNotification(smdp, n.der);
        await removeNotificationFromList(es10, summary.seqNumber);
        delivered++;
      } catch (e) {
        progress('notification', `notification ${summary.seqNumber} stays pending: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
  return delivered;
}

/** Splits a tag list into its tags (a first byte with 1F in its low bits continues while b8 is set). */
function tagsOf(list: Buffer): number[] | undefined {
  const tags: number[] = [];
  for (let i = 0; i < list.length; ) {
    let tag = list[i++]!;
    if ((tag & 0x1f) === 0x1f) {
      let more = true;
      while (more) {
        if (i >= list.length || tag > 0xffff) return undefined;
        const b = list[i++]!;
        tag = (tag << 8) | b;
        more = (b & 0x80) !== 0;
      }
    }
    tags.push(tag);
  }
  return tags;
}

/** SGP.32 2.11.2.2: the IpaEuiccData components the tag list asks for, gathered over ES10; an unknown tag (5A among them) is incorrectTagList. */
export async function ipaEuiccData(es10: Es10Client, der: Buffer, eimId: string, configs: readonly EimConfigurationData[], indirect: boolean): Promise<{ der: Buffer; outcome: string }> {
  const request = decode(IpaEuiccDataRequest, der);
  const tx = request.eimTransactionId === undefined ? {} : { eimTransactionId: request.eimTransactionId };
  const error = (code: number): { der: Buffer; outcome: string } => ({
    der: encode(IpaEuiccDataResponse, { type: 'ipaEuiccDataResponseError', value: { ...tx, ipaEuiccDataErrorCode: code } }),
    outcome: `ipaEuiccDataResponseError ${code}`,
  });
  const tags = tagsOf(request.tagList);
  if (tags === undefined || tags.length === 0) return error(IpaEuiccDataErrorCode.incorrectTagList);
  const data: IpaEuiccData = { ...tx };
  for (const tag of new Set(tags)) {
    switch (tag) {
      case 0xa0:
        data.notificationsList = (await retrieveNotificationsList(es10)).map((n) => decode(PendingNotification, n.der));
        break;
      case 0x81: {
        const addresses = await getEuiccConfiguredAddresses(es10);
        if (addresses.defaultDpAddress !== undefined) data.defaultSmdpAddress = addresses.defaultDpAddress;
        break;
      }
      case 0x83:
        data.rootSmdsAddress = (await getEuiccConfiguredAddresses(es10)).rootDsAddress;
        break;
      case 0xa2:
        data.euiccPackageResultList = (await retrieveEuiccPackageResults(es10)).map((r) => r.value);
        break;
      case 0xbf20:
        data.euiccInfo1 = decode(EUICCInfo1, (await getEuiccInfo1(es10)).der);
        break;
      case 0xbf22:
        data.euiccInfo2 = await getEuiccInfo2(es10);
        break;
      case 0x84: {
        const token = configs.find((c) => c.eimId === eimId)?.associationToken;
        if (token !== undefined) data.associationToken = token;
        break;
      }
      case 0xa5:
      case 0xa6: {
        const certs = await getCerts(es10, request.euiccCiPKIdentifierToBeUsed);
        if (tag === 0xa5) data.eumCertificate = certs.eumCertificate;
        else data.euiccCertificate = certs.euiccCertificate;
        break;
      }
      case 0xa8:
        data.ipaCapabilities = { ipaFeatures: namedBitString([indirect ? IpaFeature.indirectRspServerCommunication : IpaFeature.directRspServerCommunication]) };
        break;
      case 0xa9:
        data.deviceInfo = DEFAULT_DEVICE_INFO;
        break;
      default:
        return error(IpaEuiccDataErrorCode.incorrectTagList);
    }
  }
  return { der: encode(IpaEuiccDataResponse, { type: 'ipaEuiccData', value: data }), outcome: 'ipaEuiccData' };
}

/** SGP.32 3.2.1: a download trigger run as SGP.22 3.1.3 against the SM-DP+; the installation result (or the error) goes back as ProfileDownloadTriggerResult. */
export async function profileDownload(
  es10: Es10Client,
  der: Buffer,
  http: HttpsClientOptions | undefined,
  progress: (step: string, detail: string) => void,
  viaEim: EsipaClient | undefined,
): Promise<{ der: Buffer; outcome: string }> {
  const request = decode(ProfileDownloadTriggerRequest, der);
  const tx = request.eimTransactionId === undefined ? {} : { eimTransactionId: request.eimTransactionId };
  const failed = (detail: string): { der: Buffer; outcome: string } => ({
    der: encode(ProfileDownloadTriggerResult, {
      ...tx,
      profileDownloadTriggerResultData: { type: 'profileDownloadError', value: { profileDownloadErrorReason: ProfileDownloadErrorReason.undefinedError } },
    }),
    outcome: `profileDownloadError: ${detail}`,
  });
  const data = request.profileDownloadData;
  let activationCode: string;
  if (data?.type === 'activationCode') {
    activationCode = data.value;
  } else if (data?.type === 'contactDefaultSmdp') {
    const address = (await getEuiccConfiguredAddresses(es10)).defaultDpAddress;
    if (address === undefined || address === '') return failed('no default SM-DP+ address on the eUICC');
    activationCode = `1$${address}$`;
  } else {
    return failed('no activation code and no default SM-DP+ (SM-DS is not supported)');
  }
  let pir: Buffer | undefined;
  try {
    const r = await downloadProfile(es10, {
      activationCode,
      ...(http === undefined ? {} : { http }),
      ...(viaEim === undefined ? {} : { server: esipaDownloadServer(viaEim, request.eimTransactionId) }),
      onInstallationResult: (b) => (pir = b),
      onProgress: progress,
    });
    return { der: withPir(tx, pir!), outcome: `installed ${r.iccid}` };
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    // An installation that failed on the eUICC has its signed result: the eIM gets that, not a bare error.
    return pir === undefined ? failed(detail) : { der: withPir(tx, pir), outcome: `installation failed: ${detail}` };
  }
}

function withPir(tx: { eimTransactionId?: Buffer }, pir: Buffer): Buffer {
  return encode(ProfileDownloadTriggerResult, { ...tx, profileDownloadTriggerResultData: { type: 'profileInstallationResult', value: decode(ProfileInstallationResult, pir) } });
}

