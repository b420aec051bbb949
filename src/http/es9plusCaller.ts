// SGP.22 6.5 (JSON binding) and 6.6.1 (ES9+ functions): one ES9+ call from a server (the eIM relaying for its IPAs, SGP.32 v1.2 3.2.2 / 5.14), fields encoded and decoded as declared in es9plusFunctions.ts.
import { McimError } from '../errors.js';
import {
  ES9PLUS_FUNCTIONS,
  decodeFields,
  encodeFields,
  type Es9FunctionName,
  type Es9Request,
  type Es9Response,
  type FieldSpecs,
  type FieldValues,
} from './es9plusFunctions.js';
import { FunctionFailure } from './jsonBinding.js';
import { postJson, type JsonClientOptions } from './jsonClient.js';

/** An SM-DP+ address as SGP.22 4.1 writes it: a host name (or IPv4 address) and an optional port, nothing else. */
const SMDP_ADDRESS = /^(?=.{1,255}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*(?::\d{1,5})?$/;

export function isSmdpAddress(address: string): boolean {
  return SMDP_ADDRESS.test(address);
}

/** The largest JSON response a function can produce: each declared field at its budget as encoded, with room for the header. */
function responseLimit(specs: FieldSpecs): number {
  let total = 4096;
  for (const [name, spec] of Object.entries(specs)) {
    total += name.length + 6 + (spec.kind === 'hex' ? 2 * spec.maxBytes : spec.kind === 'string' ? 6 * spec.maxBytes : Math.ceil(spec.maxBytes / 3) * 4);
  }
  return total;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * POSTs `request` to https://<address>/gsma/rsp2/es9plus/<fn>. Resolves with the declared response fields; rejects with
 * a FunctionFailure (the SM-DP+'s subjectCode and reasonCode) when it answers Failed or Expired, McimError IO_ERROR on
 * transport failures and timeouts, MALFORMED_RESPONSE when the answer is not the function's.
 */
export async function callEs9Plus<N extends Es9FunctionName>(address: string, fn: N, request: Es9Request<N>, options: JsonClientOptions = {}): Promise<Es9Response<N>> {
  if (!isSmdpAddress(address)) throw new McimError('INVALID_ARGUMENT', `'${address}' is not an SM-DP+ address (host[:port])`);
  const declaration = ES9PLUS_FUNCTIONS[fn];
  const noContent = 'noContent' in declaration && declaration.noContent === true;
  const response = await postJson(`https://${address}/gsma/rsp2/es9plus/${fn}`, encodeFields(declaration.request as FieldSpecs, request as FieldValues<FieldSpecs>), {
    userAgent: 'gsma-rsp-eim',
    ...options,
    maxResponseBytes: responseLimit(declaration.response),
  });
  if (noContent && response.status === 204) return {} as Es9Response<N>;
  const body = response.body;
  const header = isObject(body) ? body['header'] : undefined;
  const status = isObject(header) ? header['functionExecutionStatus'] : undefined;
  const name = isObject(status) ? status['status'] : undefined;
  if (name === 'Failed' || name === 'Expired') {
    const data = isObject(status) && isObject(status['statusCodeData']) ? status['statusCodeData'] : {};
    const text = (k: string): string => (typeof data[k] === 'string' ? (data[k] as string).slice(0, 256) : '');
    throw new FunctionFailure(text('subjectCode'), text('reasonCode'), `ES9+ ${fn} ${name}: ${text('subjectCode')}/${text('reasonCode')} ${text('message')}`.trim());
  }
  if (response.status !== 200 || (name !== 'Executed-Success' && name !== 'Executed-WithWarning')) {
    throw new McimError('MALFORMED_RESPONSE', `ES9+ ${fn}: HTTP ${response.status} without a successful functionExecutionStatus`);
  }
  if (noContent) throw new McimError('MALFORMED_RESPONSE', `ES9+ ${fn}: HTTP 200 where 204 No Content is due`);
  return decodeFields(declaration.response, body as Record<string, unknown>, (_n, _s, _p, message) => new McimError('MALFORMED_RESPONSE', `ES9+ ${fn}: ${message}`)) as Es9Response<N>;
}
