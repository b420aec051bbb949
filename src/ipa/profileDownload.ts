// SGP.22 3.1.3 Profile Download and Installation with 3.0.1 Common Mutual Authentication: the LPAd's side, between ES10b (eUICC) and ES9+ (SM-DP+).
import { Asn1Error } from '../asn1/errors.js';
import { decode, type Codec } from '../asn1/schema.js';
import { decodeTlv, tagHex } from '../asn1/tlv.js';
import { iccidDigitsFromEf } from '../asn1/definitions/saip.js';
import {
  CancelSessionReason,
  ErrorReason,
  BppCommandId,
  ServerSigned1,
  SmdpSigned2,
  StoreMetadataRequest,
  type DeviceInfo,
} from '../asn1/definitions/rsp.js';
import { parseActivationCode, type ActivationCode } from './activationCode.js';
import { authenticateServer } from './es10b/authenticateServer.js';
import { cancelSession } from './es10b/cancelSession.js';
import { authenticateClient } from './es9plus/authenticateClient.js';
import { cancelSession as es9CancelSession } from './es9plus/cancelSession.js';
import { getBoundProfilePackage } from './es9plus/getBoundProfilePackage.js';
import { handleNotification } from './es9plus/handleNotification.js';
import { initiateAuthentication } from './es9plus/initiateAuthentication.js';
import { resultName, type Es10Client } from './es10Client.js';
import { Es9PlusClient } from './es9plus/es9plusClient.js';
import type { Es9Response } from '../http/es9plusFunctions.js';
import { Es10ResultError, Es9PlusError, IpaError } from './errors.js';
import { getEuiccChallenge } from './es10b/getEuiccChallenge.js';
import { getEuiccInfo1 } from './es10b/getEuiccInfo.js';
import type { HttpsClientOptions } from './httpsClient.js';
import { loadBoundProfilePackage } from './es10b/loadBoundProfilePackage.js';
import { hashConfirmationCode, prepareDownload } from './es10b/prepareDownload.js';
import { removeNotificationFromList } from './es10b/removeNotificationFromList.js';

/** A neutral test TAC and the radio releases of an LTE-M/NB-IoT/5G module (SGP.22 4.2 DeviceInfo). */
export const DEFAULT_DEVICE_INFO: DeviceInfo = {
  tac: Buffer.from('35000000', 'hex'),
  deviceCapabilities: {
    eutranEpcSupportedRelease: Buffer.from([15, 0, 0]),
    nr5gcSupportedRelease: Buffer.from([15, 0, 0]),
    lpaSvn: Buffer.from([2, 5, 0]),
  },
};

export type DownloadStep =
  | 'authenticating'
  | 'authenticated'
  | 'preparing'
  | 'downloading'
  | 'installing'
  | 'installed'
  | 'notifying'
  | 'cancelling';

export interface DownloadOptions {
  /** The activation code, as text ('LPA:1$...') or parsed. */
  readonly activationCode: string | ActivationCode;
  /** The confirmation code, when the SM-DP+ requires one. */
  readonly confirmationCode?: string;
  readonly deviceInfo?: DeviceInfo;
  readonly http?: HttpsClientOptions;
  readonly onProgress?: (step: DownloadStep, detail: string) => void;
  /** Receives the ProfileInstallationResult (BF37) as the eUICC returned it, success or error (an eIM trigger's result carries it). */
  readonly onInstallationResult?: (pir: Buffer) => void;
  /**
   * How the SM-DP+ is reached; default: ES9+ over HTTPS to the activation code's address (`es9Server`). The IPAd's
   * indirect mode passes the eIM's ESipa relay (src/ipa/esipa/indirectDownload.ts).
   */
  readonly server?: DownloadServer;
}

/**
 * The SM-DP+ side of a download: the four functions of SGP.22 3.1.3 (ES9+, or ESipa relayed by an eIM, SGP.32 3.2.2),
 * each answering the ES9+ fields as the SM-DP+ sent them. `deliverPir` is absent when someone else (the eIM) delivers
 * the installation result.
 */
