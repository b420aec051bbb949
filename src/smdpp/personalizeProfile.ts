// Personalization of an unprotected profile package (TCA eUICC Profile Package v3: ProfileHeader iccid, EF.ICCID of PE-MF,
// EF.IMSI of PE-USIM, PE-AKAParameter key/opc, PE-PINCodes and PE-PUKCodes values) by patching fixed-length fields in place.
import {
  decodeProfilePackage,
  decodeImsi,
  encodeProfilePackage,
  extractProfileEssentials,
  fileContents,
  type File,
  type ProfileElement,
} from '../asn1/definitions/saip.js';
import { McimError } from '../errors.js';
import { CODE_KEY_REFERENCES, CODE_NAMES, type CodeName, type ProfileTypeRules, type TuakLengths } from './profileType.js';

function notPatchable(detail: string, cause?: unknown): McimError {
  return new McimError('TEMPLATE_NOT_PATCHABLE', `the profile template cannot be personalized in place: ${detail}`, cause === undefined ? undefined : { cause });
}

/** The largest template accepted: TS.48 profiles are about 12 KiB, profiles with applets a few hundred KiB. */
export const MAX_TEMPLATE_SIZE = 1024 * 1024;

/** Decodes a template; anything the codec refuses, or a package that does not re-encode byte for byte, is not patchable. */
function decodeTemplate(template: Buffer): ProfileElement[] {
  if (template.length > MAX_TEMPLATE_SIZE) throw notPatchable(`it is ${template.length} bytes, more than ${MAX_TEMPLATE_SIZE}`);
  let elements: ProfileElement[];
  try {
    elements = decodeProfilePackage(template).elements;
  } catch (cause) {
    throw notPatchable(`not a valid SAIP profile package (${cause instanceof Error ? cause.message : String(cause)})`, cause);
  }
  // SAIP 2.3: the ProfileHeader first, PE-End last (a package cut at an element boundary still decodes).
  if (elements[0]?.type !== 'header') throw notPatchable('its first profile element is not the ProfileHeader');
  if (elements.at(-1)?.type !== 'end' || elements.filter((e) => e.type === 'end').length !== 1) throw notPatchable('it does not end with one PE-End (truncated?)');
  let again: Buffer;
  try {
    again = encodeProfilePackage(elements);
  } catch (cause) {
    throw notPatchable('it does not re-encode', cause);
  }
  if (!again.equals(template)) throw notPatchable('it does not re-encode byte for byte (not DER, or unknown components)');
  return elements;
}

const MILENAGE_ID = 1;
const TUAK_ID = 2;

/**
 * TUAK's algorithmOptions octet for the type's output lengths, in the coding mcim's eUICC reads (PEDefinitions gives
 * none; src/euicc/usim/akaAlgorithm.ts tuakParams): b3-b1 RES (0 32, 1 64, 2 128, 3 256 bits), b5-b4 MAC (0 64, 1 128,
 * 2 256), b6 CK 256, b7 IK 256. The card then computes the lengths the AuC is given with the subscriber.
 */
export function tuakAlgorithmOptions(t: TuakLengths): number {
  const res = [4, 8, 16, 32].indexOf(t.resLength);
  const mac = [8, 16, 32].indexOf(t.macLength);
  return res | (mac << 3) | (t.ckLength === 32 ? 0x20 : 0) | (t.ikLength === 32 ? 0x40 : 0);
}

/**
 * The template a profile type stores: the operator's package with every PE-AKAParameter that carries its own algorithm
 * set to the type's (Milenage or TUAK, K of the type's length and OPc/TOPc zero until personalized; TUAK's output
 * lengths in algorithmOptions and its Keccak iterations), and the ProfileHeader's mandatory services naming that algorithm (milenage, tuak128 or tuak256) instead of
 * usim-test-algorithm. Everything else is kept. Done once, through the codec.
 */
