// SGP.32 v1.2 3.1.1 (eIM package retrieval) and 3.2-3.6: the IPAd's cycle: deliver the package results its eUICC keeps, poll the eIM, execute each package on the eUICC over ES10 (LoadEuiccPackage, IpaEuiccData, a profile download from the SM-DP+), report the result, remove what the eIM acknowledged, deliver the notifications.
import { EUICCInfo1, ProfileInstallationResult, namedBitString } from '../asn1/definitions/rsp.js';
import {
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
import { loadEuiccPackage } from './es10b/loadEuiccPackage.js';
import { removeNotificationFromList } from './es10b/removeNotificationFromList.js';
import { retrieveEuiccPackageResults } from './es10b/retrieveEuiccPackageResults.js';
import { retrieveNotificationsList } from './es10b/retrieveNotificationsList.js';
import { getEid } from './es10c/getEid.js';
import type { Es10Client } from './es10Client.js';
import { IpaError } from './errors.js';
import { EsipaClient, type EsipaBinding } from './esipa/esipaClient.js';
import { getEimPackage } from './esipa/getEimPackage.js';
import { handleNotification as esipaHandleNotification } from './esipa/handleNotification.js';
import { provideEimPackageResult } from './esipa/provideEimPackageResult.js';
import { Es9PlusClient } from './es9plus/es9plusClient.js';
import { handleNotification as es9HandleNotification } from './es9plus/handleNotification.js';
import type { HttpsClientOptions } from './httpsClient.js';
import { summarizeNotification } from './notifications.js';
import { DEFAULT_DEVICE_INFO, downloadProfile } from './profileDownload.js';

/** Packages one cycle executes at most (the cycle ends earlier when the eIM has none left). */
export const DEFAULT_MAX_PACKAGES = 16;

export interface IpadOptions {
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
  readonly onProgress?: (step: string, detail: string) => void;
}

export interface PackageReport {
  readonly kind: 'euiccPackageRequest' | 'ipaEuiccDataRequest' | 'profileDownloadTriggerRequest';
  /** What the device did: the eUICC's answer type, or the download's ICCID / error. */
  readonly outcome: string;
  /** Sequence numbers the eIM acknowledged (removed from the eUICC). */
  readonly acknowledged: readonly number[];
}

export interface IpadReport {
  readonly eid: string;
  readonly eimId: string;
  /** Package results the eUICC kept from before, delivered first. */
  readonly keptResultsDelivered: number;
  readonly packages: readonly PackageReport[];
  /** Notifications delivered to their SM-DP+ and removed. */
  readonly notificationsDelivered: number;
  /** Whether the eIM had nothing more: false when the cycle stopped at maxPackages. */
  readonly idle: boolean;
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

/** One IPAd cycle against the eUICC behind `es10`, bounded by maxPackages. */
export async function runIpad(es10: Es10Client, o: IpadOptions = {}): Promise<IpadReport> {
  const progress = o.onProgress ?? (() => undefined);
  const maxPackages = o.maxPackages ?? DEFAULT_MAX_PACKAGES;
  if (!Number.isInteger(maxPackages) || maxPackages < 1 || maxPackages > 1024) throw new IpaError('INVALID_ARGUMENT', 'maxPackages is 1 to 1024');
  const eidText = await getEid(es10);
  const eid = Buffer.from(eidText, 'hex');
  const configs = await getEimConfigurationData(es10);
  const { eimId, url } = resolveEim(configs, o.eim);
  const client = new EsipaClient(url, o.binding ?? 'asn1', o.eimHttp);
  try {
    const acknowledge = async (seqNumbers: readonly number[]): Promise<void> => {
      for (const seq of seqNumbers) await removeNotificationFromList(es10, seq).catch(() => undefined);
    };
    // 1. Results the eUICC kept (an earlier cycle ended before the eIM acknowledged them).
    let keptResultsDelivered = 0;
    for (const kept of await retrieveEuiccPackageResults(es10)) {
      if (eimIdOf(kept.value) !== eimId) continue;
      await acknowledge(await provideEimPackageResult(client, eid, kept.der));
      keptResultsDelivered++;
    }
    // 2. The packages, oldest first.
    const packages: PackageReport[] = [];
    let idle = false;
    let stateChange = o.stateChange;
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
          const acknowledged = await provideEimPackageResult(client, eid, answer.der);
          await acknowledge(acknowledged);
          report = { kind: pkg.kind, outcome: answer.value.type, acknowledged };
          break;
        }
        case 'ipaEuiccDataRequest': {
          const response = await ipaEuiccData(es10, pkg.der, eimId, configs);
          const acknowledged = await provideEimPackageResult(client, eid, response.der);
          await acknowledge(acknowledged);
          report = { kind: pkg.kind, outcome: response.outcome, acknowledged };
          break;
        }
        case 'profileDownloadTriggerRequest': {
          const result = await profileDownload(es10, pkg.der, o.smdpHttp, progress);
          const acknowledged = await provideEimPackageResult(client, eid, result.der);
          await acknowledge(acknowledged);
          report = { kind: pkg.kind, outcome: result.outcome, acknowledged };
          break;
        }
      }
      packages.push(report);
    }
    // 3. The notifications the packages produced: to the eIM, then to their SM-DP+, removed once delivered there.
    const notificationsDelivered = await deliverNotifications(es10, client, o.smdpHttp, progress);
    return { eid: eidText, eimId, keptResultsDelivered, packages, notificationsDelivered, idle };
  } finally {
    client.close();
  }
}

/** Each pending notification goes to the eIM (HandleNotification) and to its SM-DP+ (ES9+), and is removed once the SM-DP+ has it. */
async function deliverNotifications(es10: Es10Client, eim: EsipaClient, http: HttpsClientOptions | undefined, progress: (step: string, detail: string) => void): Promise<number> {
  let delivered = 0;
  const clients = new Map<string, Es9PlusClient>();
  try {
    for (const n of await retrieveNotificationsList(es10)) {
      const summary = summarizeNotification(n.metadata);
      try {
        await esipaHandleNotification(eim, n.der);
      } catch (e) {
        progress('notification', `the eIM refused notification ${summary.seqNumber}: ${e instanceof Error ? e.message : String(e)}`);
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
async function ipaEuiccData(es10: Es10Client, der: Buffer, eimId: string, configs: readonly EimConfigurationData[]): Promise<{ der: Buffer; outcome: string }> {
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
        data.ipaCapabilities = { ipaFeatures: namedBitString([IpaFeature.directRspServerCommunication]) };
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
async function profileDownload(
  es10: Es10Client,
  der: Buffer,
  http: HttpsClientOptions | undefined,
  progress: (step: string, detail: string) => void,
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
    const r = await downloadProfile(es10, { activationCode, ...(http === undefined ? {} : { http }), onInstallationResult: (b) => (pir = b), onProgress: progress });
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

