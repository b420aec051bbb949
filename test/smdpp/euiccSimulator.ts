// Test-side eUICC + LPA emulation for the SM-DP+ tests: builds EuiccSigned1/EUICCSigned2/PIR/CancelSession messages and unwraps BPPs.
import { createHash, createPublicKey, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import assert from 'node:assert/strict';
import { capture, decode, encode } from '../../src/asn1/schema.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import {
  AuthenticateServerResponse,
  BoundProfilePackage,
  CancelSessionResponse,
  ConfigureISDPRequest,
  EUICCInfo1,
  EUICCSigned2,
  EuiccCancelSessionSigned,
  EuiccSigned1,
  PendingNotification,
  PrepareDownloadResponse,
  ProfileInstallationResultData,
  ReplaceSessionKeysRequest,
  ServerSigned1,
  SmdpSigned2,
  StoreMetadataRequest,
  NotificationMetadata as NotificationMetadataCodec,
  namedBitString,
  type EUICCInfo2,
  type NotificationMetadata,
} from '../../src/asn1/definitions/rsp.js';
import { BspSession, deriveBspKeys } from '../../src/crypto/bsp.js';
import { generateKeyPair, pointFromPublicKey, signPlain, verifyPlain, type EcCurve } from '../../src/crypto/ecdsa.js';
import { ecka } from '../../src/crypto/ecka.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import type { TestPki } from '../../src/pki/testPki.js';

export interface InitiateAuthenticationOk {
  transactionId: string;
  serverSigned1: string;
  serverSignature1: string;
  euiccCiPKIdToBeUsed: string;
  serverCertificate: string;
}

export interface AuthenticateClientOk {
  transactionId: string;
  profileMetadata: string;
  smdpSigned2: string;
  smdpSignature2: string;
  smdpCertificate: string;
}

export interface UnwrappedPackage {
  readonly metadata: StoreMetadataRequest;
  readonly configureIsdp: Buffer;
  readonly usedPpk: boolean;
  readonly profilePackage: Buffer;
}

function b64(s: string): Buffer {
  return Buffer.from(s, 'base64');
}

/** The value of a 5F37 signature TLV. */
function signatureValue(tlv: Buffer): Buffer {
  assert.equal(tlv.readUInt16BE(0), 0x5f37);
  assert.equal(tlv[2], 0x40);
  return tlv.subarray(3);
}

const EUICC_INFO2_BASE: Omit<EUICCInfo2, 'euiccCiPKIdListForVerification' | 'euiccCiPKIdListForSigning'> = {
  profileVersion: Buffer.from('020300', 'hex'),
  svn: Buffer.from('020500', 'hex'),
  euiccFirmwareVer: Buffer.from('010000', 'hex'),
  extCardResource: Buffer.from('810100820400010000830400008000', 'hex'),
  uiccCapability: namedBitString([0, 1, 2]),
  rspCapability: namedBitString([0, 2]),
  ppVersion: Buffer.from('010000', 'hex'),
  sasAcreditationNumber: 'MCIM-TEST-SAS',
};

/** One software eUICC with its LPA, speaking the bytes of SGP.22 ES10b as a test fixture. */
export class EuiccSimulator {
  readonly curve: EcCurve;
  readonly eid: string;
  /** euiccCiPKIdListForSigning (and, unless given apart, euiccCiPKIdListForVerification). */
  readonly ciKeyIds: Buffer[];
  /** euiccCiPKIdListForVerification: the CIs whose SM-DP+ certificates this eUICC accepts. */
  readonly verificationCiKeyIds: Buffer[];
  /** The eUICC's specification version number (euiccInfo1/euiccInfo2 svn). */
  svn = Buffer.from('020500', 'hex');
  readonly #key: KeyObject;
  readonly #certificate: Buffer;
  readonly #eumCertificate: Buffer;
  /** Notification sequence numbers: random start, as several simulators may share one test EID. */
  #seq = randomInt(1, 1_000_000_000);
  // Per-session state, as the eUICC keeps it between ES10b calls.
  euiccChallenge = randomBytes(16);
  #transactionId: Buffer | undefined;
  #euiccSignature1: Buffer | undefined;
  #smdpSignature2: Buffer | undefined;
  #dpPbKey: KeyObject | undefined;
  #otKey: KeyObject | undefined;
  #otCurve: EcCurve | undefined;

