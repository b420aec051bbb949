// Generating a profile type's stock (docs/conformance.md, Profile personalization): ICCIDs with their Luhn digit (ITU-T
// E.118), consecutive IMSIs, fresh random K, OPc (TS 35.206) or TOPc (TS 35.231) from the type's OP/TOP, PIN/PUK/ADM codes.
import { randomFillSync } from 'node:crypto';
import { computeOpc } from '../crypto/milenage.js';
import { computeTopc } from '../crypto/tuak.js';
import { McimError } from '../errors.js';
import type { ProfileStock } from '../store/profileStock.js';
import { personalize, planPersonalization, type PatchPlan } from './personalizeProfile.js';
import { CODE_NAMES, checkProfileTypeRules, type CodeName, type ProfileTypeRules, type StockAlgorithm, type TuakLengths } from './profileType.js';

/** The Luhn check digit of `digits` (ISO/IEC 7812-1 Annex B), as ICCIDs carry it (ITU-T E.118). */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 0x30;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** Random bytes drawn from a pool refilled 64 KiB at a time (one getrandom per refill, not one per profile); used bytes are zeroed. */
export class RandomPool {
  readonly #pool = Buffer.alloc(65536);
  #at = this.#pool.length;

  /** The offset of `n` fresh bytes in the pool. */
  #take(n: number): number {
    if (this.#at + n > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#at = 0;
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  bytes(n: number): Buffer {
    const at = this.#take(n);
    const out = Buffer.from(this.#pool.subarray(at, at + n));
    this.#pool.fill(0, at, at + n);
    return out;
  }

  /** `n` uniformly random decimal digits (bytes of 250 and above are drawn again). */
  digits(n: number): string {
    let s = '';
    while (s.length < n) {
      const at = this.#take(1);
      const b = this.#pool[at]!;
      this.#pool[at] = 0;
      if (b < 250) s += String.fromCharCode(0x30 + (b % 10));
    }
    return s;
  }
}

/** What the operator's AuC needs for one subscriber, sealed at rest with the profile. */
export interface SubscriberSecrets {
  readonly algorithm: StockAlgorithm;
  /** hex */
  readonly k: string;
  /** OPc (Milenage) or TOPc (TUAK), hex. */
  readonly opc: string;
  readonly amf: string;
  readonly sqn: string;
  readonly tuak?: TuakLengths;
  /** The personalized PIN/PUK/ADM codes. */
  readonly codes: Readonly<Partial<Record<CodeName, string>>>;
}

export interface GenerateRequest {
  readonly count: number;
  /** The ICCID digits before the Luhn digit of the first profile: 18 or 19 digits. */
  readonly iccidStart: string;
  /** The first IMSI (6 to 15 digits); the following ones count up with the same number of digits. */
  readonly imsiStart: string;
}

export interface GeneratedProfile {
  readonly iccid: string;
  readonly imsi: string;
  readonly package: Buffer;
  readonly secrets: SubscriberSecrets;
}

/** The last profile's ICCID body and IMSI, checked to keep their lengths and the type's prefixes. */
function ranges(rules: ProfileTypeRules, r: GenerateRequest): { iccids: [string, string]; imsis: [string, string] } {
  if (!Number.isSafeInteger(r.count) || r.count < 1 || r.count > 100_000_000) throw new McimError('INVALID_ARGUMENT', 'the count must be 1 to 100,000,000');
  if (!/^[0-9]{18,19}$/.test(r.iccidStart)) throw new McimError('INVALID_ARGUMENT', `the ICCID start '${r.iccidStart}' must be the 18 or 19 digits before the Luhn digit`);
  if (!/^[0-9]{6,15}$/.test(r.imsiStart)) throw new McimError('INVALID_ARGUMENT', `the IMSI start '${r.imsiStart}' must be 6 to 15 digits`);
  const lastIccid = (BigInt(r.iccidStart) + BigInt(r.count - 1)).toString().padStart(r.iccidStart.length, '0');
  const lastImsi = (BigInt(r.imsiStart) + BigInt(r.count - 1)).toString().padStart(r.imsiStart.length, '0');
  if (lastIccid.length !== r.iccidStart.length) throw new McimError('INVALID_ARGUMENT', `${r.count} ICCIDs from ${r.iccidStart} overflow ${r.iccidStart.length} digits`);
  if (lastImsi.length !== r.imsiStart.length) throw new McimError('INVALID_ARGUMENT', `${r.count} IMSIs from ${r.imsiStart} overflow ${r.imsiStart.length} digits`);
  for (const [what, first, last, prefix] of [
    ['ICCID', r.iccidStart, lastIccid, rules.iccidPrefix],
    ['IMSI', r.imsiStart, lastImsi, rules.imsiPrefix],
  ] as const) {
    if (!first.startsWith(prefix) || !last.startsWith(prefix)) throw new McimError('INVALID_ARGUMENT', `the ${what}s ${first} to ${last} do not all start with the profile type's prefix ${prefix}`);
  }
  return { iccids: [r.iccidStart + luhnDigit(r.iccidStart), lastIccid + luhnDigit(lastIccid)], imsis: [r.imsiStart, lastImsi] };
}

/** Personalizes profiles one at a time from a plan: nothing is kept between profiles (memory flat in the count). */
export function* personalizeProfiles(plan: PatchPlan, rules: ProfileTypeRules, request: GenerateRequest, random = new RandomPool()): Generator<GeneratedProfile> {
  ranges(rules, request);
  const op = Buffer.from(rules.op, 'hex');
  const iccidBase = BigInt(request.iccidStart);
  const imsiBase = BigInt(request.imsiStart);
  for (let i = 0; i < request.count; i++) {
    const body = (iccidBase + BigInt(i)).toString().padStart(request.iccidStart.length, '0');
    const iccid = body + luhnDigit(body);
    const imsi = (imsiBase + BigInt(i)).toString().padStart(request.imsiStart.length, '0');
    const k = random.bytes(rules.keyLength);
    const opc = rules.algorithm === 'milenage' ? computeOpc(k, op) : computeTopc(k, op, rules.tuak!.keccakIterations);
    const codes: Partial<Record<CodeName, string>> = {};
    for (const name of CODE_NAMES) {
      const rule = rules.codes[name];
      if (rule.mode === 'fixed') codes[name] = rule.value;
      else if (rule.mode === 'random') codes[name] = random.digits(plan.codeDigits[name]!);
    }
    const pkg = personalize(plan, { iccid, imsi, k, opc, codes });
    const secrets: SubscriberSecrets = {
      algorithm: rules.algorithm,
      k: k.toString('hex'),
      opc: opc.toString('hex'),
      amf: rules.amf,
      sqn: rules.sqnStart,
      ...(rules.tuak === undefined ? {} : { tuak: rules.tuak }),
      codes,
    };
    k.fill(0);
    yield { iccid, imsi, package: pkg, secrets };
  }
}

/** Profiles written per transaction. */
export const STOCK_BATCH = 1000;

export interface GenerateProgress {
  readonly done: number;
  readonly total: number;
}

export interface GenerateResult {
  readonly profileType: string;
  readonly operator: string;
  readonly count: number;
  readonly firstIccid: string;
  readonly lastIccid: string;
  readonly firstImsi: string;
  readonly lastImsi: string;
}

/**
 * Generates `count` profiles of a stored type into the stock, `STOCK_BATCH` per transaction, calling `onProgress` after
 * each batch. Refused before anything is written when an ICCID or IMSI of the ranges is already in stock (STOCK_CONFLICT).
 */
export async function generateStock(stock: ProfileStock, typeName: string, request: GenerateRequest, now: number, onProgress?: (p: GenerateProgress) => void): Promise<GenerateResult> {
  const type = await stock.openType(typeName);
  const rules = checkProfileTypeRules(JSON.parse(type.secretRules) as Record<string, unknown>);
  const { iccids, imsis } = ranges(rules, request);
  if (await stock.overlaps(iccids, imsis)) {
    throw new McimError('STOCK_CONFLICT', `ICCIDs ${iccids[0]} to ${iccids[1]} or IMSIs ${imsis[0]} to ${imsis[1]} overlap profiles already in stock: nothing was written`);
  }
  const plan = planPersonalization(type.template, rules);
  let batch: { iccid: string; imsi: string; package: Buffer; secrets: Buffer }[] = [];
  let done = 0;
  for (const p of personalizeProfiles(plan, rules, request)) {
    batch.push({ iccid: p.iccid, imsi: p.imsi, package: p.package, secrets: Buffer.from(JSON.stringify(p.secrets), 'utf8') });
    if (batch.length === STOCK_BATCH) {
      await stock.addProfiles(type.name, type.operator, batch, now);
      done += batch.length;
      batch = [];
      onProgress?.({ done, total: request.count });
    }
  }
  if (batch.length > 0) {
    await stock.addProfiles(type.name, type.operator, batch, now);
    done += batch.length;
    onProgress?.({ done, total: request.count });
  }
  return { profileType: type.name, operator: type.operator, count: done, firstIccid: iccids[0], lastIccid: iccids[1], firstImsi: imsis[0], lastImsi: imsis[1] };
}
