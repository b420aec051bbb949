// SGP.22 v2.5 5.7.5 ES10b.PrepareDownload: the eUICC verifies the SM-DP+'s binding signature and generates its one-time key pair.
import { capture, decode, encode } from '../../asn1/schema.js';
import { DownloadErrorCode, EUICCSigned2, PrepareDownloadRequest, PrepareDownloadResponse } from '../../asn1/definitions/rsp.js';
import { verifyPlain } from '../../crypto/ecdsa.js';
import { OneTimeEckaKeyPair } from '../../crypto/ecka.js';
import { signatureTlv, type EuiccCore, type PreparedDownload } from '../core.js';
import { checkServerCertificate } from './serverCertificate.js';

function failure(transactionId: Buffer, code: number): Buffer {
  return encode(PrepareDownloadResponse, { type: 'downloadResponseError', value: { transactionId, downloadErrorCode: code } });
}

export function prepareDownload(core: EuiccCore, command: Buffer): Buffer {
  const request = decode(PrepareDownloadRequest, command);
  const smdpSigned2 = request.smdpSigned2.value;
  const session = core.session;
  if (session === undefined) return failure(smdpSigned2.transactionId, DownloadErrorCode.noSessionContext);

  const certificate = checkServerCertificate(core, request.smdpCertificate, 'dp-pb');
  if (!certificate.ok) {
    return failure(
      smdpSigned2.transactionId,
      certificate.failure === 'unsupportedCurve' ? DownloadErrorCode.unsupportedCurve : DownloadErrorCode.invalidCertificate,
    );
  }
  // CERT.DPpb must belong to the SM-DP+ authenticated with CERT.DPauth: same SM-DP+ OID, same CI.
  if (certificate.smdpOid !== session.smdpOid || !certificate.result.ciKeyId.equals(session.ciKeyId)) {
    return failure(smdpSigned2.transactionId, DownloadErrorCode.invalidCertificate);
  }
  const dpPb = certificate.result.leaf;
  const signed = Buffer.concat([request.smdpSigned2.der, signatureTlv(session.euiccSignature1)]);
  if (!verifyPlain(dpPb.publicKey.key, signed, request.smdpSignature2)) {
    return failure(smdpSigned2.transactionId, DownloadErrorCode.invalidSignature);
  }
  if (!smdpSigned2.transactionId.equals(session.transactionId)) {
    return failure(smdpSigned2.transactionId, DownloadErrorCode.invalidTransactionId);
  }
  // The LPA computes hashCc = SHA-256(SHA-256(confirmation code) || transactionId) (SGP.22 3.1.3); the eUICC signs it over.
  if (smdpSigned2.ccRequiredFlag && request.hashCc === undefined) {
    return failure(smdpSigned2.transactionId, DownloadErrorCode.undefinedError);
  }

  // A retry of a download already bound (bppEuiccOtpk, SGP.22 5.7.5) reuses the one-time key pair it was bound to, kept
  // from an earlier session; otherwise a new pair replaces any kept one.
  const previous = core.retainedOtKey;
  const reuse = previous !== undefined && smdpSigned2.bppEuiccOtpk !== undefined && previous.otPk.equals(smdpSigned2.bppEuiccOtpk);
  let prepared: PreparedDownload;
  if (reuse) {
    prepared = { otKeyPair: previous.otKeyPair, otPk: previous.otPk, dpPb, smdpOid: certificate.smdpOid };
  } else {
    previous?.otKeyPair.discard();
    // The one-time key pair is on CERT.DPpb's curve (SGP.22 5.7.5), which may differ from the eUICC certificate's.
    const otKeyPair = new OneTimeEckaKeyPair(dpPb.publicKey.curve);
    otKeyPair.retain();
    prepared = { otKeyPair, otPk: otKeyPair.publicPoint, dpPb, smdpOid: certificate.smdpOid };
    core.retainedOtKey = { otKeyPair, otPk: prepared.otPk };
  }
  session.prepared = prepared;

  const euiccSigned2 = capture(EUICCSigned2, {
    transactionId: session.transactionId,
    euiccOtpk: prepared.otPk,
    ...(smdpSigned2.ccRequiredFlag ? { hashCc: request.hashCc } : {}),
  });
  const euiccSignature2 = core.sign(Buffer.concat([euiccSigned2.der, signatureTlv(request.smdpSignature2)]));
  return encode(PrepareDownloadResponse, { type: 'downloadResponseOk', value: { euiccSigned2, euiccSignature2 } });
}