export function prepareTemplate(template: Buffer, rules: ProfileTypeRules): Buffer {
  const elements = decodeTemplate(template);
  const header = elements.find((e) => e.type === 'header');
  if (header === undefined) throw notPatchable('it has no ProfileHeader');
  let akaCount = 0;
  for (const e of elements) {
    if (e.type !== 'akaParameter' || e.value.algoConfiguration.type !== 'algoParameter') continue;
    akaCount++;
    const p = e.value.algoConfiguration.value;
    p.algorithmID = rules.algorithm === 'milenage' ? MILENAGE_ID : TUAK_ID;
    p.key = Buffer.alloc(rules.keyLength);
    p.opc = Buffer.alloc(rules.algorithm === 'milenage' ? 16 : 32);
    if (rules.algorithm === 'tuak') {
      p.algorithmOptions = Buffer.of(tuakAlgorithmOptions(rules.tuak!));
      // DER leaves out a value equal to its DEFAULT (1).
      if (rules.tuak!.keccakIterations === 1) delete p.numberOfKeccak;
      else p.numberOfKeccak = rules.tuak!.keccakIterations;
    }
  }
  if (akaCount === 0) throw notPatchable('it has no PE-AKAParameter with its own algorithm parameters');
  const services = header.value.eUICCMandatoryServices;
  delete services.usimTestAlgorithm;
  if (rules.algorithm === 'milenage') services.milenage = null;
  else if (rules.keyLength === 16) services.tuak128 = null;
  else services.tuak256 = null;
  return encodeProfilePackage(elements);
}

/** A field of the package: reads its current bytes and replaces them by bytes of the same length. */
interface Locator {
  readonly name: string;
  get(): Buffer;
  set(bytes: Buffer): void;
}

/** The first `length` bytes of a file's contents, written by one fillFileContent at the start of the file. */
function fileStart(file: File, length: number, name: string): Locator {
  const at = file.findIndex((e) => e.type === 'fillFileContent' || e.type === 'fillFileOffset');
  const element = at < 0 ? undefined : file[at]!;
  if (element === undefined || element.type !== 'fillFileContent' || element.value.length < length) {
    throw notPatchable(`${name}: its first ${length} bytes are not written by one fillFileContent at the start of the file`);
  }
  return {
    name,
    get: () => Buffer.from((file[at]!.value as Buffer).subarray(0, length)),
    set: (bytes) => {
      const value = Buffer.from(file[at]!.value as Buffer);
      bytes.copy(value, 0);
      file[at] = { type: 'fillFileContent', value };
    },
  };
}

/** Where each personalized field lies in the prepared template (byte offsets), found once. */
export interface PatchPlan {
  readonly template: Buffer;
  readonly headerIccid: number;
  readonly efIccid: number;
  readonly efImsi: number;
  /** K and OPc/TOPc of every PE-AKAParameter with its own algorithm parameters. */
  readonly keys: readonly number[];
  readonly opcs: readonly number[];
  readonly keyLength: number;
  readonly opcLength: number;
  /** Offsets of each personalized code's 8-byte value (one per PE that carries its key reference). */
  readonly codes: Readonly<Partial<Record<CodeName, readonly number[]>>>;
  /** Digits a random code gets: as many as the template's value has. */
  readonly codeDigits: Readonly<Partial<Record<CodeName, number>>>;
}

/**
 * The offset of a field: the package is encoded with the field all 00 and all FF; exactly the field's bytes must differ,
 * in one run, and the length must not change (a field whose length shows in enclosing lengths is refused).
 */
function offsetOf(elements: ProfileElement[], locator: Locator, reference: Buffer): number {
  const original = locator.get();
  const length = original.length;
  locator.set(Buffer.alloc(length, 0x00));
  const zeros = encodeProfilePackage(elements);
  locator.set(Buffer.alloc(length, 0xff));
  const ones = encodeProfilePackage(elements);
  locator.set(original);
  if (zeros.length !== reference.length || ones.length !== reference.length) throw notPatchable(`${locator.name} changes the package's length`);
  const first = zeros.findIndex((b, i) => b !== ones[i]);
  if (first < 0) throw notPatchable(`${locator.name} is not in the encoded package`);
  for (let i = 0; i < zeros.length; i++) {
    const inside = i >= first && i < first + length;
    if ((zeros[i] !== ones[i]) !== inside) throw notPatchable(`${locator.name} is not one run of ${length} bytes in the package`);
  }
  return first;
}

