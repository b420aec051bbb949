// SGP.22 5.7.6 LoadBoundProfilePackage refusals explained by the IPA (2.5.3 segment limit, 2.5.4 layout, 2.6.4 BSP): the software eUICC refuses, the IPA names the rule; `mcim device download` prints it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encode } from '../../src/asn1/schema.js';
import { decodeTlv, encodeTlv } from '../../src/asn1/tlv.js';
import { BppCommandId, ErrorReason, StoreMetadataRequest } from '../../src/asn1/definitions/rsp.js';
import { deviceInit } from '../../src/cli/commands/device.js';
import { certificateToPem } from '../../src/pki/certificate.js';
import { IpaError } from '../../src/ipa/errors.js';
import { Es10Client } from '../../src/ipa/es10Client.js';
import { loadBoundProfilePackage, type LoadResult } from '../../src/ipa/es10b/loadBoundProfilePackage.js';
import { assertPirError, challenge, prepare, profiles, rigsCleanedAfter, ts48, type Rig } from '../euicc/harness.js';
import { assembleBpp, metadataFor, type BppParts } from '../euicc/smdpSimulator.js';
import { ROOT } from '../helpers/fixtures.js';

const newRig = rigsCleanedAfter();
const NAME = 'TS48V1-A-UNIQUE';
const UPP = ts48(NAME);
const METADATA = metadataFor(UPP, NAME);
const OVERSIZED = /^segment of 1036 bytes exceeds the 1020-byte limit of SGP\.22 2\.5\.3 \(the SM-DP\+ sent an oversized segment\): 86 segment 1 of \d+ in A3$/;

/** The eUICC's session is prepared by the test-side SM-DP+; the IPA loads the BPP on its own logical channel. */
async function loadThroughIpa(r: Rig, parts: BppParts): Promise<LoadResult> {
  const es10 = await Es10Client.open({ transmit: (apdu) => r.card.transmit(apdu) });
  try {
    return await loadBoundProfilePackage(es10, assembleBpp(parts));
  } finally {
    await es10.close();
  }
}

/** Binds the profile for the rig's eUICC with the simulator's options (e.g. a segment limit over 1020). */
function bind(r: Rig, o: Parameters<Rig['smdp']['bindProfile']>[3] = {}): BppParts {
  const asResponse = r.client.command(r.smdp.authenticateServerRequest(challenge(r.client)));
  return r.smdp.bindProfile(r.client.command(r.smdp.prepareDownloadRequest(asResponse)), UPP, METADATA, o);
}

function flip(segment: Buffer, index = segment.length - 12): Buffer {
  const out = Buffer.from(segment);
  out[index]! ^= 0x01;
  return out;
}

