// SGP.32 v1.2 5.9 ES10b.ProfileRollback (procedure 3.4.1.1): returns to the profile an enable with rollbackFlag disabled, when the eIM cannot be reached over the new one.
import { NotificationEvent } from '../../asn1/definitions/rsp.js';
import {
  EuiccPackageResult,
  EuiccPackageResultDataSigned,
  MAX_EUICC_PACKAGE_RESULTS,
  ProfileRollbackRequest,
  ProfileRollbackResponse,
  ProfileRollbackResult,
  RollbackProfileResult,
} from '../../asn1/definitions/sgp32.js';
import { capture, decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';
import { signForEim } from './eimConfiguration.js';
import { newDraft, notify, replaceProfile, withRollback } from './packageDraft.js';

/**
 * rollbackNotAllowed (1) unless the last eUICC Package enabled a profile with rollbackFlag and no package has been
 * executed since (the eIM reaching the eUICC ends the grant). commandError (7) when the profiles are no longer as the
 * package left them (the enabled profile changed, or the previous one is gone, through ES10c meanwhile); the grant is
 * then dropped. Otherwise the enabled profile is disabled and the previous one enabled (with their notifications),
 * and the grant ends. The eIM learns it from a new signed EuiccPackageResult for the granting package
 * (its eimId, counterValue and eimTransactionId; euiccResult: rollbackResult ok), returned here and kept for
 * RetrieveNotificationsList. refreshFlag is accepted: a software eUICC has no proactive REFRESH to send.
 */
export function profileRollback(core: EuiccCore, command: Buffer): Buffer {
  decode(ProfileRollbackRequest, command);
  const answer = (cmdResult: number, result?: Buffer): Buffer =>
    encode(ProfileRollbackResponse, { cmdResult, ...(result !== undefined ? { eUICCPackageResult: decode(EuiccPackageResult, result) } : {}) });
  const iot = core.iot;
  const grant = iot.rollback;
  if (grant === undefined) return answer(ProfileRollbackResult.rollbackNotAllowed);
  const withoutGrant = withRollback(iot, undefined);
  const d = newDraft(core, withoutGrant);
  const current = d.profiles.find((p) => p.state === 'enabled');
  const previous = d.profiles.find((p) => p.iccid.equals(grant.previousIccid));
  if (current === undefined || !current.iccid.equals(grant.enabledIccid) || previous === undefined || previous.state !== 'disabled') {
    core.commit({ ...core.state, iot: withoutGrant });
    return answer(ProfileRollbackResult.commandError);
  }
  notify(d, current, NotificationEvent.notificationDisable);
  replaceProfile(d, current, { ...current, state: 'disabled' });
  notify(d, previous, NotificationEvent.notificationEnable);
  replaceProfile(d, previous, { ...previous, state: 'enabled' });

  const seqNumber = d.nextSeqNumber;
  const data = capture(EuiccPackageResultDataSigned, {
    eimId: grant.eimId,
    counterValue: grant.counterValue,
    ...(grant.eimTransactionId !== undefined ? { eimTransactionId: grant.eimTransactionId } : {}),
    seqNumber,
    euiccResult: [{ type: 'rollbackResult', value: RollbackProfileResult.ok }],
  });
  const token = iot.eims.find((e) => e.eimId === grant.eimId)?.associationToken ?? 0;
  const result = encode(EuiccPackageResult, {
    type: 'euiccPackageResultSigned',
    value: { euiccPackageResultDataSigned: data, euiccSignEPR: signForEim(core, data.der, token) },
  });
  core.commit({
    ...core.state,
    profiles: d.profiles,
    notifications: d.notifications,
    nextSeqNumber: seqNumber + 1,
    iot: { ...withoutGrant, packageResults: [...withoutGrant.packageResults, { seqNumber, result }].slice(-MAX_EUICC_PACKAGE_RESULTS) },
  });
  return answer(ProfileRollbackResult.ok, result);
}
