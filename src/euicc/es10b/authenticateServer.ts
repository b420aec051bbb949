// SGP.22 v2.5 5.7.13 ES10b.AuthenticateServer: the eUICC authenticates the SM-DP+ and signs euiccSigned1.
import { decode, encode } from '../../asn1/schema.js';
import { decodeTlv, encodeTlv } from '../../asn1/tlv.js';
import {
  AuthenticateErrorCode,
  AuthenticateServerRequest,
  AuthenticateServerResponse,
  EUICCInfo2,
  type EuiccSigned1,
} from '../../asn1/definitions/rsp.js';
import { verifyPlain } from '../../crypto/ecdsa.js';
import type { EuiccCore } from '../core.js';
import { euiccInfo2 } from './getEuiccInfo2.js';
import { checkServerCertificate } from './serverCertificate.js';

function failure(transactionId: Buffer, code: number): Buffer {
  return encode(AuthenticateServerResponse, {
    type: 'authenticateResponseError',
    value: { transactionId, authenticateErrorCode: code },
  });
}

export function authenticateServer(core: EuiccCore, command: Buffer): Buffer {
  const request = decode(AuthenticateServerRequest, command);
  // ctxParams1 is relayed into euiccSigned1 exactly as the LPA sent it: the last component of the request.
  const rawCtxParams1 = decodeTlv(command).children!.at(-1)!.raw;
  const serverSigned1 = request.serverSigned1.value;
  const transactionId = serverSigned1.transactionId;
  const challenge = core.challenge;
  // The challenge serves one authentication, whatever its outcome; a new one starts a new session.
  core.challenge = undefined;
  core.session = undefined;
  if (challenge === undefined) return failure(transactionId, AuthenticateErrorCode.noSessionContext);

  const certificate = checkServerCertificate(core, request.serverCertificate, 'dp-auth');
  if (!certificate.ok) return failure(transactionId, AuthenticateErrorCode[certificate.failure]);
  const dpAuth = certificate.result.leaf;
  if (!verifyPlain(dpAuth.publicKey.key, request.serverSigned1.der, request.serverSignature1)) {
    return failure(transactionId, AuthenticateErrorCode.invalidSignature);
  }
  if (!serverSigned1.euiccChallenge.equals(challenge)) return failure(transactionId, AuthenticateErrorCode.euiccChallengeMismatch);
  if (!core.ciKeyIdsForSigning.some((id) => id.equals(request.euiccCiPKIdToBeUsed))) {
    return failure(transactionId, AuthenticateErrorCode.ciPKUnknown);
  }

  const info2 = euiccInfo2(core);
  const value: EuiccSigned1 = {
    transactionId,
    serverAddress: serverSigned1.serverAddress,
    serverChallenge: serverSigned1.serverChallenge,
    euiccInfo2: info2,
    ctxParams1: request.ctxParams1,
  };
  const der = encodeTlv(0x30, [
    encodeTlv(0x80, transactionId),
    encodeTlv(0x83, Buffer.from(serverSigned1.serverAddress, 'utf8')),
    encodeTlv(0x84, serverSigned1.serverChallenge),
    encode(EUICCInfo2, info2),
    rawCtxParams1,
  ]);
  const euiccSignature1 = core.sign(der);
  core.session = {
    transactionId,
    serverAddress: serverSigned1.serverAddress,
    smdpOid: certificate.smdpOid,
    ciKeyId: certificate.result.ciKeyId,
    euiccSignature1,
  };
  return encode(AuthenticateServerResponse, {
    type: 'authenticateResponseOk',
    value: {
      euiccSigned1: { value, der },
      euiccSignature1,
      euiccCertificate: core.euiccCertificate,
      eumCertificate: core.eumCertificate,
    },
  });
}