describe('the IPA names the rule a refused BPP broke', () => {
  it('oversized segment: loadProfileElements, scp03tStructureError, "segment of 1036 bytes exceeds the 1020-byte limit"', async () => {
    const r = newRig();
    const parts = bind(r, { maxSegmentLength: 1036 });
    assert.equal(parts.a3[0]!.length, 1036, 'the crafted first profile segment');
    const result = await loadThroughIpa(r, parts);
    assertPirError(result.value, BppCommandId.loadProfileElements, ErrorReason.scp03tStructureError);
    assert.match(result.refusal ?? '', OVERSIZED);
    assert.equal(profiles(r.client).length, 0, 'mcim stays strict: nothing installed');
  });

  it('tampered profile segment: scp03tSecurityError, a failed C-MAC named', async () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    const result = await loadThroughIpa(r, { ...parts, a3: parts.a3.map((s, i) => (i === 1 ? flip(s) : s)) });
    assertPirError(result.value, BppCommandId.loadProfileElements, ErrorReason.scp03tSecurityError);
    assert.match(result.refusal ?? '', /^a segment of loadProfileElements \(A3\) failed its C-MAC check \(SGP\.22 2\.6\.4\): it was altered, dropped or reordered/);
  });

  it('profile segments in the wrong order: scp03tSecurityError (the C-MAC chain breaks)', async () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    const a3 = [...parts.a3];
    [a3[0], a3[1]] = [a3[1]!, a3[0]!];
    const result = await loadThroughIpa(r, { ...parts, a3 });
    assertPirError(result.value, BppCommandId.loadProfileElements, ErrorReason.scp03tSecurityError);
    assert.match(result.refusal ?? '', /reordered \(each C-MAC chains on the one before\)/);
  });

  it('tampered StoreMetadata segment: storeMetadata (A1) named', async () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    const result = await loadThroughIpa(r, { ...parts, a1: parts.a1.map((s) => flip(s, 4)) });
    assertPirError(result.value, BppCommandId.storeMetadata, ErrorReason.scp03tSecurityError);
    assert.match(result.refusal ?? '', /^a segment of storeMetadata \(A1\) failed its C-MAC check/);
  });

  it('InitialiseSecureChannel of another transaction: both transactionIds named', async () => {
    const r = newRig();
    const other = Buffer.alloc(16, 9);
    const result = await loadThroughIpa(r, bind(r, { transactionId: other }));
    assertPirError(result.value, BppCommandId.initialiseSecureChannel, ErrorReason.invalidTransactionId);
    const session = result.value.profileInstallationResultData.value.transactionId.toString('hex').toUpperCase();
    assert.equal(result.refusal, `InitialiseSecureChannelRequest carries transactionId ${'09'.repeat(16)}, the session is ${session} (SGP.22 5.7.6)`);
  });

  it('tampered smdpSign: invalidSignature named with what it covers', async () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    const result = await loadThroughIpa(r, { ...parts, isc: flip(parts.isc, parts.isc.length - 1) });
    assertPirError(result.value, BppCommandId.initialiseSecureChannel, ErrorReason.invalidSignature);
    assert.match(result.refusal ?? '', /^smdpSign of InitialiseSecureChannelRequest does not verify .*\(euiccOtpk\)/);
  });

  it('profile ICCID not the metadata ICCID: installFailedDueToDataMismatch named', async () => {
    const r = newRig();
    const parts = prepare(r, ts48('TS48V1-B-UNIQUE'), { ...METADATA, iccid: Buffer.from('98001032547698103254', 'hex') });
    const result = await loadThroughIpa(r, parts);
    assertPirError(result.value, BppCommandId.loadProfileElements, ErrorReason.installFailedDueToDataMismatch);
    assert.match(result.refusal ?? '', /ICCID of the profile's ProfileHeader differs from the ICCID of StoreMetadataRequest/);
  });

  it('a successful load carries no refusal', async () => {
    const r = newRig();
    const result = await loadThroughIpa(r, prepare(r, UPP, METADATA));
    assert.equal(result.value.profileInstallationResultData.value.finalResult.type, 'successResult');
    assert.equal(result.refusal, undefined);
  });

  it('a container out of order or a stray tag: the IPA refuses before loading, citing the layout of SGP.22 2.5.4', async () => {
    const r = newRig();
    const parts = prepare(r, UPP, METADATA);
    const bpp = assembleBpp(parts);
    const [isc, a0, a1, a3] = decodeTlv(bpp).children!;
    const swapped = encodeTlv(0xbf36, [isc!.raw, a1!.raw, a0!.raw, a3!.raw]);
    const stray = encodeTlv(0xbf36, [isc!.raw, a0!.raw, a1!.raw, encodeTlv(0xa3, [a3!.children![0]!.raw, Buffer.from('870100', 'hex')])]);
    const es10 = await Es10Client.open({ transmit: (apdu) => r.card.transmit(apdu) });
    try {
      await assert.rejects(loadBoundProfilePackage(es10, swapped), (e: unknown) => e instanceof IpaError && e.code === 'INVALID_SERVER_RESPONSE' && /A1 where A0 is due \(SGP\.22 2\.5\.4/.test(e.message));
      await assert.rejects(loadBoundProfilePackage(es10, stray), (e: unknown) => e instanceof IpaError && /A3 holds a 87 segment where only 86 is allowed/.test(e.message));
    } finally {
      await es10.close();
    }
    assert.equal(profiles(r.client).length, 0);
  });
});