export interface DownloadServer {
  initiateAuthentication(euiccChallenge: Buffer, euiccInfo1: Buffer, smdpAddress: string): Promise<Es9Response<'initiateAuthentication'>>;
  authenticateClient(transactionId: Buffer, authenticateServerResponse: Buffer): Promise<Es9Response<'authenticateClient'>>;
  getBoundProfilePackage(transactionId: Buffer, prepareDownloadResponse: Buffer): Promise<Es9Response<'getBoundProfilePackage'>>;
  cancelSession(transactionId: Buffer, cancelSessionResponse: Buffer): Promise<void>;
  deliverPir?(es10: Es10Client, pir: Buffer, address: string, seqNumber: number): Promise<DownloadResult['notification']>;
  /** Whether an error means the server side has ended the session (an SM-DP+ Failed status): the eUICC's is then cancelled without telling it. */
  endedBy(error: unknown): boolean;
  close(): void;
}

/** ES9+ over HTTPS to one SM-DP+ (SGP.22 6.5), one TLS connection for the session. */
export function es9Server(address: string, http: HttpsClientOptions | undefined): DownloadServer {
  const es9 = new Es9PlusClient(address, http);
  return {
    initiateAuthentication: (challenge, info1, smdpAddress) => initiateAuthentication(es9, challenge, info1, smdpAddress),
    authenticateClient: (tx, response) => authenticateClient(es9, tx, response),
    getBoundProfilePackage: (tx, response) => getBoundProfilePackage(es9, tx, response),
    cancelSession: (tx, response) => es9CancelSession(es9, tx, response),
    deliverPir: (es10, pir, notificationAddress, seqNumber) => deliverPir(es10, es9, pir, notificationAddress, seqNumber, http),
    endedBy: (e) => e instanceof Es9PlusError,
    close: () => es9.close(),
  };
}

export interface DownloadResult {
  readonly transactionId: string;
  readonly iccid: string;
  readonly serviceProviderName: string;
  readonly profileName: string;
  /** AID of the new ISD-P (hex). */
  readonly isdpAid: string;
  /** The PIR's delivery to the SM-DP+ and its removal from the eUICC. */
  readonly notification: { readonly seqNumber: number; readonly delivered: boolean; readonly error?: string };
}

