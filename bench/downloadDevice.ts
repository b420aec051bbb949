// The device side of the download benchmark, in its own process (forked by bench/download.ts, driven over IPC):
// software eUICCs issued by the SM-DP+'s test EUM, each downloading one profile as a device would (its IPA, ES10 over
// APDUs, one TLS connection per session, sealed state saved to its file).
import { createPrivateKey, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509_OID } from '../src/asn1/definitions/x509.js';
import { Card } from '../src/euicc/card.js';
import { Euicc, type EuiccIdentity } from '../src/euicc/euicc.js';
import { Es10Client } from '../src/ipa/es10Client.js';
import { HttpsClient, type HttpsClientOptions } from '../src/ipa/httpsClient.js';
import { downloadProfile } from '../src/ipa/profileDownload.js';
import { distinguishedName, nameAttribute, parseCertificate } from '../src/pki/certificate.js';
import { makeEid } from '../src/pki/eid.js';
import { issueTestCertificate, type IssuedCertificate } from '../src/pki/testPki.js';
import { FLOOR_REQUESTS } from './lib.js';

/** Messages from bench/download.ts. */
export type DeviceCommand =
  | {
      readonly type: 'setup';
      /** The SM-DP+'s test PKI directory (its EUM issues the eUICCs). */
      readonly pkiDir: string;
      /** The EUM's private key, PKCS#8 PEM, decrypted by the parent (the file is encrypted under the at-rest key). */
      readonly eumKeyPem: string;
      /** Where the eUICCs' sealed state files go. */
      readonly stateDir: string;
      /** The CI certificate (PEM) anchoring the TLS server certificate. */
      readonly ca: string;
      readonly connect: { readonly host: string; readonly port: number };
      readonly address: string;
    }
  /** Personalises one new eUICC per matching ID (not timed). */
  | { readonly type: 'prepare'; readonly matchingIds: readonly string[] }
  /** Downloads the prepared profiles, `concurrency` sessions at a time, none started after `deadlineMs` from now. */
  | { readonly type: 'run'; readonly concurrency: number; readonly deadlineMs: number }
  /**
   * The transport floor: `sessions` sessions of the four ES9+ requests (sizes of a real session, bodies of filler) over
   * one TLS connection each with the IPA's HTTPS client, against bench/bareTlsServer.ts.
   */
  | {
      readonly type: 'floor';
      readonly sessions: number;
      readonly concurrency: number;
      readonly deadlineMs: number;
      readonly ca: string;
      readonly address: string;
      readonly connect: { readonly host: string; readonly port: number };
    }
  | { readonly type: 'exit' };

/** Messages to bench/download.ts. */
export type DeviceReply =
  | { readonly type: 'ready' }
  | { readonly type: 'prepared'; readonly count: number; readonly ms: number }
  | {
      readonly type: 'result';
      /** Milliseconds of each completed session, in completion order. */
      readonly latencies: readonly number[];
      readonly failures: number;
      readonly firstError?: string;
      readonly elapsedMs: number;
    };

interface Device {
  readonly euicc: Euicc;
  readonly matchingId: string;
}

let setup: Extract<DeviceCommand, { type: 'setup' }> | undefined;
let eum: IssuedCertificate | undefined;
let ciDer: Buffer | undefined;
let eidPrefix = '';
let prepared: Device[] = [];
let created = 0;
const secret = randomBytes(32);

function reply(message: DeviceReply): void {
  process.send!(message);
}

/** The EID prefix the EUM certificate's name constraints permit (SGP.22 4.5.2.1.0.2). */
function permittedEidPrefix(certificate: IssuedCertificate['certificate']): string {
  for (const base of certificate.nameConstraints?.permitted ?? []) {
    if (base.type !== 'directoryName') continue;
    const prefix = nameAttribute(distinguishedName(base.value), X509_OID.serialNumber);
    if (prefix !== undefined) return prefix;
  }
  throw new Error('the EUM certificate permits no EID prefix');
}

