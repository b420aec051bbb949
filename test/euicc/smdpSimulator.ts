// Test-side SM-DP+ (SGP.22 3.1.2/3.1.3, ES9+/ES8+): signs ServerSigned1 and SmdpSigned2, binds a profile package into a BPP (2.5.4, 2.6.4).
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capture, decode, encode } from '../../src/asn1/schema.js';
import { decodeTlv, encodeTlv } from '../../src/asn1/tlv.js';
import {
  AuthenticateServerRequest,
  AuthenticateServerResponse,
  BoundProfilePackage,
  ConfigureISDPRequest,
  InitialiseSecureChannelRequest,
  PrepareDownloadRequest,
  PrepareDownloadResponse,
  ReplaceSessionKeysRequest,
  ServerSigned1,
  SmdpSigned2,
  type CtxParams1,
} from '../../src/asn1/definitions/rsp.js';
// SGP.32's StoreMetadataRequest: SGP.22's fields and the IoT eUICC's ecallIndication and fallbackAllowed.
import { StoreMetadataRequest } from '../../src/asn1/definitions/sgp32.js';
import { decodeProfilePackage, extractProfileEssentials } from '../../src/asn1/definitions/saip.js';
import { BspSession, deriveBspKeys } from '../../src/crypto/bsp.js';
import { generateKeyPair, pointFromPublicKey, signPlain, verifyPlain, type EcCurve } from '../../src/crypto/ecdsa.js';
import { ecka } from '../../src/crypto/ecka.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import type { TestPki } from '../../src/pki/testPki.js';
import { validateChain } from '../../src/pki/validateChain.js';

export interface SmdpCredential {
  readonly der: Buffer;
  readonly privateKey: KeyObject;
}

export interface SmdpIdentity {
  readonly address: string;
  readonly dpAuth: SmdpCredential;
  readonly dpPb: SmdpCredential;
  /** The CI the SM-DP+ chains to (its certificate, DER). */
  readonly ci: Buffer;
}

export interface BppParts {
  readonly isc: Buffer;
  readonly a0: Buffer[];
  readonly a1: Buffer[];
  readonly a2?: Buffer[];
  readonly a3: Buffer[];
}

interface Transaction {
  readonly transactionId: Buffer;
  euiccSignature1?: Buffer;
  smdpSignature2?: Buffer;
  euiccCertificate?: Buffer;
  eid?: Buffer;
}

export const DEVICE_INFO_CTX: CtxParams1 = {
  type: 'ctxParamsForCommonAuthentication',
  value: { matchingId: 'MCIM-TEST', deviceInfo: { tac: Buffer.from('35290611', 'hex'), deviceCapabilities: { eutranEpcSupportedRelease: Buffer.from([15, 0, 0]) } } },
};

const HOST_ID = Buffer.from('mcim-smdp-test', 'ascii');

export function sig(signature: Buffer): Buffer {
  return encodeTlv(0x5f37, signature);
}

/** ICCID and a StoreMetadataRequest for a profile package. */
export function metadataFor(upp: Buffer, name: string, extra: Partial<StoreMetadataRequest> = {}): StoreMetadataRequest {
  const essentials = extractProfileEssentials(decodeProfilePackage(upp).elements);
  return { iccid: essentials.iccid, serviceProviderName: 'GSMA TS.48', profileName: name, ...extra };
}

export class SmdpSimulator {
  readonly identity: SmdpIdentity;
  readonly #transactions = new Map<string, Transaction>();

  constructor(identity: SmdpIdentity) {
    this.identity = identity;
  }

  static fromTestPki(pki: TestPki): SmdpSimulator {
    return new SmdpSimulator({ address: pki.smdpAddress, dpAuth: pki.dpAuth, dpPb: pki.dpPb, ci: pki.ci.der });
  }

