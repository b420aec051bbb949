// SGP.32 v1.2 2.11.1.1.3 (PSMO setDefaultDpAddress, as ES10b.SetDefaultDpAddress 5.9.25): sets or, with an empty address, clears the default SM-DP+ address.
import { SetDefaultDpAddressResult, type EuiccResultData, type SetDefaultDpAddressRequest } from '../../../asn1/definitions/sgp32.js';
import { withoutDefaultDpAddress } from '../../core.js';
import type { PackageDraft } from '../packageDraft.js';

export function setDefaultDpAddress(d: PackageDraft, psmo: SetDefaultDpAddressRequest): EuiccResultData {
  const settings = withoutDefaultDpAddress(d.settings);
  d.settings = psmo.defaultDpAddress === '' ? settings : { ...settings, defaultDpAddress: psmo.defaultDpAddress };
  return { type: 'setDefaultDpAddressResult', value: { setDefaultDpAddressResult: SetDefaultDpAddressResult.ok } };
}
