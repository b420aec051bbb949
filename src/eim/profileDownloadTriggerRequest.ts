// SGP.32 v1.2 2.11.2.3 ProfileDownloadTriggerRequest (BF54) and 3.2.1: the eIM tells the IPA to download a profile, from an activation code or from the eUICC's default SM-DP+.
import { ProfileDownloadTriggerRequest, type ProfileDownloadData } from '../asn1/definitions/sgp32.js';
import { encode } from '../asn1/schema.js';
import { newTransactionId, type EimContext } from './context.js';
import { EimError } from './errors.js';
import type { IssuedPackage, IssueOptions } from './euiccPackageRequest.js';

/** SGP.22 4.1: '1$' SM-DP+ address '$' matching ID (optionally '$' OID '$' confirmation code flag); at most 255 characters here. */
const ACTIVATION_CODE = /^1\$[^$]+\$[^$]*(\$[^$]*(\$1?)?)?$/;

export type DownloadTrigger =
  | { readonly activationCode: string }
  /** The eUICC's default SM-DP+ (an order for the EID alone). */
  | { readonly defaultSmdp: true };

/** Queues a ProfileDownloadTriggerRequest; its eimTransactionId comes back with the installation result. */
export async function issueProfileDownloadTrigger(ctx: EimContext, eid: string, trigger: DownloadTrigger, o: IssueOptions = {}): Promise<IssuedPackage> {
  let data: ProfileDownloadData;
  if ('activationCode' in trigger) {
    const ac = trigger.activationCode.replace(/^LPA:/, '');
    if (ac.length > 255 || !ACTIVATION_CODE.test(ac)) throw new EimError('INVALID_PACKAGE', `'${trigger.activationCode}' is not an activation code (1$address$matchingId)`);
    data = { type: 'activationCode', value: ac };
  } else {
    data = { type: 'contactDefaultSmdp', value: null };
  }
  const transactionId = o.eimTransactionId ?? newTransactionId(ctx);
  const der = encode(ProfileDownloadTriggerRequest, { profileDownloadData: data, eimTransactionId: transactionId });
  const id = transactionId.toString('hex').toUpperCase();
  await ctx.store.enqueue(eid, 'profileDownloadTrigger', id, der, ctx.now());
  return { eimTransactionId: id };
}