/** Digits of a code value (ASCII digits, FF padded); 8 when the value is not digits. */
function digitCount(value: Buffer): number {
  const end = value.indexOf(0xff);
  const used = value.subarray(0, end < 0 ? value.length : end);
  return used.length >= 4 && used.every((b) => b >= 0x30 && b <= 0x39) ? used.length : 8;
}

function codeLocators(elements: ProfileElement[], name: CodeName): Locator[] {
  const { pe, keyReference } = CODE_KEY_REFERENCES[name];
  const out: Locator[] = [];
  for (const e of elements) {
    if (pe === 'pinCodes' && e.type === 'pinCodes' && e.value.pinCodes.type === 'pinconfig') {
      for (const c of e.value.pinCodes.value) {
        if (c.keyReference === keyReference) out.push({ name, get: () => Buffer.from(c.pinValue), set: (b) => (c.pinValue = Buffer.from(b)) });
      }
    } else if (pe === 'pukCodes' && e.type === 'pukCodes') {
      for (const c of e.value.pukCodes) {
        if (c.keyReference === keyReference) out.push({ name, get: () => Buffer.from(c.pukValue), set: (b) => (c.pukValue = Buffer.from(b)) });
      }
    }
  }
  return out;
}

/**
 * Analyses a prepared template once: finds the offset of every field the rules personalize and refuses a template where
 * one is missing or cannot be patched in place; then proves the plan on one sample profile (decoded again, re-encoded
 * identically, every value read back).
 */
export function planPersonalization(template: Buffer, rules: ProfileTypeRules): PatchPlan {
  const elements = decodeTemplate(template);
  const header = elements.find((e) => e.type === 'header');
  const mf = elements.find((e) => e.type === 'mf');
  const usim = elements.find((e) => e.type === 'usim' || e.type === 'iot');
  if (header === undefined) throw notPatchable('it has no ProfileHeader');
  if (mf === undefined) throw notPatchable('it has no PE-MF (EF.ICCID)');
  if (usim === undefined || (usim.type !== 'usim' && usim.type !== 'iot')) throw notPatchable('it has no PE-USIM (EF.IMSI)');
  const h = header.value;
  const headerIccid = offsetOf(elements, { name: 'ProfileHeader iccid', get: () => Buffer.from(h.iccid), set: (b) => (h.iccid = Buffer.from(b)) }, template);
  const efIccid = offsetOf(elements, fileStart(mf.value.efIccid, 10, 'EF.ICCID'), template);
  const efImsi = offsetOf(elements, fileStart(usim.value.efImsi, 9, 'EF.IMSI'), template);
  const keys: number[] = [];
  const opcs: number[] = [];
  const opcLength = rules.algorithm === 'milenage' ? 16 : 32;
  for (const e of elements) {
    if (e.type !== 'akaParameter' || e.value.algoConfiguration.type !== 'algoParameter') continue;
    const p = e.value.algoConfiguration.value;
    const wanted = rules.algorithm === 'milenage' ? MILENAGE_ID : TUAK_ID;
    if (p.algorithmID !== wanted || p.key.length !== rules.keyLength || p.opc.length !== opcLength) {
      throw notPatchable(`a PE-AKAParameter is not ${rules.algorithm} with a ${rules.keyLength}-byte K and ${opcLength}-byte OPc (prepare the template first)`);
    }
    if (rules.algorithm === 'tuak' && (p.algorithmOptions[0] !== tuakAlgorithmOptions(rules.tuak!) || (p.numberOfKeccak ?? 1) !== rules.tuak!.keccakIterations)) {
      throw notPatchable("a PE-AKAParameter's TUAK output lengths or Keccak iterations are not the type's (prepare the template first)");
    }
    keys.push(offsetOf(elements, { name: 'AKA key', get: () => Buffer.from(p.key), set: (b) => (p.key = Buffer.from(b)) }, template));
    opcs.push(offsetOf(elements, { name: 'AKA opc', get: () => Buffer.from(p.opc), set: (b) => (p.opc = Buffer.from(b)) }, template));
  }
  if (keys.length === 0) throw notPatchable('it has no PE-AKAParameter with its own algorithm parameters');
  const codes: Partial<Record<CodeName, number[]>> = {};
  const codeDigits: Partial<Record<CodeName, number>> = {};
  for (const name of CODE_NAMES) {
    if (rules.codes[name].mode === 'template') continue;
    const locators = codeLocators(elements, name);
    if (locators.length === 0) {
      throw notPatchable(`it has no ${name} (key reference ${CODE_KEY_REFERENCES[name].keyReference.toString(16).padStart(2, '0').toUpperCase()} in ${CODE_KEY_REFERENCES[name].pe === 'pinCodes' ? 'PE-PINCodes' : 'PE-PUKCodes'})`);
    }
    codeDigits[name] = digitCount(locators[0]!.get());
    codes[name] = locators.map((l) => offsetOf(elements, l, template));
  }
  const plan: PatchPlan = { template, headerIccid, efIccid, efImsi, keys, opcs, keyLength: rules.keyLength, opcLength, codes, codeDigits };
  checkPlan(plan);
  return plan;
}

