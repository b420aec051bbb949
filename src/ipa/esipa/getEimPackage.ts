// SGP.32 v1.2 5.14.7 ESipa.GetEimPackage, the IPA's side: poll the eIM with the EID; the package comes back as the eIM signed it.
import { EimPackageError, GetEimPackageRequest, type GetEimPackageRequest as Request } from '../../asn1/definitions/sgp32.js';
import { encode } from '../../asn1/schema.js';
import { decodeTlv } from '../../asn1/tlv.js';
import { EsipaError, IpaError } from '../errors.js';
import type { EsipaClient } from './esipaClient.js';

export type EimPackage =
  | { readonly kind: 'euiccPackageRequest' | 'ipaEuiccDataRequest' | 'profileDownloadTriggerRequest'; readonly der: Buffer }
  /** noEimPackageAvailable: nothing to do. */
  | { readonly kind: 'none' };

const KINDS = ['euiccPackageRequest', 'ipaEuiccDataRequest', 'profileDownloadTriggerRequest'] as const;

/** The next eIM package; an eimPackageError other than noEimPackageAvailable is an EsipaError with its code. */
export async function getEimPackage(client: EsipaClient, request: Request): Promise<EimPackage> {
  const fn = 'GetEimPackage';
  let error: number | undefined;
  if (client.binding === 'asn1') {
    const answer = await client.asn1(fn, encode(GetEimPackageRequest, request));
    if (answer === undefined || answer.value.type !== 'getEimPackageResponse') throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the eIM answered ${answer?.value.type ?? 'nothing'}`);
    const response = answer.value.value;
    if (response.type === 'eimPackageError') error = response.value;
    // BF4F { package }: the package's bytes as received, for LoadEuiccPackage and the rest.
    else return { kind: response.type, der: Buffer.from(decodeTlv(answer.der).children![0]!.raw) };
  } else {
    const r = await client.json('getEimPackage', {
      eidValue: request.eidValue,
      ...(request.notifyStateChange === undefined ? {} : { notifyStateChange: true }),
      ...(request.stateChangeCause === undefined ? {} : { stateChangeCause: request.stateChangeCause }),
      ...(request.rPLMN === undefined ? {} : { rPLMN: request.rPLMN }),
    });
    const present = KINDS.filter((k) => r[k] !== undefined);
    if (present.length > 1 || (present.length === 1) === (r.eimPackageError !== undefined)) {
      throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the answer carries not exactly one package or error`);
    }
    if (present.length === 1) return { kind: present[0]!, der: r[present[0]!]! };
    error = r.eimPackageError;
  }
  if (error === EimPackageError.noEimPackageAvailable) return { kind: 'none' };
  throw new EsipaError(fn, `eimPackageError ${String(error)}`, { ...(error === undefined ? {} : { esipaCode: error }) });
}
