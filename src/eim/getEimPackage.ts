// SGP.32 v1.2 5.14.7 ESipa.GetEimPackage (3.1.1 eIM package retrieval): the IPA polls with its EID (and notifyStateChange after a local change); the eIM answers the device's oldest open package, byte for byte as issued, or an eimPackageError.
import { EimPackageError, StateChangeCause, type GetEimPackageRequest } from '../asn1/definitions/sgp32.js';
import { isValidEid } from '../pki/eid.js';
import type { PackageKind } from '../store/eimStore.js';
import type { EimContext } from './context.js';
import { issuePsmos } from './euiccPackageRequest.js';

export type GetEimPackageAnswer =
  | { readonly kind: PackageKind; readonly der: Buffer; readonly eimTransactionId: string }
  | { readonly eimPackageError: number };

/**
 * - an eidValue that is not an EID (32 digits, check digits): invalidEid (3); an EID not in the registry: eidNotFound (2),
 *   or noEimPackageAvailable (1) with hideUnknownEids (the answer then does not tell registered EIDs apart);
 * - the contact is recorded at most once per contactIntervalMs (polls in between write nothing);
 * - notifyStateChange: the contact and its stateChangeCause (undefined (127) when none is given) are recorded and,
 *   when nothing is queued for the device, a listProfileInfo package is issued so the registry learns what changed
 *   (mcim's choice: SGP.32 leaves the eIM's reaction open);
 * - the oldest pending package, or the one sent before without a result yet (the IPA did not report it: the same
 *   bytes again: an IPA that executed it but lost the answer delivers the result its eUICC kept first,
 *   RetrieveNotificationsList, which completes it); none: noEimPackageAvailable (1).
 */
export async function getEimPackage(ctx: EimContext, request: GetEimPackageRequest): Promise<GetEimPackageAnswer> {
  const eid = request.eidValue.toString('hex');
  if (!/^[0-9]{32}$/.test(eid) || !isValidEid(eid)) return { eimPackageError: EimPackageError.invalidEid };
  const device = await ctx.store.getDevice(eid);
  if (device === undefined) return { eimPackageError: ctx.hideUnknownEids ? EimPackageError.noEimPackageAvailable : EimPackageError.eidNotFound };
  const now = ctx.now();
  const notified = request.notifyStateChange !== undefined;
  await ctx.store.touch(eid, now, ctx.contactIntervalMs, notified ? (request.stateChangeCause ?? StateChangeCause.undefined) : undefined);
  if (notified && (await ctx.store.openPackageCount(eid)) === 0) await issuePsmos(ctx, eid, [{ type: 'listProfileInfo', value: {} }]);
  const next = await ctx.store.nextPackage(eid, now);
  if (next === undefined) return { eimPackageError: EimPackageError.noEimPackageAvailable };
  return { kind: next.kind, der: next.request, eimTransactionId: next.eimTransactionId };
}
