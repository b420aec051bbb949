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
import { signPlain } from '../crypto/ecdsa.js';
import { signPackage } from './eimSignature.js';
import { EuiccPackageTemplate } from './euiccPackageTemplate.js';
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

/** Bytes of the eimTransactionIds the eIM draws (TransactionId is 1 to 16 bytes). */
const TRANSACTION_ID_BYTES = 16;
/** Packages one signing job holds: a batch is signed in several jobs, each queued as soon as it is back. */
const SIGN_JOB = 64;

/**
 * issueEuiccPackage for many devices, the same operations to each (a fleet operation), in one transaction: each device
 * gets its own eimTransactionId, counter and signature; all or none are queued (DEVICE_NOT_FOUND, COUNTER_EXHAUSTED).
 * One commit for the lot instead of one per package. Each EuiccPackageSigned is spliced from one encoding of the
 * package (EuiccPackageTemplate); with ctx.signer the signatures are made on its threads while this one queues the
 * packages already signed.
 */
export async function issueEuiccPackages(ctx: EimContext, eids: readonly string[], pkg: EuiccPackage): Promise<IssuedPackage[]> {
  checkPackageRules(pkg);
  if (eids.length > MAX_PACKAGES_PER_BATCH) throw new EimError('INVALID_ARGUMENT', `at most ${MAX_PACKAGES_PER_BATCH} devices per batch`);
  // One draw for the batch's eimTransactionIds (TransactionId, 16 bytes each): a draw costs more than its bytes.
  const random = ctx.random(TRANSACTION_ID_BYTES * eids.length);
  const items = eids.map((eid, i) => {
    const transactionId = random.subarray(i * TRANSACTION_ID_BYTES, (i + 1) * TRANSACTION_ID_BYTES);
    return { eid, eidValue: eidBytes(eid), transactionId, eimTransactionId: transactionId.toString('hex').toUpperCase() };
  });
  const templates = new Map<string, EuiccPackageTemplate>();
  const template = (eimId: string): EuiccPackageTemplate => {
    let t = templates.get(eimId);
    if (t === undefined) templates.set(eimId, (t = new EuiccPackageTemplate(eimId, pkg)));
    return t;
  };
  const grants = await ctx.store.enqueueCountedMany(
    items,
    (all) => {
      const prepared = all.map((g, i) => {
        // Each device's package is signed with the key generation its eUICC holds (a batch never refreshes the keyring).
        const key = ctx.keys.get(g.keyGeneration);
        if (key === undefined) throw new EimError('INVALID_ARGUMENT', `the eIM has no key of generation ${g.keyGeneration}, which ${g.eid} holds`);
        const t = template(g.eimId);
        return { key, t, ...t.toBeSigned(items[i]!.eidValue, g.counter, items[i]!.transactionId, g.associationToken) };
      });
      const chunks: Promise<Buffer[]>[] = [];
      for (let i = 0; i < prepared.length; i += SIGN_JOB) {
        const part = prepared.slice(i, i + SIGN_JOB);
        const signatures = ctx.signer === undefined ? Promise.resolve(part.map((p) => signPlain(p.key, p.data))) : ctx.signer.sign(part);
        chunks.push(signatures.then((s) => part.map((p, j) => p.t.request(p.data.subarray(0, p.signedLength), s[j]!))));
      }
      return chunks;
    },
    ctx.now(),
  );
  return items.map((item, i) => ({ eimTransactionId: item.eimTransactionId, counter: grants[i]!.counter }));
}

/** A package of PSMOs (enable, disable, delete, listProfileInfo, getRAT, configureImmediateEnable, fallback attribute, setDefaultDpAddress). */
export function issuePsmos(ctx: EimContext, eid: string, psmos: Psmo[], o: IssueOptions = {}): Promise<IssuedPackage> {
  return issueEuiccPackage(ctx, eid, { type: 'psmoList', value: psmos }, o);
}

/** A package of eCOs (addEim, deleteEim, updateEim, listEim). */
export function issueEcos(ctx: EimContext, eid: string, ecos: Eco[], o: IssueOptions = {}): Promise<IssuedPackage> {
  return issueEuiccPackage(ctx, eid, { type: 'ecoList', value: ecos }, o);
}
