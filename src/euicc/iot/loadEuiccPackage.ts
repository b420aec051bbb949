// SGP.32 v1.2 5.9.1 ES10b.LoadEuiccPackage (procedure 3.3.1): verifies an eIM-signed eUICC Package, executes its PSMOs or eCOs in one commit, answers the signed result.
import {
  EuiccPackageErrorCode,
  EuiccPackageErrorDataSigned,
  EuiccPackageRequest,
  EuiccPackageResult,
  EuiccPackageResultDataSigned,
  MAX_EUICC_PACKAGE_RESULTS,
  type EimConfigurationData,
  type Eco,
  type EuiccResultData,
  type Psmo,
} from '../../asn1/definitions/sgp32.js';
import { capture, decode, encode } from '../../asn1/schema.js';
import type { EuiccCore } from '../core.js';
import { addEim } from './eco/addEim.js';
import { deleteEim } from './eco/deleteEim.js';
import { listEim } from './eco/listEim.js';
import { updateEim } from './eco/updateEim.js';
import { MAX_COUNTER_VALUE, signForEim, verifyEimSignature } from './eimConfiguration.js';
import { isFailure, newDraft, withRollback, type PackageDraft } from './packageDraft.js';
import { configureImmediateEnable } from './psmo/configureImmediateEnable.js';
import { deleteProfile } from './psmo/delete.js';
import { disable } from './psmo/disable.js';
import { enable } from './psmo/enable.js';
import { getRat } from './psmo/getRat.js';
import { listProfileInfo } from './psmo/listProfileInfo.js';
import { setDefaultDpAddress } from './psmo/setDefaultDpAddress.js';
import { setFallbackAttribute } from './psmo/setFallbackAttribute.js';
import { unsetFallbackAttribute } from './psmo/unsetFallbackAttribute.js';

/*
 * The checks, in order, and what each failure answers (nothing is written for any of them):
 *  1. the eimId is associated                          else EuiccPackageErrorUnsigned {eimId, eimTransactionId}
 *  2. eimSignature verifies, with the eIM's key, over  else EuiccPackageErrorUnsigned {eimId, eimTransactionId,
 *     the EuiccPackageSigned bytes as received then          associationToken}: the token the eUICC holds, so that
 *     `84 len associationToken` (2.11.1.1)                   an eIM signing under an old association learns it
 *  3. eidValue is this eUICC's EID                     else EuiccPackageErrorSigned invalidEid (3)
 *  4. counterValue <= MAX_COUNTER_VALUE                else EuiccPackageErrorSigned counterValueOutOfRange (6)
 *  5. counterValue > the eIM's stored counter          else EuiccPackageErrorSigned replayError (4)
 * A signed error is signed like a result, over EuiccPackageErrorDataSigned then the association token.
 *
 * Then the eIM's counter becomes counterValue, a rollback granted by an earlier package lapses (the eIM has reached the
 * eUICC), and the operations run in order on a draft of the state (packageDraft.ts). The first operation that fails
 * gives its result and ends the package: the operations after it are not executed and have no result; those before it
 * stand. The draft, the counter, the package result (kept for RetrieveNotificationsList, at most
 * MAX_EUICC_PACKAGE_RESULTS, the oldest dropped first) and any notifications are sealed in one commit, so a crash leaves
 * the package applied whole or not at all, and an unanswered package is either not executed (the eIM may resend it)
 * or executed with its result kept on the eUICC.
 */

function runPsmo(d: PackageDraft, psmo: Psmo): EuiccResultData {
  switch (psmo.type) {
    case 'enable':
      return enable(d, psmo.value);
    case 'disable':
      return disable(d, psmo.value);
    case 'delete':
      return deleteProfile(d, psmo.value);
    case 'listProfileInfo':
      return listProfileInfo(d, psmo.value);
    case 'getRAT':
      return getRat(d);
    case 'configureImmediateEnable':
      return configureImmediateEnable(d, psmo.value);
    case 'setFallbackAttribute':
      return setFallbackAttribute(d, psmo.value);
    case 'unsetFallbackAttribute':
      return unsetFallbackAttribute(d);
    case 'setDefaultDpAddress':
      return setDefaultDpAddress(d, psmo.value);
  }
}

