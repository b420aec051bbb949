// SGP.32 v1.2 ESipa.TransferEimPackage (inject mode, BF4E), the IPAd's side: the package the eIM pushed is executed on the eUICC and answered in the response (euiccPackageResult, ipaEuiccDataResponse), taken for later delivery by ProvideEimPackageResult (eimPackageReceived: download triggers, acknowledgements), or refused (eimPackageError).
import { createHash } from 'node:crypto';
import { EsipaMessageFromEimToIpa, TransferEimPackageResponse, type EimConfigurationData, type TransferEimPackageResponse as Response } from '../../asn1/definitions/sgp32.js';
import { Asn1Error } from '../../asn1/errors.js';
import { decode, encode } from '../../asn1/schema.js';
import { decodeTlv, encodeTlv } from '../../asn1/tlv.js';
import { loadEuiccPackage } from '../es10b/loadEuiccPackage.js';
import { removeNotificationFromList } from '../es10b/removeNotificationFromList.js';
import type { Es10Client } from '../es10Client.js';

/** Packages taken for later delivery the IPAd remembers (a push of one again is answered eimPackageReceived, not run twice); the oldest is forgotten beyond. */
export const MAX_PACKAGES_TAKEN = 64;

export interface TransferContext {
  readonly es10: Es10Client;
  readonly eimId: string;
  readonly configs: readonly EimConfigurationData[];
  /** IpaEuiccData gathered over ES10 (the IPAd's own, as for a retrieved IpaEuiccDataRequest). */
  readonly ipaEuiccData: (der: Buffer) => Promise<{ der: Buffer; outcome: string }>;
  /** Runs a ProfileDownloadTriggerRequest after the response went out and delivers its result (ProvideEimPackageResult). */
  readonly later: (der: Buffer) => void;
  /** Digests of the packages taken for later delivery, oldest first (at most MAX_PACKAGES_TAKEN). */
  readonly taken: Set<string>;
}

export interface TransferAnswer {
  /** The EsipaMessageFromIpaToEim (BF4E ...) to answer with. */
  readonly der: Buffer;
  /** What happened, for the IPAd's log. */
  readonly outcome: string;
}

/** TransferEimPackageResponse eimPackageError invalidPackageFormat. */
const INVALID_PACKAGE_FORMAT = 1;

function answer(value: Response, outcome: string): TransferAnswer {
  return { der: encode(TransferEimPackageResponse, value), outcome };
}

/**
 * `message` is the request body (EsipaMessageFromEimToIpa). Not a TransferEimPackageRequest, or one that does not
 * decode: eimPackageError invalidPackageFormat (1). An EuiccPackageRequest goes to the eUICC byte for byte
 * (LoadEuiccPackage) and its EuiccPackageResult comes back byte for byte in BF4E; an IpaEuiccDataRequest is answered
 * with the IpaEuiccDataResponse; a ProfileDownloadTriggerRequest is taken (eimPackageReceived) and run once the
 * response is out, its result provided later; EimAcknowledgements remove the acknowledged results and notifications
 * from the eUICC (eimPackageReceived).
 */
export async function transferEimPackage(ctx: TransferContext, message: Buffer): Promise<TransferAnswer> {
  let request;
  try {
    const decoded = decode(EsipaMessageFromEimToIpa, message);
    request = decoded.type === 'transferEimPackageRequest' ? decoded.value : undefined;
  } catch (e) {
    if (!(e instanceof Asn1Error)) throw e;
  }
  if (request === undefined) return answer({ type: 'eimPackageError', value: INVALID_PACKAGE_FORMAT }, 'not a TransferEimPackageRequest: invalidPackageFormat');
  // BF4E { package }: the package's bytes as received.
  const raw = Buffer.from(decodeTlv(message).children![0]!.raw);
  switch (request.type) {
    case 'euiccPackageRequest': {
      const loaded = await loadEuiccPackage(ctx.es10, raw);
      return { der: encodeTlv(0xbf4e, loaded.der), outcome: loaded.value.type };
    }
    case 'ipaEuiccDataRequest': {
      const data = await ctx.ipaEuiccData(raw);
      return { der: encodeTlv(0xbf4e, data.der), outcome: data.outcome };
    }
    case 'profileDownloadTriggerRequest': {
      const key = createHash('sha256').update(raw).digest('hex');
      if (ctx.taken.has(key)) return answer({ type: 'eimPackageReceived', value: null }, 'profileDownloadTriggerRequest already taken');
      if (ctx.taken.size >= MAX_PACKAGES_TAKEN) ctx.taken.delete(ctx.taken.values().next().value!);
      ctx.taken.add(key);
      ctx.later(raw);
      return answer({ type: 'eimPackageReceived', value: null }, 'profileDownloadTriggerRequest taken');
    }
    case 'eimAcknowledgements': {
      for (const seq of request.value) await removeNotificationFromList(ctx.es10, seq).catch(() => undefined);
      return answer({ type: 'eimPackageReceived', value: null }, `acknowledged ${request.value.join(', ')}`);
    }
  }
}