  static fromSgp26(dir: string, curve: 'NIST' | 'BRP'): SmdpSimulator {
    const credential = (role: 'DPauth' | 'DPpb'): SmdpCredential => ({
      der: readFileSync(join(dir, role, `CERT_S_SM_${role}_ECDSA_${curve}.der`)),
      privateKey: createPrivateKey(readFileSync(join(dir, role, `SK_S_SM_${role}_ECDSA_${curve}.pem`))),
    });
    return new SmdpSimulator({
      address: 'testsmdpplus1.example.com',
      dpAuth: credential('DPauth'),
      dpPb: credential('DPpb'),
      ci: readFileSync(join(dir, 'CertificateIssuer', `CERT_CI_ECDSA_${curve}.der`)),
    });
  }

  get ciKeyId(): Buffer {
    return parseCertificate(this.identity.ci).subjectKeyIdentifier!;
  }

  /** ES9+.InitiateAuthentication's result as the LPA relays it: an AuthenticateServerRequest (BF38). */
  authenticateServerRequest(
    euiccChallenge: Buffer,
    o: { transactionId?: Buffer; serverCertificate?: Buffer; signingKey?: KeyObject; ciKeyId?: Buffer } = {},
  ): Buffer {
    const transactionId = o.transactionId ?? randomBytes(16);
    this.#transactions.set(transactionId.toString('hex'), { transactionId });
    const serverSigned1 = capture(ServerSigned1, {
      transactionId,
      euiccChallenge,
      serverAddress: this.identity.address,
      serverChallenge: randomBytes(16),
    });
    return encode(AuthenticateServerRequest, {
      serverSigned1,
      serverSignature1: signPlain(o.signingKey ?? this.identity.dpAuth.privateKey, serverSigned1.der),
      euiccCiPKIdToBeUsed: o.ciKeyId ?? this.ciKeyId,
      serverCertificate: o.serverCertificate ?? this.identity.dpAuth.der,
      ctxParams1: DEVICE_INFO_CTX,
    });
  }

  /** ES9+.AuthenticateClient: checks the eUICC's answer, returns a PrepareDownloadRequest (BF21). */
  prepareDownloadRequest(
    authenticateServerResponse: Buffer,
    o: { ccRequired?: boolean; hashCc?: Buffer; transactionId?: Buffer; smdpCertificate?: Buffer; signingKey?: KeyObject; bppEuiccOtpk?: Buffer } = {},
  ): Buffer {
    const response = decode(AuthenticateServerResponse, authenticateServerResponse);
    assert.equal(response.type, 'authenticateResponseOk', 'AuthenticateServer failed');
    if (response.type !== 'authenticateResponseOk') throw new Error('unreachable');
    const ok = response.value;
    const euiccCert = parseCertificate(ok.euiccCertificate);
    validateChain(euiccCert, [ok.eumCertificate], { role: 'euicc', trustedCis: [this.identity.ci], at: new Date() });
    assert.ok(verifyPlain(euiccCert.publicKey.key, ok.euiccSigned1.der, ok.euiccSignature1), 'euiccSignature1');
    const tx = this.#transactions.get(ok.euiccSigned1.value.transactionId.toString('hex'));
    assert.ok(tx, 'unknown transaction');
    tx.euiccSignature1 = ok.euiccSignature1;
    tx.euiccCertificate = ok.euiccCertificate;
    tx.eid = Buffer.from(euiccCert.eid!, 'hex');
    const smdpSigned2 = capture(SmdpSigned2, {
      transactionId: o.transactionId ?? tx.transactionId,
      ccRequiredFlag: o.ccRequired ?? false,
      ...(o.bppEuiccOtpk ? { bppEuiccOtpk: o.bppEuiccOtpk } : {}),
    });
    const smdpSignature2 = signPlain(o.signingKey ?? this.identity.dpPb.privateKey, Buffer.concat([smdpSigned2.der, sig(ok.euiccSignature1)]));
    tx.smdpSignature2 = smdpSignature2;
    return encode(PrepareDownloadRequest, {
      smdpSigned2,
      smdpSignature2,
      ...(o.hashCc ? { hashCc: o.hashCc } : {}),
      smdpCertificate: o.smdpCertificate ?? this.identity.dpPb.der,
    });
  }

