// Test fixtures for the software eUICC: a sealed eUICC on a Card, an LPA-side client and an SM-DP+ simulator (SGP.22 3.1.2/3.1.3 flow).
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from '../../src/asn1/schema.js';
import {
  GetEuiccChallengeRequest,
  GetEuiccChallengeResponse,
  ProfileInfoListRequest,
  ProfileInfoListResponse,
  ProfileInstallationResult,
  type ProfileInfo,
} from '../../src/asn1/definitions/rsp.js';
import type { StoreMetadataRequest } from '../../src/asn1/definitions/sgp32.js';
import type { EcCurve } from '../../src/crypto/ecdsa.js';
import { Card } from '../../src/euicc/card.js';
import { Euicc, identityFromTestPki, type EuiccCreateOptions } from '../../src/euicc/euicc.js';
import { issueTestPki, type TestPki } from '../../src/pki/testPki.js';
import { readFixture } from '../helpers/fixtures.js';
import { Es10Client } from './es10Client.js';
import { SmdpSimulator, assembleBpp, metadataFor, type BppParts } from './smdpSimulator.js';

export const TS48_PROFILES = [
  'TS48V1-A-UNIQUE',
  'TS48V1-B-UNIQUE',
  'TS48V2-SAIP2-1-BERTLV-UNIQUE',
  'TS48V2-SAIP2-3-NOBERTLV-UNIQUE',
  'TS48V3-SAIP2-3-BERTLV-UNIQUE',
  'TS48V5-SAIP2-3-BERTLV-SUCI-UNIQUE',
] as const;

export function ts48(name: (typeof TS48_PROFILES)[number]): Buffer {
  return readFixture('ts48', `${name}.der`);
}

const pkiCache = new Map<EcCurve, TestPki>();
/** One test PKI per curve for the whole test file (issuing keys is the slow part). */
export function testPki(curve: EcCurve = 'P-256'): TestPki {
  let pki = pkiCache.get(curve);
  if (!pki) {
    pki = issueTestPki({ curve });
    pkiCache.set(curve, pki);
  }
  return pki;
}

export interface Rig {
  readonly dir: string;
  readonly path: string;
  readonly secret: Buffer;
  euicc: Euicc;
  card: Card;
  client: Es10Client;
  readonly smdp: SmdpSimulator;
  readonly pki: TestPki;
  /** Drops the Euicc and Card and reopens the eUICC from its sealed file (a power cycle, or a crash). */
  reopen(): void;
  cleanup(): void;
}

/** A rig maker for one test file: every rig it makes is cleaned up after the file's tests. */
export function rigsCleanedAfter(): (o?: Parameters<typeof rig>[0]) => Rig {
  const rigs: Rig[] = [];
  after(() => rigs.forEach((r) => r.cleanup()));
  return (o = {}) => {
    const r = rig(o);
    rigs.push(r);
    return r;
  };
}

export function rig(o: { curve?: EcCurve; pki?: TestPki; options?: EuiccCreateOptions; blockSizes?: number[] } = {}): Rig {
  const pki = o.pki ?? testPki(o.curve);
  const dir = mkdtempSync(join(tmpdir(), 'mcim-euicc-'));
  const path = join(dir, 'euicc.sealed');
  const secret = randomBytes(32);
  const attach = (euicc: Euicc): { card: Card; client: Es10Client } => {
    const card = new Card();
    euicc.attach(card);
    const client = new Es10Client(card, o.blockSizes ? { blockSizes: o.blockSizes } : {});
    client.selectIsdR();
    return { card, client };
  };
  const euicc = Euicc.create(path, secret, identityFromTestPki(pki), o.options);
  const r: Rig = {
    dir,
    path,
    secret,
    euicc,
    ...attach(euicc),
    smdp: SmdpSimulator.fromTestPki(pki),
    pki,
    reopen() {
      r.euicc = Euicc.open(path, secret);
      Object.assign(r, attach(r.euicc));
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

export function challenge(client: Es10Client): Buffer {
  return decode(GetEuiccChallengeResponse, client.command(encode(GetEuiccChallengeRequest, {}))).euiccChallenge;
}

/** Runs authentication and PrepareDownload; returns the BPP parts bound to this eUICC. */
export function prepare(r: Pick<Rig, 'client' | 'smdp'>, upp: Buffer, metadata: StoreMetadataRequest, o: { ppk?: boolean } = {}): BppParts {
  const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
  const pdResponse = r.client.command(r.smdp.prepareDownloadRequest(asResponse));
  return r.smdp.bindProfile(pdResponse, upp, metadata, o);
}

/** A full download: returns the decoded PIR the eUICC answered. */
export function download(r: Pick<Rig, 'client' | 'smdp'>, upp: Buffer, metadata: StoreMetadataRequest, o: { ppk?: boolean } = {}): ProfileInstallationResult {
  const parts = prepare(r, upp, metadata, o);
  return decode(ProfileInstallationResult, r.client.loadBoundProfilePackage(assembleBpp(parts)));
}

export function downloadTs48(r: Pick<Rig, 'client' | 'smdp'>, name: (typeof TS48_PROFILES)[number], extra: Partial<StoreMetadataRequest> = {}): ProfileInstallationResult {
  const upp = ts48(name);
  return download(r, upp, metadataFor(upp, name, extra));
}

export function assertSuccess(pir: ProfileInstallationResult): Buffer {
  const result = pir.profileInstallationResultData.value.finalResult;
  assert.equal(result.type, 'successResult', `PIR error: ${JSON.stringify(result.value)}`);
  return (result.value as { aid: Buffer }).aid;
}

export function assertPirError(pir: ProfileInstallationResult, bppCommandId: number, errorReason: number): void {
  const result = pir.profileInstallationResultData.value.finalResult;
  assert.equal(result.type, 'errorResult');
  assert.deepEqual(
    { bppCommandId: (result.value as { bppCommandId: number }).bppCommandId, errorReason: (result.value as { errorReason: number }).errorReason },
    { bppCommandId, errorReason },
  );
}

export function profiles(client: Es10Client, request: Parameters<typeof encode<ProfileInfoListRequest>>[1] = {}): ProfileInfo[] {
  const response = decode(ProfileInfoListResponse, client.command(encode(ProfileInfoListRequest, request)));
  assert.equal(response.type, 'profileInfoListOk');
  return response.value as ProfileInfo[];
}