describe('mcim device download prints why the eUICC refused', () => {
  /** An SM-DP+ that binds with segments of up to 1036 bytes, built on the test-side simulator, over HTTPS. */
  const r = newRig();
  const delivered: string[] = [];
  let server: Server;
  let port = 0;

  before(async () => {
    const b64 = (b: Buffer): string => b.toString('base64');
    const ok = { header: { functionExecutionStatus: { status: 'Executed-Success' } } };
    const handlers: Record<string, (body: Record<string, string>) => Record<string, unknown> | undefined> = {
      initiateAuthentication: (body) => {
        const [signed1, signature1, ciKeyId, certificate] = decodeTlv(r.smdp.authenticateServerRequest(Buffer.from(body['euiccChallenge']!, 'base64'))).children!;
        return { ...ok, transactionId: decodeTlv(signed1!.raw).children![0]!.value.toString('hex'), serverSigned1: b64(signed1!.raw), serverSignature1: b64(signature1!.raw), euiccCiPKIdToBeUsed: b64(ciKeyId!.raw), serverCertificate: b64(certificate!.raw) };
      },
      authenticateClient: (body) => {
        const parts = decodeTlv(r.smdp.prepareDownloadRequest(Buffer.from(body['authenticateServerResponse']!, 'base64'))).children!;
        return { ...ok, transactionId: body['transactionId'], profileMetadata: b64(encode(StoreMetadataRequest, METADATA)), smdpSigned2: b64(parts[0]!.raw), smdpSignature2: b64(parts[1]!.raw), smdpCertificate: b64(parts.at(-1)!.raw) };
      },
      getBoundProfilePackage: (body) => {
        const parts = r.smdp.bindProfile(Buffer.from(body['prepareDownloadResponse']!, 'base64'), UPP, METADATA, { maxSegmentLength: 1036 });
        return { ...ok, transactionId: body['transactionId'], boundProfilePackage: b64(assembleBpp(parts)) };
      },
      handleNotification: (body) => {
        delivered.push(body['pendingNotification']!);
        return undefined;
      },
      cancelSession: () => ok,
    };
    server = createServer({ cert: certificateToPem(r.pki.dpTls.der), key: r.pki.dpTls.privateKey.export({ type: 'pkcs8', format: 'pem' }) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const handler = handlers[(req.url ?? '').replace('/gsma/rsp2/es9plus/', '')];
        const answer = handler?.(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>);
        if (answer === undefined) {
          res.writeHead(handler ? 204 : 404).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('states the 1020-byte rule the SM-DP+ broke, exits 2 (an mcim error), installs nothing, and still delivers the signed error PIR', async () => {
    const pkiDir = join(r.dir, 'pki');
    mkdirSync(pkiDir);
    writeFileSync(join(pkiDir, 'ci.der'), r.pki.ci.der);
    writeFileSync(join(pkiDir, 'eum.der'), r.pki.eum.der);
    writeFileSync(join(pkiDir, 'eum.key.pem'), r.pki.eum.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(pkiDir, 'ci.pem'), certificateToPem(r.pki.ci.der));
    const state = join(r.dir, 'device.state');
    deviceInit({ state, pki: pkiDir });
    const env = { ...process.env };
    delete env['MCIM_DEVICE_SECRET'];
    const args = ['device', 'download', '--state', state, '--ac', `LPA:1$${r.pki.smdpAddress}$OVERSIZED`, '--ca', join(pkiDir, 'ci.pem'), '--connect', `127.0.0.1:${port}`];
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), ...args], { env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 2, stderr);
    const line = stderr.split('\n').find((l) => l.startsWith('error: '));
    assert.ok(line, stderr);
    assert.match(line, /^error: LoadBoundProfilePackage failed: result 7 \(scp03tStructureError\), at loadProfileElements: segment of 1036 bytes exceeds the 1020-byte limit of SGP\.22 2\.5\.3 \(the SM-DP\+ sent an oversized segment\): 86 segment 1 of \d+ in A3$/);
    assert.equal(delivered.length, 1, 'the error PIR went to the SM-DP+');
    const list = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'device', 'profiles', '--state', state, '--json'], { env, encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [], 'nothing installed');
  });
});