function serverData<T>(codec: Codec<T>, bytes: Buffer, what: string): T {
  try {
    return decode(codec, bytes);
  } catch (e) {
    if (e instanceof Asn1Error) throw new IpaError('INVALID_SERVER_RESPONSE', `${what} is malformed: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Checks that a relayed field is exactly one element with the expected tag. */
function singleElement(bytes: Buffer, tag: number, what: string): Buffer {
  let t;
  try {
    t = decodeTlv(bytes);
  } catch (e) {
    throw new IpaError('INVALID_SERVER_RESPONSE', `${what} is not one BER-TLV: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (t.tag !== tag) throw new IpaError('INVALID_SERVER_RESPONSE', `${what} has tag ${tagHex(t.tag)} instead of ${tagHex(tag)}`);
  return bytes;
}

/**
 * Downloads and installs the profile an activation code points to. On an eUICC error result the
 * error response is relayed to the SM-DP+ (which ends the session); on any other failure after
 * AuthenticateServer the LPA cancels the session on the eUICC (ES10b.CancelSession) and relays
 * the signed cancellation to the SM-DP+ (ES9+ cancelSession). A PIR with an error result is still
 * delivered to the SM-DP+ before the error is thrown.
 */
export async function downloadProfile(es10: Es10Client, options: DownloadOptions): Promise<DownloadResult> {
  const ac = typeof options.activationCode === 'string' ? parseActivationCode(options.activationCode) : options.activationCode;
  const progress = options.onProgress ?? (() => undefined);
  const es9 = options.server ?? es9Server(ac.smdpAddress, options.http);
  try {
    progress('authenticating', ac.smdpAddress);
    const euiccChallenge = await getEuiccChallenge(es10);
    const euiccInfo1 = await getEuiccInfo1(es10);
    const init = await es9.initiateAuthentication(euiccChallenge, euiccInfo1.der, ac.smdpAddress);
    const signed1 = serverData(ServerSigned1, init.serverSigned1, 'serverSigned1');
    if (!signed1.transactionId.equals(init.transactionId)) {
      throw new IpaError('INVALID_SERVER_RESPONSE', 'the transactionId of serverSigned1 differs from the response');
    }
    if (!signed1.euiccChallenge.equals(euiccChallenge)) {
      throw new IpaError('INVALID_SERVER_RESPONSE', 'serverSigned1 does not carry the eUICC challenge');
    }
    // SGP.22 3.0.1: the LPAd checks that the SM-DP+ names the address it was reached at (case-insensitively, port included).
    if (signed1.serverAddress.toLowerCase() !== ac.smdpAddress.toLowerCase()) {
      throw new IpaError('INVALID_SERVER_RESPONSE', `the SM-DP+ calls itself '${signed1.serverAddress}', not '${ac.smdpAddress}'`);
    }
    const transactionId = init.transactionId;
    const session = new DownloadSession(es10, es9, transactionId, progress);

    let authResponse: Buffer;
    try {
      authResponse = (
        await authenticateServer(es10, {
          serverSigned1: singleElement(init.serverSigned1, 0x30, 'serverSigned1'),
          serverSignature1: singleElement(init.serverSignature1, 0x5f37, 'serverSignature1'),
          euiccCiPKIdToBeUsed: singleElement(init.euiccCiPKIdToBeUsed, 0x04, 'euiccCiPKIdToBeUsed'),
          serverCertificate: singleElement(init.serverCertificate, 0x30, 'serverCertificate'),
          ctxParams: { ...(ac.matchingId !== '' ? { matchingId: ac.matchingId } : {}), deviceInfo: options.deviceInfo ?? DEFAULT_DEVICE_INFO },
        })
      ).der;
    } catch (e) {
      if (e instanceof Es10ResultError && e.response) await session.relayError(() => es9.authenticateClient(transactionId, e.response!));
      throw e;
    }

    const client = await session.guard(async () => {
      const r = await es9.authenticateClient(transactionId, authResponse);
      if (!r.transactionId.equals(transactionId)) throw new IpaError('INVALID_SERVER_RESPONSE', 'authenticateClient answered for another transaction');
      return r;
    });
    const metadata = await session.guard(async () => serverData(StoreMetadataRequest, client.profileMetadata, 'profileMetadata'), CancelSessionReason.metadataMismatch);
    const signed2 = await session.guard(async () => {
      const s = serverData(SmdpSigned2, client.smdpSigned2, 'smdpSigned2');
      if (!s.transactionId.equals(transactionId)) throw new IpaError('INVALID_SERVER_RESPONSE', 'smdpSigned2 is for another transaction');
      return s;
    });
    const iccid = iccidDigitsFromEf(metadata.iccid);
    progress('authenticated', `${iccid} '${metadata.profileName}' by ${metadata.serviceProviderName}`);

    if (signed2.ccRequiredFlag && options.confirmationCode === undefined) {
      await session.cancel(CancelSessionReason.postponed);
      throw new IpaError('CONFIRMATION_CODE_REQUIRED', `the SM-DP+ requires a confirmation code for ${iccid}`);
    }
    progress('preparing', iccid);
    let prepared: Buffer;
    try {
      prepared = await session.guard(() =>
        prepareDownload(es10, {
          smdpSigned2: singleElement(client.smdpSigned2, 0x30, 'smdpSigned2'),
          smdpSignature2: singleElement(client.smdpSignature2, 0x5f37, 'smdpSignature2'),
          smdpCertificate: singleElement(client.smdpCertificate, 0x30, 'smdpCertificate'),
          ...(signed2.ccRequiredFlag ? { hashCc: hashConfirmationCode(options.confirmationCode!, transactionId) } : {}),
        }),
      );
    } catch (e) {
      if (e instanceof Es10ResultError && e.response) await session.relayError(() => es9.getBoundProfilePackage(transactionId, e.response!));
      throw e;
    }

    progress('downloading', iccid);
    const bpp = await session.guard(async () => {
      const r = await es9.getBoundProfilePackage(transactionId, prepared);
      if (!r.transactionId.equals(transactionId)) throw new IpaError('INVALID_SERVER_RESPONSE', 'getBoundProfilePackage answered for another transaction');
      return r.boundProfilePackage;
    });
    progress('installing', `${bpp.length} bytes`);
    const pir = await session.guard(() => loadBoundProfilePackage(es10, bpp), CancelSessionReason.loadBppExecutionError);
    options.onInstallationResult?.(pir.der);
    const pirData = pir.value.profileInstallationResultData.value;
    const seqNumber = pirData.notificationMetadata.seqNumber;

    progress('notifying', pirData.notificationMetadata.notificationAddress);
    const notification = es9.deliverPir === undefined ? { seqNumber, delivered: false, error: 'left to the eIM' } : await es9.deliverPir(es10, pir.der, pirData.notificationMetadata.notificationAddress, seqNumber);
    const final = pirData.finalResult;
    if (final.type === 'errorResult') {
      const { bppCommandId, errorReason } = final.value;
      throw new Es10ResultError('LoadBoundProfilePackage', errorReason, resultName(ErrorReason, errorReason), {
        detail: `at ${resultName(BppCommandId, bppCommandId) ?? `BPP command ${bppCommandId}`}: ${pir.refusal ?? 'no reason given'}`,
        response: pir.der,
      });
    }
    progress('installed', iccid);
    return {
      transactionId: transactionId.toString('hex').toUpperCase(),
      iccid,
      serviceProviderName: metadata.serviceProviderName,
      profileName: metadata.profileName,
      isdpAid: final.value.aid.toString('hex').toUpperCase(),
      notification,
    };
  } finally {
    es9.close();
  }
}

/** SGP.22 3.1.3 end: handleNotification with the PIR, then RemoveNotificationFromList; a failure leaves it pending. */
async function deliverPir(
  es10: Es10Client,
  es9: Es9PlusClient,
  pir: Buffer,
  address: string,
  seqNumber: number,
  http: HttpsClientOptions | undefined,
): Promise<DownloadResult['notification']> {
  const sameServer = address.toLowerCase() === es9.address.toLowerCase();
  let target: Es9PlusClient | undefined;
  try {
    target = sameServer ? es9 : new Es9PlusClient(address, http);
    await handleNotification(target, pir);
    await removeNotificationFromList(es10, seqNumber);
    return { seqNumber, delivered: true };
  } catch (e) {
    return { seqNumber, delivered: false, error: e instanceof Error ? e.message : String(e) };
  } finally {
    if (!sameServer) target?.close();
  }
}

/** The session's failure handling once the eUICC holds a download session. */
class DownloadSession {
  readonly #es10: Es10Client;
  readonly #es9: DownloadServer;
  readonly #transactionId: Buffer;
  readonly #progress: (step: DownloadStep, detail: string) => void;

  constructor(es10: Es10Client, es9: DownloadServer, transactionId: Buffer, progress: (step: DownloadStep, detail: string) => void) {
    this.#es10 = es10;
    this.#es9 = es9;
    this.#transactionId = transactionId;
    this.#progress = progress;
  }

  /**
   * Runs a step; when it fails other than by an eUICC error result or an SM-DP+ Failed/Expired
   * status (after which that side has ended the session itself), cancels the session with `reason`.
   */
  async guard<T>(step: () => Promise<T>, reason: number = CancelSessionReason.undefinedReason): Promise<T> {
    try {
      return await step();
    } catch (e) {
      if (this.#es9.endedBy(e)) await this.#cancelOnEuicc(reason);
      else if (!(e instanceof Es10ResultError)) await this.cancel(reason);
      throw e;
    }
  }

  /** ES10b.CancelSession, then ES9+ cancelSession with the signed response. Failures are reported as progress, not thrown. */
  async cancel(reason: number): Promise<void> {
    const response = await this.#cancelOnEuicc(reason);
    if (!response) return;
    try {
      await this.#es9.cancelSession(this.#transactionId, response);
    } catch (e) {
      this.#progress('cancelling', `ES9+ cancelSession failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Relays an eUICC error response to the SM-DP+, which answers Failed as it ends the session. */
  async relayError(relay: () => Promise<unknown>): Promise<void> {
    try {
      await relay();
    } catch (e) {
      if (!this.#es9.endedBy(e)) this.#progress('cancelling', `relaying the eUICC's error failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async #cancelOnEuicc(reason: number): Promise<Buffer | undefined> {
    this.#progress('cancelling', resultName(CancelSessionReason, reason) ?? String(reason));
    try {
      return await cancelSession(this.#es10, this.#transactionId, reason);
    } catch (e) {
      this.#progress('cancelling', `ES10b.CancelSession failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }
}
