// SGP.22 6.5 (JSON binding over HTTPS) and 6.6 (ES9+ functions, 5.6.1-5.6.5): the LPA's client of the SM-DP+.
import { isSmdpAddress } from '../activationCode.js';
import { Es9PlusError, IpaError } from '../errors.js';
import { HttpsClient, type HttpsClientOptions } from '../httpsClient.js';

export const ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';
export const LPA_USER_AGENT = 'gsma-rsp-lpad';

export interface InitiateAuthenticationResult {
  readonly transactionId: Buffer;
  readonly serverSigned1: Buffer;
  readonly serverSignature1: Buffer;
  readonly euiccCiPKIdToBeUsed: Buffer;
  readonly serverCertificate: Buffer;
}

export interface AuthenticateClientResult {
  readonly transactionId: Buffer;
  readonly profileMetadata: Buffer;
  readonly smdpSigned2: Buffer;
  readonly smdpSignature2: Buffer;
  readonly smdpCertificate: Buffer;
}

export interface GetBoundProfilePackageResult {
  readonly transactionId: Buffer;
  readonly boundProfilePackage: Buffer;
}

type Json = Record<string, unknown>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/** base64 of ASN.1 data (SGP.22 6.5.1: "BASE64 encoded"). */
function base64(b: Buffer): string {
  return b.toString('base64');
}

/**
 * ES9+ client for one SM-DP+ address (`host[:port]`). All requests of a client go over one
 * keep-alive TLS connection; close() ends it.
 */
export class Es9PlusClient {
  readonly address: string;
  readonly #http: HttpsClient;

  constructor(address: string, options: HttpsClientOptions = {}) {
    // The address goes into the URL: one that is not host[:port] (a notification address with '@', '/' or '#') could
    // point the request elsewhere.
    if (!isSmdpAddress(address)) throw new IpaError('INVALID_ARGUMENT', `'${address}' is not an SM-DP+ address (host[:port])`);
    this.address = address;
    this.#http = new HttpsClient(options);
  }

  close(): void {
    this.#http.close();
  }

  /** SGP.22 5.6.1 initiateAuthentication. */
  async initiateAuthentication(euiccChallenge: Buffer, euiccInfo1: Buffer, smdpAddress: string): Promise<InitiateAuthenticationResult> {
    const fn = 'initiateAuthentication';
    const r = await this.#call(fn, { euiccChallenge: base64(euiccChallenge), euiccInfo1: base64(euiccInfo1), smdpAddress });
    return {
      transactionId: hexField(r, 'transactionId', fn),
      serverSigned1: base64Field(r, 'serverSigned1', fn),
      serverSignature1: base64Field(r, 'serverSignature1', fn),
      euiccCiPKIdToBeUsed: base64Field(r, 'euiccCiPKIdToBeUsed', fn),
      serverCertificate: base64Field(r, 'serverCertificate', fn),
    };
  }

  /** SGP.22 5.6.3 authenticateClient. */
  async authenticateClient(transactionId: Buffer, authenticateServerResponse: Buffer): Promise<AuthenticateClientResult> {
    const fn = 'authenticateClient';
    const r = await this.#call(fn, { transactionId: hex(transactionId), authenticateServerResponse: base64(authenticateServerResponse) });
    return {
      transactionId: hexField(r, 'transactionId', fn),
      profileMetadata: base64Field(r, 'profileMetadata', fn),
      smdpSigned2: base64Field(r, 'smdpSigned2', fn),
      smdpSignature2: base64Field(r, 'smdpSignature2', fn),
      smdpCertificate: base64Field(r, 'smdpCertificate', fn),
    };
  }

  /** SGP.22 5.6.2 getBoundProfilePackage. */
  async getBoundProfilePackage(transactionId: Buffer, prepareDownloadResponse: Buffer): Promise<GetBoundProfilePackageResult> {
    const fn = 'getBoundProfilePackage';
    const r = await this.#call(fn, { transactionId: hex(transactionId), prepareDownloadResponse: base64(prepareDownloadResponse) });
    return { transactionId: hexField(r, 'transactionId', fn), boundProfilePackage: base64Field(r, 'boundProfilePackage', fn) };
  }

  /** SGP.22 5.6.4 handleNotification: answered with 204 No Content. */
  async handleNotification(pendingNotification: Buffer): Promise<void> {
    await this.#call('handleNotification', { pendingNotification: base64(pendingNotification) }, 204);
  }

  /** SGP.22 5.6.5 cancelSession with the eUICC's signed CancelSessionResponse. */
  async cancelSession(transactionId: Buffer, cancelSessionResponse: Buffer): Promise<void> {
    await this.#call('cancelSession', { transactionId: hex(transactionId), cancelSessionResponse: base64(cancelSessionResponse) });
  }

  async #call(fn: string, body: Json, expectedStatus = 200): Promise<Json> {
    const url = `https://${this.address}/gsma/rsp2/es9plus/${fn}`;
    const response = await this.#http.post(
      url,
      { 'Content-Type': 'application/json', 'X-Admin-Protocol': ADMIN_PROTOCOL, 'User-Agent': LPA_USER_AGENT, Accept: 'application/json' },
      Buffer.from(JSON.stringify(body), 'utf8'),
    );
    if (response.status === 204 && expectedStatus === 204) return {};
    if (response.status !== 200) {
      throw new IpaError('TRANSPORT_ERROR', `ES9+ ${fn}: HTTP status ${response.status}${snippet(response.body)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: the response is not JSON${snippet(response.body)}`);
    }
    if (!isObject(parsed)) throw new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: the response is not a JSON object`);
    checkExecutionStatus(fn, parsed);
    if (expectedStatus === 204) throw new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: HTTP 200 where 204 No Content is due`);
    return parsed;
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Json, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

/** header.functionExecutionStatus (SGP.22 6.5.1.4): Executed-Success / Executed-WithWarning pass; Failed / Expired throw. */
function checkExecutionStatus(fn: string, body: Json): void {
  const header = body['header'];
  const status = isObject(header) ? header['functionExecutionStatus'] : undefined;
  const name = isObject(status) ? status['status'] : undefined;
  if (name === 'Executed-Success' || name === 'Executed-WithWarning') return;
  if (name === 'Failed' || name === 'Expired') {
    const data = isObject(status) && isObject(status['statusCodeData']) ? status['statusCodeData'] : {};
    throw new Es9PlusError(fn, name, {
      subjectCode: optionalString(data, 'subjectCode'),
      reasonCode: optionalString(data, 'reasonCode'),
      subjectIdentifier: optionalString(data, 'subjectIdentifier'),
      message: optionalString(data, 'message'),
    });
  }
  throw new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: no valid header.functionExecutionStatus.status`);
}

function base64Field(o: Json, key: string, fn: string): Buffer {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length % 4 !== 0 || !BASE64.test(v)) {
    throw new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: '${key}' is missing or not base64`);
  }
  return Buffer.from(v, 'base64');
}

function hexField(o: Json, key: string, fn: string): Buffer {
  const v = o[key];
  if (typeof v !== 'string' || !HEX.test(v) || v.length > 32) {
    throw new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: '${key}' is missing or not 1 to 16 bytes of hex`);
  }
  return Buffer.from(v, 'hex');
}

function hex(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

function snippet(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 200)).replace(/\s+/g, ' ').trim();
  return text ? `: ${text}` : '';
}