function runEco(d: PackageDraft, eco: Eco): EuiccResultData {
  switch (eco.type) {
    case 'addEim':
      return addEim(d, eco.value);
    case 'deleteEim':
      return deleteEim(d, eco.value);
    case 'updateEim':
      return updateEim(d, eco.value);
    case 'listEim':
      return listEim(d);
  }
}

export function loadEuiccPackage(core: EuiccCore, command: Buffer): Buffer {
  const request = decode(EuiccPackageRequest, command);
  const signed = request.euiccPackageSigned.value;
  const transaction = signed.eimTransactionId !== undefined ? { eimTransactionId: signed.eimTransactionId } : {};
  const iot = core.iot;
  const eim = iot.eims.find((e) => e.eimId === signed.eimId);
  if (eim === undefined) {
    return encode(EuiccPackageResult, { type: 'euiccPackageErrorUnsigned', value: { eimId: signed.eimId, ...transaction } });
  }
  const token = eim.associationToken ?? 0;
  if (!verifyEimSignature(eim, request.euiccPackageSigned.der, request.eimSignature)) {
    return encode(EuiccPackageResult, { type: 'euiccPackageErrorUnsigned', value: { eimId: signed.eimId, ...transaction, associationToken: token } });
  }
  const signedError = (code: number): Buffer => {
    const data = capture(EuiccPackageErrorDataSigned, { eimId: signed.eimId, counterValue: signed.counterValue, ...transaction, euiccPackageErrorCode: code });
    return encode(EuiccPackageResult, {
      type: 'euiccPackageErrorSigned',
      value: { euiccPackageErrorDataSigned: data, euiccSignEPE: signForEim(core, data.der, token) },
    });
  };
  if (!signed.eidValue.equals(core.eidBytes)) return signedError(EuiccPackageErrorCode.invalidEid);
  if (signed.counterValue > MAX_COUNTER_VALUE) return signedError(EuiccPackageErrorCode.counterValueOutOfRange);
  if (signed.counterValue <= (eim.counterValue ?? 0)) return signedError(EuiccPackageErrorCode.replayError);

  const counted: EimConfigurationData = { ...eim, counterValue: signed.counterValue };
  const d = newDraft(core, withRollback({ ...iot, eims: iot.eims.map((e) => (e === eim ? counted : e)) }, undefined));
  const results: EuiccResultData[] = [];
  const operations = signed.euiccPackage.type === 'psmoList'
    ? signed.euiccPackage.value.map((psmo) => () => runPsmo(d, psmo))
    : signed.euiccPackage.value.map((eco) => () => runEco(d, eco));
  for (const run of operations) {
    const result = run();
    results.push(result);
    if (isFailure(result)) break;
  }
  if (d.rollback !== undefined) {
    d.iot = withRollback(d.iot, { ...d.rollback, eimId: signed.eimId, counterValue: signed.counterValue, ...transaction });
  }

  const seqNumber = d.nextSeqNumber;
  const data = capture(EuiccPackageResultDataSigned, { eimId: signed.eimId, counterValue: signed.counterValue, ...transaction, seqNumber, euiccResult: results });
  const answer = encode(EuiccPackageResult, {
    type: 'euiccPackageResultSigned',
    value: { euiccPackageResultDataSigned: data, euiccSignEPR: signForEim(core, data.der, token) },
  });
  const packageResults = [...d.iot.packageResults, { seqNumber, result: answer }].slice(-MAX_EUICC_PACKAGE_RESULTS);
  core.commit({
    ...core.state,
    profiles: d.profiles,
    notifications: d.notifications,
    nextSeqNumber: seqNumber + 1,
    settings: d.settings,
    iot: { ...d.iot, packageResults },
  });
  return answer;
}
