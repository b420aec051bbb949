// ES9+.InitiateAuthentication (SGP.22 5.6.1, common mutual authentication 3.0.1): checks the address and CIs, opens a session, signs serverSigned1.
import { randomBytes } from 'node:crypto';
import { decode, encode } from '../../asn1/schema.js';
import { EUICCInfo1, ServerSigned1, SubjectKeyIdentifier } from '../../asn1/definitions/rsp.js';
import { signPlain } from '../../crypto/ecdsa.js';
import { parseField, type RequestFields } from '../../http/jsonBinding.js';
import { sameAddress, signatureTlv, type SmdpContext, type SmdpCredential } from '../context.js';
import { FIELD_SUBJECT, fail } from '../statusCodes.js';

const CHALLENGE_LENGTH = 16;
const TRANSACTION_ID_LENGTH = 16;

/**
 * The credential to use: the first CI of euiccCiPKIdListForVerification (the eUICC verifies our certificates with
 * it) that is also in euiccCiPKIdListForSigning (we verify the eUICC's chain with it) and that we hold keys under.
 */
function chooseCredential(ctx: SmdpContext, info: EUICCInfo1): SmdpCredential | undefined {
  for (const id of info.euiccCiPKIdListForVerification) {
    if (!info.euiccCiPKIdListForSigning.some((s) => s.equals(id))) continue;
    const credential = ctx.credentials.find((c) => c.ci.subjectKeyIdentifier?.equals(id) === true);
    if (credential !== undefined) return credential;
  }
  return undefined;
}

export async function initiateAuthentication(ctx: SmdpContext, fields: RequestFields): Promise<{ body: Record<string, unknown> }> {
  const euiccChallenge = fields.base64('euiccChallenge', FIELD_SUBJECT.euicc);
  if (euiccChallenge.length !== CHALLENGE_LENGTH) throw fail('euiccVerificationFailed', `euiccChallenge must be ${CHALLENGE_LENGTH} bytes`);
  const info = parseField('euiccInfo1', FIELD_SUBJECT.euicc, () => decode(EUICCInfo1, fields.base64('euiccInfo1', FIELD_SUBJECT.euicc)));
  const smdpAddress = fields.string('smdpAddress', FIELD_SUBJECT.smdpAddress);
  if (!sameAddress(smdpAddress, ctx.address)) throw fail('invalidSmdpAddress', `'${smdpAddress}' is not this SM-DP+ (${ctx.address})`);

  const credential = chooseCredential(ctx, info);
  if (credential === undefined) throw fail('ciNotSupported', 'none of the eUICC\'s CI public key identifiers is supported by this SM-DP+');

  const now = ctx.now();
  const transactionId = randomBytes(TRANSACTION_ID_LENGTH);
  const serverChallenge = randomBytes(CHALLENGE_LENGTH);
  const serverSigned1 = encode(ServerSigned1, { transactionId, euiccChallenge, serverAddress: smdpAddress, serverChallenge });
  const serverSignature1 = signatureTlv(signPlain(credential.dpAuth.privateKey, serverSigned1));
  const ciKeyId = credential.ci.subjectKeyIdentifier!;
  await ctx.store.createSession(
    {
      transactionId: transactionId.toString('hex').toUpperCase(),
      curve: credential.curve,
      ciKeyId: ciKeyId.toString('hex'),
      euiccChallenge,
      serverChallenge,
      expiresAt: now + ctx.sessionTtlMs,
    },
    now,
  );
  return {
    body: {
      transactionId: transactionId.toString('hex').toUpperCase(),
      serverSigned1: serverSigned1.toString('base64'),
      serverSignature1: serverSignature1.toString('base64'),
      euiccCiPKIdToBeUsed: encode(SubjectKeyIdentifier, ciKeyId).toString('base64'),
      serverCertificate: credential.dpAuth.certificate.der.toString('base64'),
    },
  };
}
