// SGP.32 v1.2 2.11.1.1 EuiccPackageRequest (BF51) and 3.3-3.5 (PSMOs, eCOs): the eIM builds an eUICC Package for one EID, signs it under the device's next counter and association token, and queues it.
import {
  EuiccPackageRequest,
  EuiccPackageSigned,
  MAX_EUICC_PACKAGE_OPERATIONS,
  type Eco,
  type EuiccPackage,
  type Psmo,
} from '../asn1/definitions/sgp32.js';
import { capture, encode } from '../asn1/schema.js';
import type { CounterGrant } from '../store/eimStore.js';
import { newTransactionId, type EimContext } from './context.js';
import { signPackage } from './eimSignature.js';
import { EimError } from './errors.js';

export interface IssueOptions {
  /** The eimTransactionId to issue under (16 bytes), e.g. one recorded before issuing so a retry issues the same package once; default: fresh random bytes. */
  readonly eimTransactionId?: Buffer;
}

export interface IssuedPackage {
  /** Hex, upper case: the key of the package, its result and (for a download) its installation result. */
  readonly eimTransactionId: string;
  /** The counterValue it is signed under (EuiccPackageRequest only). */
  readonly counter?: number;
}

const PROFILE_CHANGES: ReadonlySet<Psmo['type']> = new Set(['enable', 'disable', 'delete']);

/**
 * The package rules the eIM keeps so that it never issues what an eUICC must refuse (SGP.32 3.3): one to
 * MAX_EUICC_PACKAGE_OPERATIONS operations, PSMOs or eCOs (the CHOICE keeps them apart), at most one enable and one
 * disable, no listProfileInfo after an enable, disable or delete.
 */
export function checkPackageRules(pkg: EuiccPackage): void {
  const ops = pkg.value;
  if (ops.length === 0) throw new EimError('INVALID_PACKAGE', 'an eUICC Package holds at least one operation');
  if (ops.length > MAX_EUICC_PACKAGE_OPERATIONS) throw new EimError('INVALID_PACKAGE', `an eUICC Package holds at most ${MAX_EUICC_PACKAGE_OPERATIONS} operations`);
  if (pkg.type !== 'psmoList') return;
  const count = (t: Psmo['type']): number => pkg.value.filter((p) => p.type === t).length;
  if (count('enable') > 1) throw new EimError('INVALID_PACKAGE', 'an eUICC Package holds at most one enable');
  if (count('disable') > 1) throw new EimError('INVALID_PACKAGE', 'an eUICC Package holds at most one disable');
  const firstChange = pkg.value.findIndex((p) => PROFILE_CHANGES.has(p.type));
  if (firstChange >= 0 && pkg.value.slice(firstChange + 1).some((p) => p.type === 'listProfileInfo')) {
    throw new EimError('INVALID_PACKAGE', 'listProfileInfo may not follow an enable, disable or delete in one eUICC Package');
  }
}

/** EID digits as the 16 bytes of eidValue. */
export function eidBytes(eid: string): Buffer {
  if (!/^[0-9]{32}$/.test(eid)) throw new EimError('INVALID_ARGUMENT', `'${eid}' is not an EID (32 digits)`);
  return Buffer.from(eid, 'hex');
}

/**
 * Issues an eUICC Package to `eid`: the counter comes from the store in the same transaction that queues the package
 * (strictly increasing per device, also across eIM processes), eimSignature is over the EuiccPackageSigned DER exactly
 * as sent, then `84 len associationToken`. DEVICE_NOT_FOUND, COUNTER_EXHAUSTED, INVALID_PACKAGE refuse it.
 */
