// TS 33.102 Annex C and TS 35.206/35.231: one subscriber as mcim's AuC record (the export format of issue 9): IMSI, K, OPc or TOPc and TUAK parameters, AMF, SQN.
import type { NewSubscriber, SubscriberState, TuakParameters } from '../store/aucStore.js';
import { IMSI_PATTERN, MAX_IND_BITS, OPERATOR_ID_PATTERN } from '../store/aucStore.js';
import { AucError } from './errors.js';
import { seqOfSqn } from './sqnGeneration.js';

/** The fields a record may carry; any other is refused. */
const FIELDS = new Set([
  'imsi',
  'iccid',
  'operator',
  'algorithm',
  'k',
  'opc',
  'topc',
  'amf',
  'sqn',
  'indBits',
  'macLength',
  'resLength',
  'ckLength',
  'ikLength',
  'keccakIterations',
  'state',
  'dataOnly',
  'volumeCapBytes',
]);

function fail(where: string, message: string): never {
  throw new AucError('INVALID_ARGUMENT', `${where}: ${message}`);
}

function text(where: string, o: Record<string, unknown>, name: string, pattern: RegExp, what: string): string {
  const v = o[name];
  if (typeof v !== 'string' || !pattern.test(v)) fail(where, `"${name}" must be ${what}`);
  return v;
}

function hex(where: string, o: Record<string, unknown>, name: string, ...lengths: number[]): Buffer {
  const v = o[name];
  const want = lengths.map((n) => `${n}`).join(' or ');
  if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(v) || !lengths.includes(v.length / 2)) fail(where, `"${name}" must be ${want} bytes of hex`);
  return Buffer.from(v, 'hex');
}

function choice<T extends number>(where: string, o: Record<string, unknown>, name: string, allowed: readonly T[]): T {
  const v = o[name];
  if (!(allowed as readonly unknown[]).includes(v)) fail(where, `"${name}" must be one of ${allowed.join(', ')}`);
  return v as T;
}

function integer(where: string, o: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(where, `"${name}" must be an integer ${min}..${max}`);
  return v;
}

/**
 * Reads one subscriber record (a parsed JSON object); `where` prefixes every message (e.g. "line 12"). Secrets are
 * never quoted in a message.
 */
export function parseSubscriberRecord(value: unknown, where: string): NewSubscriber {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'not a JSON object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!FIELDS.has(key)) fail(where, `unknown field "${key.slice(0, 40)}"`);
  const imsi = text(where, o, 'imsi', IMSI_PATTERN, '6 to 15 digits');
  const iccid = o['iccid'] === undefined ? undefined : text(where, o, 'iccid', /^\d{18,20}F?$/, '18 to 20 digits');
  const operatorId = text(where, o, 'operator', OPERATOR_ID_PATTERN, "1 to 64 letters, digits, '.', '_' or '-'");
  const algorithm = o['algorithm'];
  const indBits = o['indBits'] === undefined ? 5 : integer(where, o, 'indBits', 0, MAX_IND_BITS);
  const amf = o['amf'] === undefined ? Buffer.from('8000', 'hex') : hex(where, o, 'amf', 2);
  const seqHe = o['sqn'] === undefined ? 0 : seqOfSqn(hex(where, o, 'sqn', 6), indBits);
  let secrets: NewSubscriber['secrets'];
  if (algorithm === 'milenage') {
    for (const tuakOnly of ['topc', 'macLength', 'resLength', 'ckLength', 'ikLength', 'keccakIterations']) {
      if (o[tuakOnly] !== undefined) fail(where, `"${tuakOnly}" is a TUAK field`);
    }
    secrets = { algorithm, k: hex(where, o, 'k', 16), opc: hex(where, o, 'opc', 16), tuak: undefined };
  } else if (algorithm === 'tuak') {
    if (o['opc'] !== undefined) fail(where, '"opc" is a Milenage field (TUAK takes "topc")');
    const tuak: TuakParameters = {
      macLength: choice(where, o, 'macLength', [8, 16, 32] as const),
      resLength: choice(where, o, 'resLength', [4, 8, 16, 32] as const),
      ckLength: choice(where, o, 'ckLength', [16, 32] as const),
      ikLength: choice(where, o, 'ikLength', [16, 32] as const),
      keccakIterations: integer(where, o, 'keccakIterations', 1, 999_999),
    };
    secrets = { algorithm, k: hex(where, o, 'k', 16, 32), opc: hex(where, o, 'topc', 32), tuak };
  } else {
    fail(where, '"algorithm" must be "milenage" or "tuak"');
  }
  const state = o['state'] === undefined ? 'active' : (text(where, o, 'state', /^(active|suspended)$/, '"active" or "suspended"') as SubscriberState);
  if (o['dataOnly'] !== undefined && typeof o['dataOnly'] !== 'boolean') fail(where, '"dataOnly" must be true or false');
  const volumeCapBytes = o['volumeCapBytes'] === undefined || o['volumeCapBytes'] === null ? undefined : integer(where, o, 'volumeCapBytes', 0, Number.MAX_SAFE_INTEGER);
  return {
    imsi,
    ...(iccid === undefined ? {} : { iccid }),
    operatorId,
    secrets,
    amf,
    seqHe,
    indBits,
    state,
    restrictions: { dataOnly: o['dataOnly'] === true, volumeCapBytes },
  };
}
