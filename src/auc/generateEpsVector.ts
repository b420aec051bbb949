// TS 33.401 6.1.1 and Annex A.2: the EPS authentication vector RAND, XRES, AUTN, KASME for a serving network's PLMN identity.
import { deriveKasme, encodePlmnId } from '../crypto/keyDerivation5g.js';
import type { ServiceRestrictions } from '../store/aucStore.js';
import { allocateAuthenticationVector } from './authenticationVector.js';
import type { AucContext } from './context.js';

export interface ServingPlmn {
  readonly mcc: string;
  readonly mnc: string;
}

export interface EpsAuthenticationVector {
  readonly imsi: string;
  readonly rand: Buffer;
  readonly xres: Buffer;
  readonly autn: Buffer;
  /** KASME = KDF(CK || IK, 0x10, PLMN identity, SQN xor AK). */
  readonly kasme: Buffer;
  readonly restrictions: ServiceRestrictions;
}

export async function generateEpsVector(ctx: AucContext, imsi: string, plmn: ServingPlmn): Promise<EpsAuthenticationVector> {
  const plmnId = encodePlmnId(plmn.mcc, plmn.mnc);
  const { vector, restrictions } = await allocateAuthenticationVector(ctx, imsi);
  const kasme = deriveKasme(vector.ck, vector.ik, plmnId, vector.autn.subarray(0, 6));
  return { imsi, rand: vector.rand, xres: vector.xres, autn: vector.autn, kasme, restrictions };
}
