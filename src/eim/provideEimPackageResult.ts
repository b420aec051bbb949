// SGP.32 v1.2 5.14.8 ESipa.ProvideEimPackageResult: the result of an eIM package, its eUICC signature verified against the device's registered certificate, matched to the package by eimTransactionId (eimId, counter, kind), stored once with the registry's change, and acknowledged (EimAcknowledgements).
import {
  EimPackageResult,
  EuiccPackageRequest,
  ProvideEimPackageResult,
  ProvideEimPackageResultError,
  type EimPackageResult as Result,
  type EuiccPackageResult,
  type PendingNotification,
  type ProfileDownloadTriggerResult,
  type IpaEuiccDataResponse,
} from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode } from '../asn1/schema.js';
import { decodeTlv } from '../asn1/tlv.js';
import { isValidEid } from '../pki/eid.js';
import type { Device, PackageCompletion, PackageKind, StoredPackage } from '../store/eimStore.js';
import type { EimContext } from './context.js';
import { euiccKey, iccidOf, profilesAfterPsmos, verifyPir } from './deviceRecords.js';
import { verifyEuiccSignature } from './eimSignature.js';
import { EimError } from './errors.js';
import { checkNotification, notificationAddress } from './handleNotification.js';

/** The IPA's answer: the sequence numbers the eIM has stored (EimAcknowledgements; empty: emptyResponse). */
export interface ProvideResultAnswer {
  readonly eimAcknowledgements: readonly number[];
  /** The device whose package the result completed (fleet operations waiting for it continue). */
  readonly eid: string;
}

/** A refusal of the result: the ESipa code the IPA is answered with (undefinedError for what SGP.32 gives no code). */
const UNDEFINED = ProvideEimPackageResultError.undefinedError;

function txHex(id: Buffer | undefined): string | undefined {
  return id?.toString('hex').toUpperCase();
}

/**
 * `resultDer` is the EimPackageResult element as received (the CHOICE's own TLV). The checks, each a typed EimError
 * whose esipaCode the IPA gets, nothing stored for any of them:
 * - no eidValue and no package to take it from: missingEid (4); not an EID: invalidEid (3); not registered: eidNotFound (2);
 * - an element that is no EimPackageResult: undefinedError (127) (INVALID_ARGUMENT);
 * - a signature (euiccSignEPR, euiccSignEPE, euiccSignPIR, notifications') that does not verify with the registered
 *   eUICC certificate and association token: RESULT_SIGNATURE_INVALID;
 * - an eimTransactionId (or, without one, a counter) the eIM never sent to this EID: UNKNOWN_TRANSACTION;
 * - an eimId, counter or kind that is not the package's: RESULT_MISMATCH;
 * - a result for a package completed with another result: RESULT_REPLAYED; the same result again is acknowledged
 *   again without changing anything (the IPA resends what it did not see acknowledged).
 * An EuiccPackageErrorUnsigned carries no signature: it fails its package (matched by eimTransactionId) and says so.
 * A signed result holding only a rollbackResult (ES10b.ProfileRollback after an enable with rollbackFlag) fails its
 * package with outcome rolledBack.
 */
export async function provideEimPackageResult(ctx: EimContext, eidValue: Buffer | undefined, resultDer: Buffer): Promise<ProvideResultAnswer> {
  let result: Result;
  try {
    result = decode(EimPackageResult, resultDer);
  } catch (cause) {
    if (cause instanceof Asn1Error) throw new EimError('INVALID_ARGUMENT', `the EimPackageResult is malformed: ${cause.message}`, { esipaCode: UNDEFINED, cause });
    throw cause;
  }
  const device = await deviceOf(ctx, eidValue, result);
  const now = ctx.now();
  switch (result.type) {
    case 'euiccPackageResult':
      return euiccPackageResult(ctx, device, result.value, [], resultDer, now);
    case 'ePRAndNotifications': {
      const answer = await euiccPackageResult(ctx, device, result.value.euiccPackageResult, result.value.notificationList, resultDer, now);
      // The listed notifications as received (SEQUENCE { BF51, A0 { PendingNotification... } }), taken over for their SM-DP+.
      const listed = decodeTlv(resultDer).children?.[1]?.children ?? [];
      await forwardListed(ctx, device, result.value.notificationList, listed.map((tlv) => Buffer.from(tlv.raw)));
      return answer;
    }
    case 'ipaEuiccDataResponse':
      return ipaEuiccDataResponse(ctx, device, result.value, resultDer, now);
    case 'profileDownloadTriggerResult':
      return profileDownloadTriggerResult(ctx, device, result.value, resultDer, now);
    case 'eimPackageResultResponseError': {
      const pkg = await packageFor(ctx, device, txHex(result.value.eimTransactionId), undefined);
      return complete(ctx, pkg, { state: 'failed', result: resultDer, outcome: { eimPackageResultErrorCode: result.value.eimPackageResultErrorCode } }, now);
    }
  }
}

