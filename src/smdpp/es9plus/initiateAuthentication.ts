// ES9+.InitiateAuthentication (SGP.22 5.6.1, common mutual authentication 3.0.1): checks the address, version and CIs, opens a session, signs serverSigned1.
import { randomBytes } from 'node:crypto';
import { decode, encode } from '../../asn1/schema.js';
import { EUICCInfo1, ServerSigned1, SubjectKeyIdentifier } from '../../asn1/definitions/rsp.js';
import { signPlain } from '../../crypto/ecdsa.js';
import type { Es9Request, Es9Response } from '../../http/es9plusFunctions.js';
import { FunctionFailure, parseField } from '../../http/jsonBinding.js';
import type { ClientInfo } from '../../http/server.js';
import { sameAddress, signatureTlv, type SmdpContext, type SmdpCredential } from '../context.js';
import { authenticationKey, sessionRefused, sourceOf } from '../rateLimit.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';

const CHALLENGE_LENGTH = 16;
const TRANSACTION_ID_LENGTH = 16;
/** The SGP.22 major version mcim implements (v2.x): euiccInfo1.svn must carry it. */
const SUPPORTED_SVN_MAJOR = 2;

interface SessionCis {
  /** The credential whose CERT.DPauth (then CERT.DPpb) the eUICC verifies: under a CI of the verification list. */
  readonly credential: SmdpCredential;
  /** euiccCiPKIdToBeUsed: the CI of the signing list the eUICC's chain must end at. */
  readonly euiccCiKeyId: Buffer;
}

function hex(id: Uint8Array): string {
  return Buffer.from(id).toString('hex');
}

/**
 * The session's two CIs, chosen independently (SGP.22 3.1.2, 5.6.1): the first CI of euiccCiPKIdListForSigning the
 * SM-DP+ knows, and a CI of euiccCiPKIdListForVerification the SM-DP+ holds a CERT.DPauth under: the same CI when the
 * eUICC offers it for both (one curve for the whole session), the first such CI otherwise. No known CI in either list:
 * 8.8.2/3.1; known CIs to verify with but no CERT.DPauth under any: 8.8.4/3.7.
 */
function chooseCis(ctx: SmdpContext, info: EUICCInfo1): SessionCis {
  const known = ctx.trustedCisByKeyId;
  const held = ctx.credentialsByCiKeyId;
  const euiccCiKeyId = info.euiccCiPKIdListForSigning.find((id) => known.has(hex(id)));
  if (euiccCiKeyId === undefined) throw fail('ciNotSupported', 'none of the CIs of euiccCiPKIdListForSigning is known to this SM-DP+');
  if (!info.euiccCiPKIdListForVerification.some((id) => known.has(hex(id)))) {
    throw fail('ciNotSupported', 'none of the CIs of euiccCiPKIdListForVerification is known to this SM-DP+');
  }
  const sameCi = info.euiccCiPKIdListForVerification.some((id) => id.equals(euiccCiKeyId)) ? held.get(hex(euiccCiKeyId)) : undefined;
  const credential = sameCi ?? info.euiccCiPKIdListForVerification.map((id) => held.get(hex(id))).find((c) => c !== undefined);
  if (credential === undefined) throw fail('noCredentialForCi', 'this SM-DP+ holds no CERT.DPauth under a CI of euiccCiPKIdListForVerification');
  return { credential, euiccCiKeyId };
}

/**
 * The session is stored before serverSigned1 is signed: a source that already holds `maxOpenSessionsPerSource` open
 * sessions, or is locked out after failed authentications, gets 1.2/4.4 (busy) and costs neither a signature nor a row.
 */
export async function initiateAuthentication(
  ctx: SmdpContext,
  request: Es9Request<'initiateAuthentication'>,
  client: ClientInfo,
): Promise<Es9Response<'initiateAuthentication'>> {
  const { euiccChallenge, smdpAddress } = request;
  // A malformed field (SGP.22 5.2.6: invalid format 2.1 under the eUICC's subject code), like the others.
  if (euiccChallenge.length !== CHALLENGE_LENGTH) throw new FunctionFailure(FIELD_SUBJECT.euicc, '2.1', `euiccChallenge must be ${CHALLENGE_LENGTH} bytes`);
  const info = parseField('euiccInfo1', FIELD_SUBJECT.euicc, () => decode(EUICCInfo1, request.euiccInfo1));
  if (!sameAddress(smdpAddress, ctx.address)) throw fail('invalidSmdpAddress', `'${smdpAddress}' is not this SM-DP+ (${ctx.address})`);
  if (info.svn[0] !== SUPPORTED_SVN_MAJOR) {
    throw fail('svnNotSupported', `the eUICC implements SGP.22 v${[...info.svn].join('.')}; this SM-DP+ supports v${SUPPORTED_SVN_MAJOR}.x`);
  }
  const { credential, euiccCiKeyId } = chooseCis(ctx, info);

  const now = ctx.now();
  const transactionId = randomBytes(TRANSACTION_ID_LENGTH);
  const serverChallenge = randomBytes(CHALLENGE_LENGTH);
  const ciKeyId = credential.ci.subjectKeyIdentifier!;
  const opened = await ctx.store.sessions.create(
    {
      transactionId: transactionId.toString('hex').toUpperCase(),
      curve: credential.curve,
      ciKeyId: ciKeyId.toString('hex'),
      euiccCiKeyId: hex(euiccCiKeyId),
      euiccChallenge,
      serverChallenge,
      expiresAt: now + ctx.sessionTtlMs,
      source: sourceOf(client.address),
    },
    now,
    { maxOpen: ctx.limits.maxOpenSessionsPerSource, unlessLocked: authenticationKey(client.address) },
  );
  if (!opened) {
    sessionRefused(ctx, client.address);
    throw fail('busy', 'this source holds too many open sessions or failed to authenticate too often: try again later');
  }
  const serverSigned1 = encode(ServerSigned1, { transactionId, euiccChallenge, serverAddress: smdpAddress, serverChallenge });
  const serverSignature1 = signatureTlv(signPlain(credential.dpAuth.privateKey, serverSigned1));
  return {
    transactionId,
    serverSigned1,
    serverSignature1,
    euiccCiPKIdToBeUsed: encode(SubjectKeyIdentifier, euiccCiKeyId),
    serverCertificate: credential.dpAuth.certificate.der,
  };
}