  constructor(pki: TestPki, ciKeyIds?: Buffer[], verificationCiKeyIds?: Buffer[]) {
    this.curve = pki.curve;
    this.eid = pki.eid;
    this.#key = pki.euicc.privateKey;
    this.#certificate = pki.euicc.der;
    this.#eumCertificate = pki.eum.der;
    this.ciKeyIds = ciKeyIds ?? [pki.ci.certificate.subjectKeyIdentifier!];
    this.verificationCiKeyIds = verificationCiKeyIds ?? this.ciKeyIds;
  }

  get certificate(): Buffer {
    return this.#certificate;
  }

  euiccInfo1(): Buffer {
    return encode(EUICCInfo1, { svn: this.svn, euiccCiPKIdListForVerification: this.verificationCiKeyIds, euiccCiPKIdListForSigning: this.ciKeyIds });
  }

  /** ES10b.AuthenticateServer: checks serverSignature1 and the challenge, signs euiccSigned1. */
  authenticateServer(
    init: InitiateAuthenticationOk,
    matchingId: string | undefined,
    tweak: { serverChallenge?: Buffer; transactionId?: Buffer; tamperSignature?: boolean; forbiddenProfilePolicyRules?: number[] } = {},
  ): Buffer {
    const serverSigned1Der = b64(init.serverSigned1);
    const serverSigned1 = decode(ServerSigned1, serverSigned1Der);
    const dpAuth = parseCertificate(b64(init.serverCertificate));
    assert.ok(verifyPlain(dpAuth.publicKey.key, serverSigned1Der, signatureValue(b64(init.serverSignature1))), 'serverSignature1');
    assert.ok(serverSigned1.euiccChallenge.equals(this.euiccChallenge), 'euiccChallenge echoed');
    assert.equal(serverSigned1.transactionId.toString('hex').toUpperCase(), init.transactionId);
    this.#transactionId = serverSigned1.transactionId;
    const euiccSigned1 = capture(EuiccSigned1, {
      transactionId: tweak.transactionId ?? serverSigned1.transactionId,
      serverAddress: serverSigned1.serverAddress,
      serverChallenge: tweak.serverChallenge ?? serverSigned1.serverChallenge,
      euiccInfo2: {
        ...EUICC_INFO2_BASE,
        svn: this.svn,
        euiccCiPKIdListForVerification: this.verificationCiKeyIds,
        euiccCiPKIdListForSigning: this.ciKeyIds,
        ...(tweak.forbiddenProfilePolicyRules ? { forbiddenProfilePolicyRules: namedBitString(tweak.forbiddenProfilePolicyRules) } : {}),
      },
      ctxParams1: {
        type: 'ctxParamsForCommonAuthentication',
        value: {
          ...(matchingId === undefined ? {} : { matchingId }),
          deviceInfo: { tac: Buffer.from('35290611', 'hex'), deviceCapabilities: { eutranEpcSupportedRelease: Buffer.from('0f0000', 'hex') } },
        },
      },
    });
    const signature = signPlain(this.#key, euiccSigned1.der);
    if (tweak.tamperSignature === true) signature[10]! ^= 0x01;
    this.#euiccSignature1 = signature;
    return encode(AuthenticateServerResponse, {
      type: 'authenticateResponseOk',
      value: { euiccSigned1, euiccSignature1: signature, euiccCertificate: this.#certificate, eumCertificate: this.#eumCertificate },
    });
  }

  /**
   * ES10b.PrepareDownload: checks smdpSignature2, signs euiccSigned2 (with hashCc when a code is given). The one-time key
   * is the one kept from the last download when smdpSigned2.bppEuiccOtpk names it (a retry), else a new one
   * (`newOtKey` forces a new one, as an eUICC that lost its key).
   */
  prepareDownload(auth: AuthenticateClientOk, confirmationCode?: string, tweak: { tamperSignature?: boolean; newOtKey?: boolean } = {}): Buffer {
    const smdpSigned2Der = b64(auth.smdpSigned2);
    const smdpSigned2 = decode(SmdpSigned2, smdpSigned2Der);
    const dpPb = parseCertificate(b64(auth.smdpCertificate));
    const smdpSignature2 = signatureValue(b64(auth.smdpSignature2));
    const signedData = Buffer.concat([smdpSigned2Der, encodeTlv(0x5f37, this.#euiccSignature1!)]);
    assert.ok(verifyPlain(dpPb.publicKey.key, signedData, smdpSignature2), 'smdpSignature2');
    this.#smdpSignature2 = smdpSignature2;
    this.#dpPbKey = dpPb.publicKey.key;
    // SGP.22 5.7.5/5.6.2: the one-time ECKA key pair is on the curve of CERT.DPpb.ECDSA (the CI the SM-DP+ signed under).
    this.#otCurve = dpPb.publicKey.curve;
    const kept = this.#otKey === undefined ? undefined : pointFromPublicKey(createPublicKey(this.#otKey));
    const reuse = tweak.newOtKey !== true && kept !== undefined && smdpSigned2.bppEuiccOtpk?.equals(kept) === true;
    const ot = reuse ? { privateKey: this.#otKey!, publicKey: createPublicKey(this.#otKey!) } : generateKeyPair(this.#otCurve);
    this.#otKey = ot.privateKey;
    const transactionId = smdpSigned2.transactionId;
    const hashCc =
      confirmationCode === undefined
        ? undefined
        : createHash('sha256').update(createHash('sha256').update(confirmationCode).digest()).update(transactionId).digest();
    const euiccSigned2 = capture(EUICCSigned2, { transactionId, euiccOtpk: pointFromPublicKey(ot.publicKey), ...(hashCc ? { hashCc } : {}) });
    const signature = signPlain(this.#key, Buffer.concat([euiccSigned2.der, encodeTlv(0x5f37, smdpSignature2)]));
    if (tweak.tamperSignature === true) signature[5]! ^= 0x01;
    return encode(PrepareDownloadResponse, { type: 'downloadResponseOk', value: { euiccSigned2, euiccSignature2: signature } });
  }

  get smdpSignature2(): Buffer | undefined {
    return this.#smdpSignature2;
  }

  /** ES8+ processing of BF36: verifies smdpSign, derives the BSP keys and unprotects every segment. */
  loadBoundProfilePackage(bppBytes: Buffer): UnwrappedPackage {
    const bpp = decode(BoundProfilePackage, bppBytes);
    const isc = bpp.initialiseSecureChannelRequest;
    assert.equal(isc.value.remoteOpId, 1);
    assert.ok(isc.value.transactionId.equals(this.#transactionId!), 'BPP transactionId');
    const euiccOtpk = pointFromPublicKey(this.#otKey!);
    // smdpSign covers the BF23 components before smdpSign, as sent, then the euiccOtpk TLV.
    const content = isc.der.subarray(isc.der[2]! < 0x80 ? 3 : 3 + (isc.der[2]! & 0x7f));
    const signTlv = encodeTlv(0x5f37, isc.value.smdpSign);
    const signedPart = content.subarray(0, content.length - signTlv.length);
    assert.ok(content.subarray(content.length - signTlv.length).equals(signTlv));
    assert.ok(verifyPlain(this.#dpPbKey!, Buffer.concat([signedPart, encodeTlv(0x5f49, euiccOtpk)]), isc.value.smdpSign), 'smdpSign');
    const crt = isc.value.controlRefTemplate;
    const shared = ecka(this.#otKey!, isc.value.smdpOtpk, this.#otCurve!);
    const keys = deriveBspKeys(shared, crt.keyType[0]!, crt.keyLen[0]!, crt.hostId, Buffer.from(this.eid, 'hex'));
    const bsp = new BspSession(keys);
    const configureIsdp = Buffer.concat(bpp.firstSequenceOf87.map((s) => bsp.unprotectEncrypted(s, 0x87)));
    decode(ConfigureISDPRequest, configureIsdp);
    const metadata = decode(StoreMetadataRequest, Buffer.concat(bpp.sequenceOf88.map((s) => bsp.verifyMacOnly(s))));
    let usedPpk = false;
    if (bpp.secondSequenceOf87 !== undefined) {
      const rsk = decode(ReplaceSessionKeysRequest, Buffer.concat(bpp.secondSequenceOf87.map((s) => bsp.unprotectEncrypted(s, 0x87))));
      bsp.replaceSessionKeys({ initialMcv: rsk.initialMacChainingValue, sEnc: rsk.ppkEnc, sMac: rsk.ppkCmac });
      usedPpk = true;
    }
    const profilePackage = Buffer.concat(bpp.sequenceOf86.map((s) => bsp.unprotectEncrypted(s, 0x86)));
    return { metadata, configureIsdp, usedPpk, profilePackage };
  }

  /** A signed Profile Installation Result for the current session, as ES9+.HandleNotification carries it. */
  installationResult(
    smdpOid: string,
    notificationAddress: string,
    iccid: Buffer,
    success: boolean,
    tweak: { tamperSignature?: boolean; transactionId?: Buffer } = {},
  ): Buffer {
    const metadata: NotificationMetadata = { seqNumber: this.#seq++, profileManagementOperation: namedBitString([0]), notificationAddress, iccid };
    const data = capture(ProfileInstallationResultData, {
      transactionId: tweak.transactionId ?? this.#transactionId!,
      notificationMetadata: metadata,
      smdpOid,
      finalResult: success
        ? { type: 'successResult', value: { aid: Buffer.from('A0000005591010FFFFFFFF8900001000', 'hex'), simaResponse: Buffer.from('300603010a0100', 'hex') } }
        : { type: 'errorResult', value: { bppCommandId: 5, errorReason: 12 } },
    });
    const signature = signPlain(this.#key, data.der);
    if (tweak.tamperSignature === true) signature[7]! ^= 0x01;
    return encode(PendingNotification, { type: 'profileInstallationResult', value: { profileInstallationResultData: data, euiccSignPIR: signature } });
  }

  /** A signed enable/disable/delete notification (OtherSignedNotification). */
  otherNotification(event: number, notificationAddress: string, iccid: Buffer): Buffer {
    const tbs = capture(NotificationMetadataCodec, { seqNumber: this.#seq++, profileManagementOperation: namedBitString([event]), notificationAddress, iccid });
    return encode(PendingNotification, {
      type: 'otherSignedNotification',
      value: {
        tbsOtherNotification: tbs,
        euiccNotificationSignature: signPlain(this.#key, tbs.der),
        euiccCertificate: this.#certificate,
        eumCertificate: this.#eumCertificate,
      },
    });
  }

  /** ES10b.CancelSession response, signed by the eUICC. */
  cancelSession(reason: number, smdpOid: string, transactionId?: Buffer): Buffer {
    const signed = capture(EuiccCancelSessionSigned, { transactionId: transactionId ?? this.#transactionId!, smdpOid, reason });
    return encode(CancelSessionResponse, {
      type: 'cancelSessionResponseOk',
      value: { euiccCancelSessionSigned: signed, euiccCancelSessionSignature: signPlain(this.#key, signed.der) },
    });
  }

  /** A fresh eUICC challenge for the next session. */
  newSession(): void {
    this.euiccChallenge = randomBytes(16);
    this.#transactionId = undefined;
  }
}
