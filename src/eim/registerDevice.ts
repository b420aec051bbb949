// SGP.32 v1.2 2.5 / SGP.22 4.5.2.2: a device enters the eIM's registry with its eUICC and EUM certificates, chain-validated against the eIM's CIs, and the association token its eUICC assigned.
import { validateChain } from '../pki/validateChain.js';
import type { Device } from '../store/eimStore.js';
import type { EimContext } from './context.js';
import { EimError } from './errors.js';

export interface DeviceRegistration {
  /** DER of CERT.EUICC.ECDSA (its subject's serialNumber is the EID) and of the EUM certificate that issued it. */
  readonly euiccCertificate: Buffer;
  readonly eumCertificate: Buffer;
  /** The EID as delivered; must be the certificate's. */
  readonly eid?: string;
  /** The association token the eUICC assigned to this eIM (AddInitialEim / addEim). */
  readonly associationToken: number;
  /** The eIM's counter on the eUICC when registered (its configuration data's counterValue; default 0). */
  readonly counter?: number;
  readonly tags?: readonly string[];
  /** The generation of the eIM key the eUICC was given (default: the eIM's active key). */
  readonly keyGeneration?: number;
}

/**
 * Validates the chain CI -> EUM -> eUICC at the current time (signatures, validity, roles, the EID within the EUM's
 * name constraints; a PkiError names the first failure) and registers the device (DEVICE_EXISTS if its EID is known).
 */
export async function registerDevice(ctx: EimContext, r: DeviceRegistration): Promise<Device> {
  const chain = validateChain(r.euiccCertificate, [r.eumCertificate], { role: 'euicc', trustedCis: ctx.trustedCis, at: new Date(ctx.now()) });
  const eid = chain.eid!;
  if (r.eid !== undefined && r.eid !== eid) throw new EimError('INVALID_ARGUMENT', `the eUICC certificate is for ${eid}, not ${r.eid}`);
  await ctx.store.registerDevice(
    {
      eid,
      eimId: ctx.eimId,
      euiccCertificate: r.euiccCertificate,
      eumCertificate: r.eumCertificate,
      ciKeyId: chain.ciKeyId.toString('hex'),
      associationToken: r.associationToken,
      ...(r.counter === undefined ? {} : { counter: r.counter }),
      ...(r.tags === undefined ? {} : { tags: r.tags }),
      keyGeneration: r.keyGeneration ?? ctx.keys.active,
    },
    ctx.now(),
  );
  return (await ctx.store.getDevice(eid))!;
}