/** The values one profile gets. */
export interface PersonalizationValues {
  /** 19 or 20 digits, the Luhn digit included. */
  readonly iccid: string;
  readonly imsi: string;
  readonly k: Buffer;
  /** OPc (Milenage) or TOPc (TUAK). */
  readonly opc: Buffer;
  /** The personalized codes (digits); codes kept from the template are absent. */
  readonly codes: Readonly<Partial<Record<CodeName, string>>>;
}

function nibble(digit: string): number {
  return digit.charCodeAt(0) - 0x30;
}

/** ICCID in the ProfileHeader coding: BCD in digit order, F padded to 10 bytes. */
function writeHeaderIccid(out: Buffer, at: number, iccid: string): void {
  for (let i = 0; i < 10; i++) {
    const hi = 2 * i < iccid.length ? nibble(iccid[2 * i]!) : 0xf;
    const lo = 2 * i + 1 < iccid.length ? nibble(iccid[2 * i + 1]!) : 0xf;
    out[at + i] = (hi << 4) | lo;
  }
}

/** ICCID in the EF.ICCID coding: nibble-swapped BCD, F padded to 10 bytes. */
function writeEfIccid(out: Buffer, at: number, iccid: string): void {
  for (let i = 0; i < 10; i++) {
    const first = 2 * i < iccid.length ? nibble(iccid[2 * i]!) : 0xf;
    const second = 2 * i + 1 < iccid.length ? nibble(iccid[2 * i + 1]!) : 0xf;
    out[at + i] = (second << 4) | first;
  }
}

/** EF.IMSI (TS 31.102 4.2.2): length byte, then identity type 1 and the parity bit with the first digit, F filler; FF after. */
function writeEfImsi(out: Buffer, at: number, imsi: string): void {
  const odd = imsi.length % 2 === 1;
  const nibbles = imsi.length + 1 + (odd ? 0 : 1);
  out.fill(0xff, at, at + 9);
  out[at] = nibbles / 2;
  for (let n = 0; n < nibbles; n++) {
    const value = n === 0 ? (odd ? 0x9 : 0x1) : n <= imsi.length ? nibble(imsi[n - 1]!) : 0xf;
    const byte = at + 1 + (n >> 1);
    out[byte] = (n & 1) === 0 ? (out[byte]! & 0xf0) | value : (out[byte]! & 0x0f) | (value << 4);
  }
}

/** A code value: ASCII digits, FF padded to 8 bytes. */
function writeCode(out: Buffer, at: number, digits: string): void {
  out.fill(0xff, at, at + 8);
  out.write(digits, at, 'latin1');
}

const ICCID = /^[0-9]{19,20}$/;
const IMSI = /^[0-9]{6,15}$/;

