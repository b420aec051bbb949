// SGP.22 6.5 (JSON binding) and 6.5.2 (ES2+): the operator's transport to the SM-DP+ over mutual TLS; the functions of 5.3.1-5.3.4 are in this directory.
import { randomUUID } from 'node:crypto';
import { ES2PLUS_FUNCTIONS, ES2PLUS_PATH, type Es2FunctionName } from '../http/es2plusFunctions.js';
import { decodeFields, encodeFields, type FieldSpecs, type FieldValues } from '../http/es9plusFunctions.js';
import type { ExecutionStatus, StatusCodeData } from '../http/jsonBinding.js';
import { postJson, type JsonClientOptions } from '../http/jsonClient.js';
import { McimError } from '../errors.js';
import { Es2PlusFailure, OperatorError } from './errors.js';

/** The functions an operator calls on the SM-DP+ (handleDownloadProgressInfo goes the other way). */
export type Es2CallName = Exclude<Es2FunctionName, 'handleDownloadProgressInfo'>;
export type Es2Request<N extends Es2CallName> = FieldValues<(typeof ES2PLUS_FUNCTIONS)[N]['request']>;
export type Es2Response<N extends Es2CallName> = FieldValues<(typeof ES2PLUS_FUNCTIONS)[N]['response']>;

export interface Es2PlusClientOptions extends JsonClientOptions {
  /** The SM-DP+'s ES2+ base URL: https://host[:port][/prefix]; the function's path (/gsma/rsp2/es2plus/NAME) is appended. */
  readonly smdpUrl: string;
  /** header.functionRequesterIdentifier: the operator's identity as agreed with the SM-DP+ (SGP.22 6.5.1.3). */
  readonly functionRequesterIdentifier: string;
}

/** What a successful call returned: its decoded response fields, the execution status, and the call's identifier. */
export interface Es2Result<N extends Es2CallName> {
  readonly response: Es2Response<N>;
  /** Executed-Success, or Executed-WithWarning with its statusCodeData. */
  readonly status: ExecutionStatus;
  readonly statusCodeData: StatusCodeData | undefined;
  readonly functionCallIdentifier: string;
}

/** The longest functionRequesterIdentifier sent (the SM-DP+'s store keeps at most 256 characters). */
const MAX_REQUESTER_IDENTIFIER = 256;
/** A longer status message from the SM-DP+ is cut (it goes into error messages and terminal output). */
const MAX_STATUS_TEXT = 512;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ES2+ client of one operator towards one SM-DP+: every call is one POST with a fresh functionCallIdentifier. */
export class Es2PlusClient {
  readonly #base: string;
  readonly #requester: string;
  readonly #tls: JsonClientOptions;