/**
 * ProvideEimPackageResult as a whole message (BF50: the ASN.1 binding, HandleNotification): checked against its
 * definition, then its eidValue and EimPackageResult element (as received) go to provideEimPackageResult.
 */
export async function provideEimPackageResultMessage(ctx: EimContext, der: Buffer): Promise<ProvideResultAnswer> {
  let eidValue: Buffer | undefined;
  try {
    eidValue = decode(ProvideEimPackageResult, der).eidValue;
  } catch (cause) {
    if (cause instanceof Asn1Error) throw new EimError('INVALID_ARGUMENT', `the ProvideEimPackageResult is malformed: ${cause.message}`, { esipaCode: UNDEFINED, cause });
    throw cause;
  }
  const children = decodeTlv(der).children!;
  return provideEimPackageResult(ctx, eidValue, Buffer.from(children[eidValue === undefined ? 0 : 1]!.raw));
}

/** The EID of a result: eidValue, else the one of the package its eimTransactionId names. */
async function deviceOf(ctx: EimContext, eidValue: Buffer | undefined, result: Result): Promise<Device> {
  let eid = eidValue?.toString('hex');
  if (eid === undefined) {
    const id = txHex(transactionOf(result));
    const pkg = id === undefined ? undefined : await ctx.store.getPackage(id);
    if (pkg === undefined) throw new EimError('INVALID_ARGUMENT', 'the result names no EID and no package of the eIM', { esipaCode: ProvideEimPackageResultError.missingEid });
    eid = pkg.eid;
  }
  if (!/^[0-9]{32}$/.test(eid) || !isValidEid(eid)) throw new EimError('INVALID_ARGUMENT', `'${eid}' is not an EID`, { esipaCode: ProvideEimPackageResultError.invalidEid });
  const device = await ctx.store.getDevice(eid);
  if (device === undefined) throw new EimError('DEVICE_NOT_FOUND', `no device ${eid} in the registry`, { esipaCode: ProvideEimPackageResultError.eidNotFound });
  return device;
}

function transactionOf(result: Result): Buffer | undefined {
  switch (result.type) {
    case 'euiccPackageResult':
      return packageResultTransaction(result.value);
    case 'ePRAndNotifications':
      return packageResultTransaction(result.value.euiccPackageResult);
    case 'ipaEuiccDataResponse':
      return result.value.value.eimTransactionId;
    case 'profileDownloadTriggerResult':
      return result.value.eimTransactionId;
    case 'eimPackageResultResponseError':
      return result.value.eimTransactionId;
  }
}

function packageResultTransaction(r: EuiccPackageResult): Buffer | undefined {
  if (r.type === 'euiccPackageResultSigned') return r.value.euiccPackageResultDataSigned.value.eimTransactionId;
  if (r.type === 'euiccPackageErrorSigned') return r.value.euiccPackageErrorDataSigned.value.eimTransactionId;
  return r.value.eimTransactionId;
}

/** The package of this device a result names, of the expected kind (by eimTransactionId, else by counter). */
async function packageFor(ctx: EimContext, device: Device, id: string | undefined, counter: number | undefined, kind?: PackageKind): Promise<StoredPackage> {
  const pkg = id !== undefined ? await ctx.store.getPackage(id) : counter !== undefined ? await ctx.store.packageByCounter(device.eid, counter) : undefined;
  if (pkg === undefined || pkg.eid !== device.eid) {
    throw new EimError('UNKNOWN_TRANSACTION', `no package ${id ?? `with counter ${String(counter)}`} was sent to ${device.eid}`, { esipaCode: UNDEFINED });
  }
  if (kind !== undefined && pkg.kind !== kind) throw new EimError('RESULT_MISMATCH', `the package ${pkg.eimTransactionId} is a ${pkg.kind}, not a ${kind}`, { esipaCode: UNDEFINED });
  return pkg;
}

async function complete(ctx: EimContext, pkg: StoredPackage, c: PackageCompletion, now: number): Promise<ProvideResultAnswer> {
  const done = await ctx.store.completePackage(pkg.eimTransactionId, c, now);
  if (done.status === 'replayed') {
    throw new EimError('RESULT_REPLAYED', `the package ${pkg.eimTransactionId} was completed with another result`, { esipaCode: UNDEFINED });
  }
  return { eimAcknowledgements: (c.received ?? []).map((r) => r.seqNumber), eid: pkg.eid };
}