export async function issueEuiccPackage(ctx: EimContext, eid: string, pkg: EuiccPackage, o: IssueOptions = {}): Promise<IssuedPackage> {
  checkPackageRules(pkg);
  const eidValue = eidBytes(eid);
  const transactionId = o.eimTransactionId ?? newTransactionId(ctx);
  let missing: number | undefined;
  const sign = (g: CounterGrant): Buffer => {
    const key = ctx.keys.get(g.keyGeneration);
    if (key === undefined) {
      missing = g.keyGeneration;
      throw new EimError('INVALID_ARGUMENT', `the eIM has no key of generation ${g.keyGeneration}, which ${eid} holds`);
    }
    const signed = capture(EuiccPackageSigned, { eimId: g.eimId, eidValue, counterValue: g.counter, eimTransactionId: transactionId, euiccPackage: pkg });
    return encode(EuiccPackageRequest, { euiccPackageSigned: signed, eimSignature: signPackage(key, signed.der, g.associationToken) });
  };
  const id = transactionId.toString('hex').toUpperCase();
  let grant: CounterGrant;
  try {
    grant = await ctx.store.enqueueCounted(eid, id, sign, ctx.now());
  } catch (e) {
    if (missing === undefined) throw e;
    // A generation another eIM process added (a rotation it ran): read the keys again, then once more (nothing was queued).
    await ctx.keys.refresh();
    grant = await ctx.store.enqueueCounted(eid, id, sign, ctx.now());
  }
  return { eimTransactionId: id, counter: grant.counter };
}

/** Devices one issueEuiccPackages transaction covers at most. */
export const MAX_PACKAGES_PER_BATCH = 1000;

/**
 * issueEuiccPackage for many devices, the same operations to each (a fleet operation), in one transaction: each device
 * gets its own eimTransactionId, counter and signature; all or none are queued (DEVICE_NOT_FOUND, COUNTER_EXHAUSTED).
 * One commit for the lot instead of one per package: on SQLite the commit's sync, not the signature, bounds one by one.
 */
export async function issueEuiccPackages(ctx: EimContext, eids: readonly string[], pkg: EuiccPackage): Promise<IssuedPackage[]> {
  checkPackageRules(pkg);
  if (eids.length > MAX_PACKAGES_PER_BATCH) throw new EimError('INVALID_ARGUMENT', `at most ${MAX_PACKAGES_PER_BATCH} devices per batch`);
  const items = eids.map((eid) => ({ eid, eidValue: eidBytes(eid), transactionId: newTransactionId(ctx) }));
  const byId = new Map(items.map((i) => [i.transactionId.toString('hex').toUpperCase(), i]));
  const grants = await ctx.store.enqueueCountedMany(
    [...byId.keys()].map((eimTransactionId) => ({ eid: byId.get(eimTransactionId)!.eid, eimTransactionId })),
    (g, id) => {
      const item = byId.get(id)!;
      const signed = capture(EuiccPackageSigned, { eimId: g.eimId, eidValue: item.eidValue, counterValue: g.counter, eimTransactionId: item.transactionId, euiccPackage: pkg });
      // Each device's package is signed with the key generation its eUICC holds (a batch never refreshes the keyring).
      const key = ctx.keys.get(g.keyGeneration);
      if (key === undefined) throw new EimError('INVALID_ARGUMENT', `the eIM has no key of generation ${g.keyGeneration}, which ${item.eid} holds`);
      return encode(EuiccPackageRequest, { euiccPackageSigned: signed, eimSignature: signPackage(key, signed.der, g.associationToken) });
    },
    ctx.now(),
  );
  return [...byId.keys()].map((eimTransactionId, i) => ({ eimTransactionId, counter: grants[i]!.counter }));
}

/** A package of PSMOs (enable, disable, delete, listProfileInfo, getRAT, configureImmediateEnable, fallback attribute, setDefaultDpAddress). */
export function issuePsmos(ctx: EimContext, eid: string, psmos: Psmo[], o: IssueOptions = {}): Promise<IssuedPackage> {
  return issueEuiccPackage(ctx, eid, { type: 'psmoList', value: psmos }, o);
}

/** A package of eCOs (addEim, deleteEim, updateEim, listEim). */
export function issueEcos(ctx: EimContext, eid: string, ecos: Eco[], o: IssueOptions = {}): Promise<IssuedPackage> {
  return issueEuiccPackage(ctx, eid, { type: 'ecoList', value: ecos }, o);
}