function newEuicc(): Euicc {
  let filler = '';
  for (let i = eidPrefix.length; i < 30; i++) filler += String(randomInt(10));
  const issued = issueTestCertificate('euicc', eum!, { eid: makeEid(eidPrefix, filler) });
  const identity: EuiccIdentity = {
    eid: issued.certificate.eid!,
    euiccCertificate: issued.der,
    euiccPrivateKey: issued.privateKey,
    eumCertificate: eum!.der,
    ciCertificates: [ciDer!],
  };
  return Euicc.create(join(setup!.stateDir, `euicc-${process.pid}-${created++}.state`), secret, identity);
}

async function session(device: Device, http: HttpsClientOptions): Promise<void> {
  const card = new Card();
  device.euicc.attach(card);
  const es10 = await Es10Client.open({ transmit: (apdu) => card.transmit(apdu) });
  try {
    const r = await downloadProfile(es10, { activationCode: `LPA:1$${setup!.address}$${device.matchingId}`, http });
    if (!r.notification.delivered) throw new Error(`the installation result was not delivered: ${r.notification.error ?? ''}`);
  } finally {
    await es10.close();
  }
}

/**
 * Runs sessions 0..count-1, `concurrency` at a time, none started after `deadlineMs` from now; times each one that
 * completes and counts the failures.
 */
async function runSessions(count: number, concurrency: number, deadlineMs: number, session: (i: number) => Promise<void>): Promise<DeviceReply> {
  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let next = 0;
  const start = performance.now();
  const deadline = start + deadlineMs;
  const lane = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      try {
        await session(i);
        latencies.push(performance.now() - t);
      } catch (e) {
        failures++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return { type: 'result', latencies, failures, ...(firstError === undefined ? {} : { firstError }), elapsedMs: performance.now() - start };
}

function run(concurrency: number, deadlineMs: number): Promise<DeviceReply> {
  const http: HttpsClientOptions = { ca: [setup!.ca], connect: setup!.connect, timeoutMs: 30_000 };
  const devices = prepared;
  prepared = [];
  return runSessions(devices.length, concurrency, deadlineMs, (i) => session(devices[i]!, http));
}

function floor(command: Extract<DeviceCommand, { type: 'floor' }>): Promise<DeviceReply> {
  const http: HttpsClientOptions = { ca: [command.ca], connect: command.connect, timeoutMs: 30_000 };
  const bodies = FLOOR_REQUESTS.map((r) => ({ url: `https://${command.address}/gsma/rsp2/es9plus/${r.fn}`, body: Buffer.from(JSON.stringify({ x: 'A'.repeat(r.bytes - 8) })) }));
  const headers = { 'Content-Type': 'application/json', 'X-Admin-Protocol': 'gsma/rsp/v2.5.0' };
  return runSessions(command.sessions, command.concurrency, command.deadlineMs, async () => {
    const client = new HttpsClient(http);
    try {
      for (const r of bodies) await client.post(r.url, headers, r.body);
    } finally {
      client.close();
    }
  });
}

process.on('message', (message: DeviceCommand) => {
  switch (message.type) {
    case 'setup': {
      setup = message;
      const eumDer = readFileSync(join(message.pkiDir, 'eum.der'));
      eum = { entity: 'eum', der: eumDer, certificate: parseCertificate(eumDer), privateKey: createPrivateKey(message.eumKeyPem) };
      ciDer = readFileSync(join(message.pkiDir, 'ci.der'));
      eidPrefix = permittedEidPrefix(eum.certificate);
      reply({ type: 'ready' });
      break;
    }
    case 'prepare': {
      const t = performance.now();
      prepared = message.matchingIds.map((matchingId) => ({ euicc: newEuicc(), matchingId }));
      reply({ type: 'prepared', count: prepared.length, ms: performance.now() - t });
      break;
    }
    case 'run':
      void run(message.concurrency, message.deadlineMs).then(reply);
      break;
    case 'floor':
      void floor(message).then(reply);
      break;
    case 'exit':
      process.disconnect();
      break;
  }
});
// The parent going away ends this process too.
process.on('disconnect', () => process.exit(0));