async function euiccPackageResult(
  ctx: EimContext,
  device: Device,
  r: EuiccPackageResult,
  notifications: readonly PendingNotification[],
  resultDer: Buffer,
  now: number,
): Promise<ProvideResultAnswer> {
  const checked = notifications.map((n) => checkNotification(device, n));
  const received = checked.map((n) => ({ seqNumber: n.seqNumber, kind: 'notification' as const }));
  if (r.type === 'euiccPackageErrorUnsigned') {
    const pkg = await packageFor(ctx, device, txHex(r.value.eimTransactionId), undefined, 'euiccPackage');
    if (r.value.eimId !== device.eimId) throw new EimError('RESULT_MISMATCH', `the error names eIM '${r.value.eimId}'`, { esipaCode: UNDEFINED });
    const outcome = { unsignedError: true, ...(r.value.associationToken === undefined ? {} : { associationToken: r.value.associationToken }) };
    return complete(ctx, pkg, { state: 'failed', result: resultDer, outcome, received }, now);
  }
  const signed = r.type === 'euiccPackageResultSigned' ? r.value.euiccPackageResultDataSigned : r.value.euiccPackageErrorDataSigned;
  const signature = r.type === 'euiccPackageResultSigned' ? r.value.euiccSignEPR : r.value.euiccSignEPE;
  if (!verifyEuiccSignature(euiccKey(device), signed.der, device.associationToken, signature)) {
    throw new EimError('RESULT_SIGNATURE_INVALID', `the package result of ${device.eid} is not signed by its eUICC`, { esipaCode: UNDEFINED });
  }
  const data = signed.value;
  const pkg = await packageFor(ctx, device, txHex(data.eimTransactionId), data.counterValue, 'euiccPackage');
  if (data.eimId !== device.eimId || data.counterValue !== pkg.counter) {
    throw new EimError('RESULT_MISMATCH', `the result names eIM '${data.eimId}' and counter ${data.counterValue}, the package ${device.eimId} and ${String(pkg.counter)}`, {
      esipaCode: UNDEFINED,
    });
  }
  if (r.type === 'euiccPackageErrorSigned') {
    return complete(ctx, pkg, { state: 'failed', result: resultDer, outcome: { euiccPackageErrorCode: r.value.euiccPackageErrorDataSigned.value.euiccPackageErrorCode }, received }, now);
  }
  const results = r.value.euiccPackageResultDataSigned.value;
  const request = decode(EuiccPackageRequest, pkg.request).euiccPackageSigned.value.euiccPackage;
  const rollback = results.euiccResult.length === 1 && results.euiccResult[0]!.type === 'rollbackResult' ? results.euiccResult[0]!.value : undefined;
  if (rollback !== undefined) {
    // SGP.32 3.4.1.1: the eUICC rolled back the package's enable (its new profile could not reach the eIM): the package
    // failed; the profiles change with the disable and enable notifications the rollback produced.
    return complete(
      ctx,
      pkg,
      { state: 'failed', result: resultDer, outcome: { seqNumber: results.seqNumber, rolledBack: rollback === 0, results: results.euiccResult.map(summary) }, received: [{ seqNumber: results.seqNumber, kind: 'packageResult' }, ...received] },
      now,
    );
  }
  const profiles = request.type === 'psmoList' ? profilesAfterPsmos(request.value, results.euiccResult) : undefined;
  const failed = results.euiccResult.some((x) => x.type === 'processingTerminated' || (typeof x.value === 'number' && x.value !== 0));
  return complete(
    ctx,
    pkg,
    {
      state: failed || results.euiccResult.length < request.value.length ? 'failed' : 'done',
      result: resultDer,
      outcome: { seqNumber: results.seqNumber, results: results.euiccResult.map(summary) },
      ...(profiles === undefined ? {} : { profiles }),
      received: [{ seqNumber: results.seqNumber, kind: 'packageResult' }, ...received],
    },
    now,
  );
}

/**
 * The notifications a package result carried (ePRAndNotifications), handed to the forwarder for their SM-DP+ before
 * the IPA is told it may delete them (SGP.32 3.6), as HandleNotification does for one.
 */
