// SGP.32 v1.2 6.1-6.3: reading the eIM's answer to an indirect-download function in the ASN.1 binding: the ok alternative's components as received (the SM-DP+'s signed data, for ES10b byte for byte), or the function's error integer.
import type { EsipaMessageFromEimToIpa } from '../../asn1/definitions/sgp32.js';
import { decodeTlv } from '../../asn1/tlv.js';
import { EsipaError, IpaError } from '../errors.js';

/**
 * `answer` must be the `expected` alternative of EsipaMessageFromEimToIpa (already checked against its definition).
 * Returns the raw components of its ok alternative (tag A0 inside the outer element), or throws the EsipaError of its
 * error integer (`errorName`).
 */
export function relayedComponents(fn: string, answer: { der: Buffer; value: EsipaMessageFromEimToIpa } | undefined, expected: EsipaMessageFromEimToIpa['type']): Buffer[] {
  if (answer === undefined || answer.value.type !== expected) throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the eIM answered ${answer?.value.type ?? 'nothing'}`);
  const inner = (answer.value.value as { type: string; value: unknown });
  if (typeof inner.value === 'number') throw new EsipaError(fn, `${inner.type} ${inner.value}`, { esipaCode: inner.value });
  const ok = decodeTlv(answer.der).children![0]!;
  return (ok.children ?? []).map((c) => Buffer.from(c.raw));
}

/** The JSON binding's error integer, if the answer carries one (then the ok fields must be absent). */
export function jsonError(fn: string, name: string, code: number | undefined): void {
  if (code !== undefined) throw new EsipaError(fn, `${name} ${code}`, { esipaCode: code });
}

/** A required field of a JSON ok answer. */
export function field(fn: string, name: string, value: Buffer | undefined): Buffer {
  if (value === undefined) throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the answer has neither ${name} nor an error`);
  return value;
}
