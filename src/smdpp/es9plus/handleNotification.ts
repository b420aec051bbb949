// ES9+.HandleNotification (SGP.22 5.6.4, procedure 3.5): verifies PIRs and other signed notifications, moves the order once; always HTTP 204.
import { decode } from '../../asn1/schema.js';
import {
  NotificationEvent,
  PendingNotification,
  namedBitList,
  type OtherSignedNotification,
  type ProfileInstallationResult,
} from '../../asn1/definitions/rsp.js';
import { iccidDigitsFromEf } from '../../asn1/definitions/saip.js';
import { verifyPlain } from '../../crypto/ecdsa.js';
import { McimError } from '../../errors.js';
import type { Es9Request, Es9Response } from '../../http/es9plusFunctions.js';
import { parseField } from '../../http/jsonBinding.js';
import type { SmdpContext } from '../context.js';
import type { DeliveredSession } from '../deliveredSessions.js';
import { FIELD_SUBJECT } from '../statusCodes.js';
import { verifyEuiccChain } from '../verifyEuicc.js';
import { NOTIFICATION_POINT } from '../es2plus/handleDownloadProgressInfo.js';

/** What became of a notification: applied, a replay (nothing changed), or discarded for the reason given. */
export type NotificationResult =
  | { readonly outcome: 'recorded' | 'replayed' }
  | { readonly outcome: 'discarded'; readonly reason: string };

const OPERATIONS: Readonly<Record<number, string>> = {
  [NotificationEvent.notificationInstall]: 'install',
  [NotificationEvent.notificationEnable]: 'enable',
  [NotificationEvent.notificationDisable]: 'disable',
  [NotificationEvent.notificationDelete]: 'delete',
};

function iccidOf(iccid: Buffer | undefined): string | undefined {
  if (iccid === undefined) return undefined;
  try {
    return iccidDigitsFromEf(iccid);
  } catch {
    return undefined;
  }
}

/** The eUICC the session of `transactionId` authenticated: kept by this process at delivery, else from the session row. */
async function deliveredSession(ctx: SmdpContext, transactionId: string): Promise<DeliveredSession | undefined> {
  const kept = ctx.deliveredSessions.take(transactionId);
  if (kept !== undefined) return kept;
  const session = await ctx.store.sessions.get(transactionId);
  if (session?.euiccCertificate === undefined || session.eid === undefined) return undefined;
  return { eid: session.eid, certificate: ctx.certificates.parse(session.euiccCertificate) };
}

/** The PIR is verified with the certificate of the eUICC the session authenticated: only it can move the order. */
async function installationResult(ctx: SmdpContext, pir: ProfileInstallationResult, raw: Buffer): Promise<NotificationResult> {
  const data = pir.profileInstallationResultData.value;
  const transactionId = data.transactionId.toString('hex').toUpperCase();
  const session = await deliveredSession(ctx, transactionId);
  if (session === undefined) return { outcome: 'discarded', reason: 'unknown transactionId' };
  if (data.smdpOid !== ctx.oid) return { outcome: 'discarded', reason: `the PIR names the SM-DP+ OID ${data.smdpOid}` };
  const key = session.certificate.publicKey.key;
  if (!verifyPlain(key, pir.profileInstallationResultData.der, pir.euiccSignPIR)) return { outcome: 'discarded', reason: 'euiccSignPIR does not verify' };
  const success = data.finalResult.type === 'successResult';
  const outcome = await ctx.store.notifications.recordInstallationResult(
    transactionId,
    session.eid,
    data.notificationMetadata.seqNumber,
    iccidOf(data.notificationMetadata.iccid),
    success,
    ctx.now(),
    // The operator gets the whole signed result (SGP.22 5.3.5 resultData): it can verify the eUICC's signature itself.
    {
      notificationPointId: NOTIFICATION_POINT.bppInstallation,
      status: success ? 'Executed-Success' : 'Failed',
      ...(success ? {} : { statusCodeData: { subjectCode: '8.2.10', reasonCode: '4.2', message: 'the eUICC reports the installation failed' } }),
      resultData: raw,
    },
  );
  return { outcome };
}

/** mcim's notification points (100 and above, SGP.22 5.3.5) for the later profile notifications. */
const OPERATION_POINTS: Readonly<Record<string, number>> = {
  enable: NOTIFICATION_POINT.profileEnabled,
  disable: NOTIFICATION_POINT.profileDisabled,
  delete: NOTIFICATION_POINT.profileDeleted,
};

async function otherNotification(ctx: SmdpContext, n: OtherSignedNotification, raw: Buffer): Promise<NotificationResult> {
  let eid: string;
  try {
    const chain = verifyEuiccChain(ctx, n.euiccCertificate, n.eumCertificate, ctx.trustedCis);
    if (!verifyPlain(chain.leaf.publicKey.key, n.tbsOtherNotification.der, n.euiccNotificationSignature)) {
      return { outcome: 'discarded', reason: 'euiccNotificationSignature does not verify' };
    }
    eid = chain.eid;
  } catch (e) {
    if (e instanceof McimError) return { outcome: 'discarded', reason: e.message };
    throw e;
  }
  const metadata = n.tbsOtherNotification.value;
  const bits = namedBitList(metadata.profileManagementOperation);
  const operation = bits.length === 1 ? OPERATIONS[bits[0]!] : undefined;
  if (operation === undefined) return { outcome: 'discarded', reason: 'profileManagementOperation names no single operation' };
  const iccid = iccidOf(metadata.iccid);
  // A valid eUICC signature proves who speaks, not that the profile is theirs: only the eUICC the profile was
  // delivered to may report on it.
  const point = OPERATION_POINTS[operation];
  const report = point === undefined ? undefined : ({ notificationPointId: point, status: 'Executed-Success', resultData: raw } as const);
  const outcome = await ctx.store.notifications.recordOther(eid, metadata.seqNumber, operation, iccid, ctx.now(), report);
  if (outcome === 'foreign') return { outcome: 'discarded', reason: `no profile with ICCID ${iccid ?? '(none)'} was delivered to the eUICC ${eid}` };
  return { outcome };
}

/**
 * Notifications that do not verify are discarded without changing anything (the eUICC learns nothing: HTTP 204 in
 * every case); a malformed request is a Failed status.
 */
export async function handleNotification(
  ctx: SmdpContext,
  request: Es9Request<'handleNotification'>,
  onResult: (result: NotificationResult) => void,
): Promise<Es9Response<'handleNotification'>> {
  const notification = parseField('pendingNotification', FIELD_SUBJECT.euicc, () =>
    decode(PendingNotification, request.pendingNotification),
  );
  const result =
    notification.type === 'profileInstallationResult'
      ? await installationResult(ctx, notification.value, request.pendingNotification)
      : await otherNotification(ctx, notification.value, request.pendingNotification);
  onResult(result);
  return {};
}