async function forwardListed(ctx: EimContext, device: Device, notifications: readonly PendingNotification[], ders: readonly Buffer[]): Promise<void> {
  if (ctx.forwarder === undefined) return;
  for (const [i, n] of notifications.entries()) {
    const address = notificationAddress(n);
    const der = ders[i];
    if (address !== undefined && der !== undefined) await ctx.forwarder.take(device.eid, checkNotification(device, n).seqNumber, address, der);
  }
}

/** One operation's result for the package's outcome: its name and code (lists summarized by their length). */
function summary(r: { type: string; value: unknown }): { operation: string; result?: number; entries?: number } {
  if (typeof r.value === 'number') return { operation: r.type, result: r.value };
  const inner = r.value as { type?: string; value?: unknown } | unknown[];
  if (Array.isArray(inner)) return { operation: r.type, entries: inner.length };
  if (Array.isArray(inner.value)) return { operation: r.type, entries: inner.value.length };
  if (typeof inner.value === 'number') return { operation: r.type, result: inner.value };
  return { operation: r.type };
}

async function ipaEuiccDataResponse(ctx: EimContext, device: Device, r: IpaEuiccDataResponse, resultDer: Buffer, now: number): Promise<ProvideResultAnswer> {
  const id = txHex(r.value.eimTransactionId);
  const pkg = await packageFor(ctx, device, id, undefined, 'ipaEuiccData');
  if (r.type === 'ipaEuiccDataResponseError') {
    return complete(ctx, pkg, { state: 'failed', result: resultDer, outcome: { ipaEuiccDataErrorCode: r.value.ipaEuiccDataErrorCode } }, now);
  }
  const data = r.value;
  const checked = (data.notificationsList ?? []).map((n) => checkNotification(device, n));
  const certificatesMatch =
    data.euiccCertificate === undefined && data.eumCertificate === undefined
      ? undefined
      : (data.euiccCertificate?.equals(device.euiccCertificate) ?? true) && (data.eumCertificate?.equals(device.eumCertificate) ?? true);
  const outcome = {
    components: Object.keys(data).filter((k) => k !== 'eimTransactionId'),
    ...(data.defaultSmdpAddress === undefined ? {} : { defaultSmdpAddress: data.defaultSmdpAddress }),
    ...(certificatesMatch === undefined ? {} : { certificatesMatch }),
    notifications: checked.length,
  };
  const profiles = checked.map((n) => n.profiles).filter((p) => p !== undefined);
  return complete(
    ctx,
    pkg,
    {
      state: 'done',
      result: resultDer,
      outcome,
      ...(profiles.length === 0 ? {} : { profiles: (current) => profiles.reduce((l, change) => change(l) ?? l, current) }),
      received: checked.map((n) => ({ seqNumber: n.seqNumber, kind: 'notification' as const })),
    },
    now,
  );
}

async function profileDownloadTriggerResult(ctx: EimContext, device: Device, r: ProfileDownloadTriggerResult, resultDer: Buffer, now: number): Promise<ProvideResultAnswer> {
  const pkg = await packageFor(ctx, device, txHex(r.eimTransactionId), undefined, 'profileDownloadTrigger');
  const data = r.profileDownloadTriggerResultData;
  if (data.type === 'profileDownloadError') {
    return complete(ctx, pkg, { state: 'failed', result: resultDer, outcome: { profileDownloadErrorReason: data.value.profileDownloadErrorReason } }, now);
  }
  verifyPir(device, data.value, UNDEFINED);
  const pir = data.value.profileInstallationResultData.value;
  const iccid = iccidOf(pir.notificationMetadata.iccid);
  const installed = pir.finalResult.type === 'successResult';
  const seqNumber = pir.notificationMetadata.seqNumber;
  // The PIR, as the eUICC signed it, taken over for its SM-DP+ before it is acknowledged (SGP.32 3.6).
  const pirDer = decodeTlv(resultDer).children?.find((c) => c.tag === 0xbf37)?.raw;
  if (pirDer !== undefined) await ctx.forwarder?.take(device.eid, seqNumber, pir.notificationMetadata.notificationAddress, Buffer.from(pirDer));
  return complete(
    ctx,
    pkg,
    {
      state: installed ? 'done' : 'failed',
      result: resultDer,
      outcome: { installed, ...(iccid === undefined ? {} : { iccid }), seqNumber, ...(installed ? {} : { errorReason: (pir.finalResult.value as { errorReason: number }).errorReason }) },
      ...(installed && iccid !== undefined ? { profiles: (current) => (current?.some((p) => p.iccid === iccid) ? current : [...(current ?? []), { iccid, state: 'disabled' as const }]) } : {}),
      received: [{ seqNumber, kind: 'notification' }],
    },
    now,
  );
}
