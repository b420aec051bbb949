// The eIM's side of ESep for the IoT eUICC tests (SGP.32 v1.2 2.11.1.1, 2.11.2.1): signed eUICC Packages built and results checked as an eIM does, over the wire bytes.
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import {
  AddInitialEimRequest,
  AddInitialEimResponse,
  EuiccPackageRequest,
  EuiccPackageResult,
  EuiccPackageSigned,
  type EimConfigurationData,
  type Eco,
  type EuiccPackage,
  type EuiccPackageErrorUnsigned,
  type EuiccResultData,
  type Psmo,
} from '../../src/asn1/definitions/sgp32.js';
import { capture, decode, encode, implicit, integer } from '../../src/asn1/schema.js';
import { generateKeyPair, signPlain, verifyPlain, type EcCurve } from '../../src/crypto/ecdsa.js';
import type { Es10Client } from './es10Client.js';

/** `84 len token` as SGP.32 2.11.1.1 appends it to signed data. */
export function tokenTlv(token: number): Buffer {
  return encode(implicit(4, integer), token);
}

export interface PackageOptions {
  readonly counter?: number;
  readonly token?: number;
  readonly eid?: Buffer;
  readonly eimTransactionId?: Buffer;
  /** Replaces the signature (empty: an unsigned package). */
  readonly signature?: Buffer;
}

/** One eIM: its id, signing key, counter and association token as the eIM keeps them. */
export class TestEim {
  readonly eimId: string;
  readonly curve: EcCurve;
  privateKey: KeyObject;
  publicKey: KeyObject;
  counter = 0;
  token = 0;

  constructor(eimId: string, curve: EcCurve) {
    this.eimId = eimId;
    this.curve = curve;
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPair(curve));
  }

  get spki(): Buffer {
    return this.publicKey.export({ type: 'spki', format: 'der' });
  }

  /** The eIM configuration data the eUICC is given for this eIM. */
  config(extra: Partial<EimConfigurationData> = {}): EimConfigurationData {
    return { eimId: this.eimId, eimFqdn: 'eim.example.com', eimPublicKeyData: { type: 'eimPublicKey', value: this.spki }, ...extra };
  }

  /** A new key pair (the eIM's half of updateEim key rotation); returns the new configuration's key data. */
  rotateKey(): EimConfigurationData['eimPublicKeyData'] {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPair(this.curve));
    return { type: 'eimPublicKey', value: this.spki };
  }

  /** A signed EuiccPackageRequest (BF51) for `eid`; the counter advances unless options.counter is given. */
  package(eid: Buffer, euiccPackage: EuiccPackage, o: PackageOptions = {}): Buffer {
    const counterValue = o.counter ?? ++this.counter;
    const signed = capture(EuiccPackageSigned, {
      eimId: this.eimId,
      eidValue: o.eid ?? eid,
      counterValue,
      ...(o.eimTransactionId !== undefined ? { eimTransactionId: o.eimTransactionId } : {}),
      euiccPackage,
    });
    const eimSignature = o.signature ?? signPlain(this.privateKey, Buffer.concat([signed.der, tokenTlv(o.token ?? this.token)]));
    return encode(EuiccPackageRequest, { euiccPackageSigned: signed, eimSignature });
  }

  psmos(eid: Buffer, psmos: Psmo[], o: PackageOptions = {}): Buffer {
    return this.package(eid, { type: 'psmoList', value: psmos }, o);
  }

  ecos(eid: Buffer, ecos: Eco[], o: PackageOptions = {}): Buffer {
    return this.package(eid, { type: 'ecoList', value: ecos }, o);
  }
}

/** ES10b.AddInitialEim of `eims` over the card; each eIM keeps the association token it got. */
export function addInitialEim(client: Es10Client, eims: readonly TestEim[]): void {
  const response = decode(AddInitialEimResponse, client.command(encode(AddInitialEimRequest, { eimConfigurationDataList: eims.map((e) => e.config()) })));
  assert.equal(response.type, 'addInitialEimOk', `AddInitialEim: ${JSON.stringify(response)}`);
  (response.value as { type: string; value: number }[]).forEach((r, i) => {
    assert.equal(r.type, 'associationToken');
    eims[i]!.token = r.value;
  });
}

/** A signed result or signed error whose eUICC signature verifies under `euiccKey` for `token`. */
export type Verified =
  | { readonly kind: 'result'; readonly eimId: string; readonly counterValue: number; readonly eimTransactionId?: Buffer; readonly seqNumber: number; readonly results: EuiccResultData[] }
  | { readonly kind: 'error'; readonly eimId: string; readonly counterValue: number; readonly eimTransactionId?: Buffer; readonly code: number };

/** Decodes a BF51 EuiccPackageResult and checks the eUICC's signature as the eIM does (over the bytes received). */
export function verifyResult(der: Buffer, euiccKey: KeyObject, token: number): Verified {
  const result = decode(EuiccPackageResult, der);
  if (result.type === 'euiccPackageResultSigned') {
    const data = result.value.euiccPackageResultDataSigned;
    assert.ok(verifyPlain(euiccKey, Buffer.concat([data.der, tokenTlv(token)]), result.value.euiccSignEPR), 'euiccSignEPR verifies');
    const v = data.value;
    return { kind: 'result', eimId: v.eimId, counterValue: v.counterValue, ...tx(v.eimTransactionId), seqNumber: v.seqNumber, results: v.euiccResult };
  }
  assert.equal(result.type, 'euiccPackageErrorSigned', `expected a signed answer, got ${JSON.stringify(result)}`);
  const data = result.value.euiccPackageErrorDataSigned;
  assert.ok(verifyPlain(euiccKey, Buffer.concat([data.der, tokenTlv(token)]), result.value.euiccSignEPE), 'euiccSignEPE verifies');
  const v = data.value;
  return { kind: 'error', eimId: v.eimId, counterValue: v.counterValue, ...tx(v.eimTransactionId), code: v.euiccPackageErrorCode };
}

function tx(id: Buffer | undefined): { eimTransactionId?: Buffer } {
  return id === undefined ? {} : { eimTransactionId: id };
}

/** The EuiccPackageErrorUnsigned of a BF51 answer (fails if it is anything else). */
export function unsignedError(der: Buffer): EuiccPackageErrorUnsigned {
  const result = decode(EuiccPackageResult, der);
  assert.equal(result.type, 'euiccPackageErrorUnsigned', `expected EuiccPackageErrorUnsigned, got ${result.type}`);
  return result.value;
}