  constructor(options: Es2PlusClientOptions) {
    let url: URL;
    try {
      url = new URL(options.smdpUrl);
    } catch {
      throw new OperatorError('INVALID_ARGUMENT', `'${options.smdpUrl}' is not a URL`);
    }
    if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
      throw new OperatorError('INVALID_ARGUMENT', `the SM-DP+ URL '${options.smdpUrl}' is not https://host[:port][/prefix] (ES2+ runs over mutually authenticated TLS)`);
    }
    const requester = options.functionRequesterIdentifier;
    if (requester.length === 0 || requester.length > MAX_REQUESTER_IDENTIFIER) {
      throw new OperatorError('INVALID_ARGUMENT', `the functionRequesterIdentifier is 1 to ${MAX_REQUESTER_IDENTIFIER} characters`);
    }
    this.#base = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.#requester = requester;
    this.#tls = { cert: options.cert, key: options.key, ca: options.ca, servername: options.servername, timeoutMs: options.timeoutMs, maxResponseBytes: options.maxResponseBytes };
  }

  /** The URL a function is posted to. */
  urlOf(fn: Es2CallName): string {
    return `${this.#base}${ES2PLUS_PATH}/${fn}`;
  }

  /**
   * Calls `fn` with `request` (its fields encoded as declared in src/http/es2plusFunctions.ts) and the request header;
   * the answer must be HTTP 200 with header.functionExecutionStatus. Failed or Expired throw Es2PlusFailure; a
   * success has its declared response fields decoded (a missing or malformed one: INVALID_SERVER_RESPONSE).
   */
  async call<N extends Es2CallName>(fn: N, request: Es2Request<N>): Promise<Es2Result<N>> {
    const declaration = ES2PLUS_FUNCTIONS[fn];
    const functionCallIdentifier = randomUUID();
    const body = {
      header: { functionRequesterIdentifier: this.#requester, functionCallIdentifier },
      ...encodeFields(declaration.request as FieldSpecs, request as FieldValues<FieldSpecs>),
    };
    let answer;
    try {
      answer = await postJson(this.urlOf(fn), body, this.#tls);
    } catch (e) {
      if (e instanceof McimError && e.code === 'IO_ERROR') throw new OperatorError('TRANSPORT_ERROR', `ES2+ ${fn}: ${e.message}`, { cause: e });
      if (e instanceof McimError && (e.code === 'MALFORMED_RESPONSE' || e.code === 'RESPONSE_TOO_LARGE')) {
        throw new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ ${fn}: ${e.message}`, { cause: e });
      }
      throw e;
    }
    if (answer.status !== 200) {
      throw new OperatorError('TRANSPORT_ERROR', `ES2+ ${fn}: HTTP status ${answer.status}${describeRefusal(answer.body)}`);
    }
    if (answer.adminProtocol !== undefined && !answer.adminProtocol.startsWith('gsma/rsp/v2.')) {
      throw new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ ${fn}: X-Admin-Protocol '${answer.adminProtocol.slice(0, 64)}' is not gsma/rsp/v2.x.y`);
    }
    if (!isObject(answer.body)) throw new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ ${fn}: the response is not a JSON object`);
    const { status, statusCodeData } = executionStatus(fn, answer.body);
    if (status === 'Failed' || status === 'Expired') throw new Es2PlusFailure(fn, status, functionCallIdentifier, statusCodeData ?? {});
    const response = decodeFields(declaration.response as FieldSpecs, answer.body, (_name, _spec, _problem, message) => new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ ${fn}: ${message}`));
    return { response: response as Es2Response<N>, status, statusCodeData: statusCodeData as StatusCodeData | undefined, functionCallIdentifier };
  }
}

const STATUSES: readonly ExecutionStatus[] = ['Executed-Success', 'Executed-WithWarning', 'Failed', 'Expired'];

/** header.functionExecutionStatus (SGP.22 6.5.1.4): its status, and the statusCodeData's string fields (bounded). */
function executionStatus(fn: string, body: Json): { status: ExecutionStatus; statusCodeData: Partial<StatusCodeData> | undefined } {
  const header = body['header'];
  const execution = isObject(header) ? header['functionExecutionStatus'] : undefined;
  const status = isObject(execution) ? execution['status'] : undefined;
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw new OperatorError('INVALID_SERVER_RESPONSE', `ES2+ ${fn}: no valid header.functionExecutionStatus.status`);
  }
  const data = isObject(execution) ? execution['statusCodeData'] : undefined;
  if (!isObject(data)) return { status: status as ExecutionStatus, statusCodeData: undefined };
  const text = (key: string): string | undefined => {
    const v = data[key];
    return typeof v === 'string' ? v.slice(0, MAX_STATUS_TEXT) : undefined;
  };
  const statusCodeData = Object.fromEntries(
    (['subjectCode', 'reasonCode', 'subjectIdentifier', 'message'] as const).flatMap((k) => {
      const v = text(k);
      return v === undefined ? [] : [[k, v]];
    }),
  ) as Partial<StatusCodeData>;
  return { status: status as ExecutionStatus, statusCodeData };
}

/** What an HTTP-level refusal said, when it carries a failure header (e.g. an unknown client certificate). */
function describeRefusal(body: unknown): string {
  if (!isObject(body)) return '';
  const header = body['header'];
  const execution = isObject(header) ? header['functionExecutionStatus'] : undefined;
  const data = isObject(execution) ? execution['statusCodeData'] : undefined;
  if (!isObject(data)) return '';
  const parts = [data['subjectCode'], data['reasonCode'], data['message']].filter((v): v is string => typeof v === 'string');
  return parts.length === 0 ? '' : ` (${parts.join(' ').slice(0, MAX_STATUS_TEXT)})`;
}