/** A copy of the plan's template with the values written at their offsets: no decoding, no allocation but the copy. */
export function personalize(plan: PatchPlan, v: PersonalizationValues): Buffer {
  if (!ICCID.test(v.iccid)) throw new McimError('INVALID_ARGUMENT', `'${v.iccid}' is not an ICCID of 19 or 20 digits`);
  if (!IMSI.test(v.imsi)) throw new McimError('INVALID_ARGUMENT', `'${v.imsi}' is not an IMSI of 6 to 15 digits`);
  if (v.k.length !== plan.keyLength || v.opc.length !== plan.opcLength) {
    throw new McimError('INVALID_ARGUMENT', `K and OPc must be ${plan.keyLength} and ${plan.opcLength} bytes`);
  }
  const out = Buffer.allocUnsafe(plan.template.length);
  plan.template.copy(out);
  writeHeaderIccid(out, plan.headerIccid, v.iccid);
  writeEfIccid(out, plan.efIccid, v.iccid);
  writeEfImsi(out, plan.efImsi, v.imsi);
  for (const at of plan.keys) v.k.copy(out, at);
  for (const at of plan.opcs) v.opc.copy(out, at);
  for (const name of CODE_NAMES) {
    const offsets = plan.codes[name];
    if (offsets === undefined) continue;
    const digits = v.codes[name];
    if (digits === undefined || !/^[0-9]{4,8}$/.test(digits)) throw new McimError('INVALID_ARGUMENT', `${name} must be 4 to 8 digits`);
    for (const at of offsets) writeCode(out, at, digits);
  }
  return out;
}

/** What a personalized package carries, read back by decoding it. */
export interface PersonalizedContents {
  readonly iccid: string;
  readonly imsi: string | undefined;
  readonly algorithmIds: readonly number[];
  readonly keys: readonly Buffer[];
  readonly opcs: readonly Buffer[];
  /** Every value of each code, one per PE carrying it (digits, FF padding removed). */
  readonly codes: Readonly<Record<CodeName, readonly string[]>>;
}

/** Decodes a package and reads back what personalization writes (the ICCID is checked between header and EF.ICCID). */
export function readPersonalizedContents(pkg: Buffer): PersonalizedContents {
  const elements = decodeProfilePackage(pkg).elements;
  const essentials = extractProfileEssentials(elements);
  const usim = elements.find((e) => e.type === 'usim' || e.type === 'iot');
  const imsiFile = usim !== undefined && (usim.type === 'usim' || usim.type === 'iot') ? fileContents(usim.value.efImsi) : undefined;
  const params = elements.flatMap((e) => (e.type === 'akaParameter' && e.value.algoConfiguration.type === 'algoParameter' ? [e.value.algoConfiguration.value] : []));
  const codes = Object.fromEntries(
    CODE_NAMES.map((name) => [
      name,
      codeLocators(elements, name).map((l) => {
        const value = l.get();
        const end = value.indexOf(0xff);
        return value.subarray(0, end < 0 ? value.length : end).toString('latin1');
      }),
    ]),
  ) as Record<CodeName, string[]>;
  return {
    iccid: essentials.iccidDigits,
    imsi: imsiFile === undefined ? undefined : decodeImsi(imsiFile),
    algorithmIds: params.map((p) => p.algorithmID),
    keys: params.map((p) => p.key),
    opcs: params.map((p) => p.opc),
    codes,
  };
}

/** Personalizes one sample profile and reads it back: a plan that would write anything else is refused. */
function checkPlan(plan: PatchPlan): void {
  const sample: PersonalizationValues = {
    iccid: '8999012345678901234',
    imsi: '99999012345678',
    k: Buffer.alloc(plan.keyLength, 0x5a),
    opc: Buffer.alloc(plan.opcLength, 0xa5),
    codes: Object.fromEntries(Object.entries(plan.codeDigits).map(([n, d]) => [n, '7'.repeat(d)])),
  };
  const pkg = personalize(plan, sample);
  let back: PersonalizedContents;
  try {
    if (!encodeProfilePackage(decodeProfilePackage(pkg).elements).equals(pkg)) throw notPatchable('a personalized package does not re-encode identically');
    back = readPersonalizedContents(pkg);
  } catch (cause) {
    if (cause instanceof McimError && cause.code === 'TEMPLATE_NOT_PATCHABLE') throw cause;
    throw notPatchable(`a personalized package does not decode (${cause instanceof Error ? cause.message : String(cause)})`, cause);
  }
  const codesRight = Object.entries(sample.codes).every(([n, d]) => back.codes[n as CodeName].length > 0 && back.codes[n as CodeName].every((x) => x === d));
  if (
    back.iccid !== sample.iccid ||
    back.imsi !== sample.imsi ||
    !back.keys.every((k) => k.equals(sample.k)) ||
    !back.opcs.every((o) => o.equals(sample.opc)) ||
    !codesRight
  ) {
    throw notPatchable('a personalized package does not carry the values written');
  }
}
