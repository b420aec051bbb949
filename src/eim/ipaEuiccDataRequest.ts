// SGP.32 v1.2 2.11.2.2 IpaEuiccDataRequest (BF52): the eIM asks the IPA for eUICC and device data (certificates, EUICCInfo, notifications, package results) by tag.
import { IpaEuiccDataRequest, type IpaEuiccDataRequest as Request } from '../asn1/definitions/sgp32.js';
import { encode } from '../asn1/schema.js';
import { newTransactionId, type EimContext } from './context.js';
import { EimError } from './errors.js';
import type { IssuedPackage } from './euiccPackageRequest.js';

/** The tags of IpaEuiccData components an eIM may ask for (SGP.32 IpaEuiccData); '5A' (the EID) is not one of them. */
export const IPA_EUICC_DATA_TAGS: ReadonlySet<number> = new Set([0xa0, 0x81, 0xa2, 0xbf20, 0xbf22, 0x83, 0x84, 0xa5, 0xa6, 0xa8, 0xa9]);

/** The tag list as the request carries it: the tags' encodings concatenated. */
export function tagListBytes(tags: readonly number[]): Buffer {
  return Buffer.concat(tags.map((t) => Buffer.from(t > 0xff ? [t >> 8, t & 0xff] : [t])));
}

/** Queues an IpaEuiccDataRequest; a tag that names no IpaEuiccData component (the EID's 5A among them) is INVALID_PACKAGE. */
export async function issueIpaEuiccDataRequest(
  ctx: EimContext,
  eid: string,
  request: Omit<Request, 'eimTransactionId' | 'tagList'> & { readonly tags: readonly number[] },
): Promise<IssuedPackage> {
  if (request.tags.length === 0) throw new EimError('INVALID_PACKAGE', 'an IpaEuiccDataRequest asks for at least one tag');
  for (const t of request.tags) {
    if (!IPA_EUICC_DATA_TAGS.has(t)) throw new EimError('INVALID_PACKAGE', `tag ${t.toString(16).toUpperCase()} names no IpaEuiccData component`);
  }
  const tagList = tagListBytes(request.tags);
  const transactionId = newTransactionId(ctx);
  const der = encode(IpaEuiccDataRequest, {
    tagList,
    ...(request.euiccCiPKIdentifierToBeUsed === undefined ? {} : { euiccCiPKIdentifierToBeUsed: request.euiccCiPKIdentifierToBeUsed }),
    ...(request.searchCriteriaNotification === undefined ? {} : { searchCriteriaNotification: request.searchCriteriaNotification }),
    ...(request.searchCriteriaEuiccPackageResult === undefined ? {} : { searchCriteriaEuiccPackageResult: request.searchCriteriaEuiccPackageResult }),
    eimTransactionId: transactionId,
  });
  const id = transactionId.toString('hex').toUpperCase();
  await ctx.store.enqueue(eid, 'ipaEuiccData', id, der, ctx.now());
  return { eimTransactionId: id };
}
