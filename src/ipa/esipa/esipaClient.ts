// SGP.32 v1.2 6.1-6.4: the IPA's transport to its eIM over HTTPS, in the ASN.1 binding (POST /gsma/rsp2/asn1, application/x-gsma-rsp-asn1) or the JSON binding (POST /gsma/rsp2/esipa/<function>); the functions are in this directory.
import { Asn1Error } from '../../asn1/errors.js';
import { EsipaMessageFromEimToIpa, type EsipaMessageFromEimToIpa as FromEim } from '../../asn1/definitions/sgp32.js';
import { decode } from '../../asn1/schema.js';
import { ESIPA_FUNCTIONS, type EsipaFunctionName } from '../../http/esipaFunctions.js';
import { decodeFields, encodeFields, type FieldSpecs, type FieldValues } from '../../http/es9plusFunctions.js';
import { EsipaError, IpaError } from '../errors.js';
import { HttpsClient, type HttpsClientOptions } from '../httpsClient.js';

export type EsipaBinding = 'asn1' | 'json';

const ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';
const IPA_USER_AGENT = 'gsma-rsp-ipad';
const ASN1_CONTENT_TYPE = 'application/x-gsma-rsp-asn1';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One eIM (`https://host[:port]`, no path), one keep-alive TLS connection; close() ends it. */
export class EsipaClient {
  readonly url: URL;
  readonly binding: EsipaBinding;
  readonly #http: HttpsClient;

  constructor(eimUrl: string, binding: EsipaBinding, options: HttpsClientOptions = {}) {
    let url: URL;
    try {
      url = new URL(eimUrl);
    } catch {
      throw new IpaError('INVALID_ARGUMENT', `'${eimUrl}' is not a URL`);
    }
    if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      throw new IpaError('INVALID_ARGUMENT', `'${eimUrl}' is not an eIM address (https://host[:port])`);
    }
    this.url = url;
    this.binding = binding;
    this.#http = new HttpsClient(options);
  }

  close(): void {
    this.#http.close();
  }

  /** ASN.1 binding: one EsipaMessageFromIpaToEim; the eIM's message (decoded and as received), or undefined for 204. */
  async asn1(fn: string, message: Buffer): Promise<{ der: Buffer; value: FromEim } | undefined> {
    const response = await this.#http.post(
      new URL('/gsma/rsp2/asn1', this.url).toString(),
      { 'Content-Type': ASN1_CONTENT_TYPE, 'X-Admin-Protocol': ADMIN_PROTOCOL, 'User-Agent': IPA_USER_AGENT, Accept: ASN1_CONTENT_TYPE },
      message,
    );
    if (response.status === 204) return undefined;
    if (response.status !== 200) throw new EsipaError(fn, `HTTP status ${response.status}`, { httpStatus: response.status });
    try {
      return { der: response.body, value: decode(EsipaMessageFromEimToIpa, response.body) };
    } catch (e) {
      if (e instanceof Asn1Error) throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: the eIM's answer is not an EsipaMessageFromEimToIpa: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /** JSON binding: the function's declared fields (src/http/esipaFunctions.ts); the answer's declared fields, or {} for 204. */
  async json<N extends EsipaFunctionName>(fn: N, request: FieldValues<(typeof ESIPA_FUNCTIONS)[N]['request']>): Promise<FieldValues<(typeof ESIPA_FUNCTIONS)[N]['response']>> {
    const declaration = ESIPA_FUNCTIONS[fn];
    const body = encodeFields(declaration.request as FieldSpecs, request as FieldValues<FieldSpecs>);
    const response = await this.#http.post(
      new URL(`/gsma/rsp2/esipa/${fn}`, this.url).toString(),
      { 'Content-Type': 'application/json', 'X-Admin-Protocol': ADMIN_PROTOCOL, 'User-Agent': IPA_USER_AGENT, Accept: 'application/json' },
      Buffer.from(JSON.stringify(body), 'utf8'),
    );
    const noContent = 'noContent' in declaration && declaration.noContent === true;
    if (response.status === 204 && noContent) return {} as FieldValues<(typeof ESIPA_FUNCTIONS)[N]['response']>;
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new EsipaError(fn, `HTTP status ${response.status}, not JSON`, { httpStatus: response.status });
    }
    const header = isObject(parsed) ? parsed['header'] : undefined;
    const status = isObject(header) && isObject(header['functionExecutionStatus']) ? header['functionExecutionStatus'] : undefined;
    if (status?.['status'] !== 'Executed-Success' && status?.['status'] !== 'Executed-WithWarning') {
      const data = isObject(status?.['statusCodeData']) ? (status['statusCodeData'] as Json) : {};
      throw new EsipaError(fn, `${String(status?.['status'] ?? `HTTP status ${response.status}`)} ${String(data['subjectCode'] ?? '')}/${String(data['reasonCode'] ?? '')} ${String(data['message'] ?? '')}`.trim(), {
        httpStatus: response.status,
      });
    }
    if (noContent) throw new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: HTTP ${response.status} where 204 No Content is due`);
    const fields = decodeFields(declaration.response as FieldSpecs, parsed as Json, (_n, _s, _p, message) => new IpaError('INVALID_SERVER_RESPONSE', `ESipa ${fn}: ${message}`));
    return fields as FieldValues<(typeof ESIPA_FUNCTIONS)[N]['response']>;
  }
}
