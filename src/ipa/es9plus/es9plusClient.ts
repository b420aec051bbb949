// SGP.22 6.5 (JSON binding over HTTPS) and 6.6 (ES9+ bindings): the LPA's transport to the SM-DP+; the functions of 5.6.1-5.6.5 are in this directory.
import {
  ES9PLUS_FUNCTIONS,
  decodeFields,
  encodeFields,
  type Es9Function,
  type Es9FunctionName,
  type Es9Request,
  type Es9Response,
  type FieldSpecs,
  type FieldValues,
} from '../../http/es9plusFunctions.js';
import { isSmdpAddress } from '../activationCode.js';
import { Es9PlusError, IpaError } from '../errors.js';
import { HttpsClient, type HttpsClientOptions } from '../httpsClient.js';

export const ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';
const LPA_USER_AGENT = 'gsma-rsp-lpad';

type Json = Record<string, unknown>;

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

  /**
   * POSTs one ES9+ function's request, its fields encoded as declared in src/http/es9plusFunctions.ts, and returns the
   * response's declared fields once header.functionExecutionStatus passed (HTTP 204 for handleNotification).
   */
  async call<N extends Es9FunctionName>(fn: N, request: Es9Request<N>): Promise<Es9Response<N>> {
    const declaration: Es9Function = ES9PLUS_FUNCTIONS[fn];
    const body = await this.#post(fn, encodeFields(declaration.request, request as FieldValues<FieldSpecs>), declaration.noContent === true ? 204 : 200);
    const response = decodeFields(declaration.response, body, (_name, _spec, _problem, message) => new IpaError('INVALID_SERVER_RESPONSE', `ES9+ ${fn}: ${message}`));
    return response as Es9Response<N>;
  }

  async #post(fn: string, body: Json, expectedStatus: number): Promise<Json> {
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

function snippet(body: Buffer): string {
  const text = body.toString('utf8', 0, Math.min(body.length, 200)).replace(/\s+/g, ' ').trim();
  return text ? `: ${text}` : '';
}