  /** ES8+ binding: the BPP parts for the eUICC's one-time key, protected with BSP (with PPKs when `ppk`). */
  bindProfile(
    prepareDownloadResponse: Buffer,
    upp: Buffer,
    metadata: StoreMetadataRequest,
    o: { ppk?: boolean; eid?: Buffer; euiccOtpk?: Buffer; transactionId?: Buffer; smdpOtpk?: (genuine: Buffer) => Buffer; maxSegmentLength?: number } = {},
  ): BppParts {
    const response = decode(PrepareDownloadResponse, prepareDownloadResponse);
    assert.equal(response.type, 'downloadResponseOk', 'PrepareDownload failed');
    if (response.type !== 'downloadResponseOk') throw new Error('unreachable');
    const signed2 = response.value.euiccSigned2;
    const tx = this.#transactions.get(signed2.value.transactionId.toString('hex'));
    assert.ok(tx?.smdpSignature2 && tx.euiccCertificate && tx.eid, 'unknown transaction');
    const euiccCert = parseCertificate(tx.euiccCertificate);
    assert.ok(
      verifyPlain(euiccCert.publicKey.key, Buffer.concat([signed2.der, sig(tx.smdpSignature2)]), response.value.euiccSignature2),
      'euiccSignature2',
    );
    const curve: EcCurve = euiccCert.publicKey.curve;
    const euiccOtpk = o.euiccOtpk ?? signed2.value.euiccOtpk;
    const ot = generateKeyPair(curve);
    const genuineOtpk = pointFromPublicKey(ot.publicKey);
    const smdpOtpk = o.smdpOtpk === undefined ? genuineOtpk : o.smdpOtpk(genuineOtpk);
    const unsigned = {
      remoteOpId: 1,
      transactionId: o.transactionId ?? tx.transactionId,
      controlRefTemplate: { keyType: Buffer.from([0x88]), keyLen: Buffer.from([0x10]), hostId: HOST_ID },
      smdpOtpk,
      smdpSign: Buffer.alloc(64),
    };
    const components = decodeTlv(encode(InitialiseSecureChannelRequest, unsigned)).children!.slice(0, -1).map((c) => c.raw);
    const smdpSign = signPlain(this.identity.dpPb.privateKey, Buffer.concat([...components, encodeTlv(0x5f49, euiccOtpk)]));
    const isc = encode(InitialiseSecureChannelRequest, { ...unsigned, smdpSign });
    const keys = deriveBspKeys(ecka(ot.privateKey, euiccOtpk, curve), 0x88, 0x10, HOST_ID, o.eid ?? tx.eid);
    // maxSegmentLength over 1020 crafts the oversized segments some SM-DP+ servers send.
    const bsp = new BspSession(keys, o.maxSegmentLength === undefined ? {} : { maxSegmentLength: o.maxSegmentLength });
    const a0 = bsp.encryptAndMacSegments(0x87, encode(ConfigureISDPRequest, { dpProprietaryData: { dpOid: '2.999.10.1' } }));
    const a1 = bsp.macOnlySegments(0x88, encode(StoreMetadataRequest, metadata));
    let a2: Buffer[] | undefined;
    if (o.ppk) {
      const ppk = { initialMcv: randomBytes(16), sEnc: randomBytes(16), sMac: randomBytes(16) };
      a2 = bsp.encryptAndMacSegments(
        0x87,
        encode(ReplaceSessionKeysRequest, { initialMacChainingValue: ppk.initialMcv, ppkEnc: ppk.sEnc, ppkCmac: ppk.sMac }),
      );
      bsp.replaceSessionKeys(ppk);
    }
    const a3 = bsp.protectProfileSegments(upp);
    return { isc, a0, a1, ...(a2 ? { a2 } : {}), a3 };
  }
}

/** The BoundProfilePackage (BF36) of its parts. */
export function assembleBpp(parts: BppParts): Buffer {
  return encode(BoundProfilePackage, {
    initialiseSecureChannelRequest: { value: decode(InitialiseSecureChannelRequest, parts.isc), der: parts.isc },
    firstSequenceOf87: parts.a0,
    sequenceOf88: parts.a1,
    ...(parts.a2 ? { secondSequenceOf87: parts.a2 } : {}),
    sequenceOf86: parts.a3,
  });
}
