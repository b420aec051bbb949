// Typed errors of the IPA/LPA (SGP.22 5.7 ES10 status words and results, 6.5/6.6 ES9+ function execution status).
import { McimError } from '../errors.js';

/** The codes IpaError carries (meanings: ERROR_CODES in src/errors.ts). */
export type IpaErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_EUICC_RESPONSE'
  | 'INVALID_SERVER_RESPONSE'
  | 'TRANSPORT_ERROR'
  | 'CONFIRMATION_CODE_REQUIRED';

export class IpaError extends McimError {
  declare readonly code: IpaErrorCode;
  constructor(code: IpaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Names of the status words an eUICC answers with (ISO/IEC 7816-4 5.1.3, GPC 2.3 11.1.3). */
const STATUS_WORD_NAMES: Readonly<Record<number, string>> = {
  0x6700: 'wrong length',
  0x6881: 'logical channel not supported',
  0x6982: 'security status not satisfied',
  0x6985: 'conditions of use not satisfied',
  0x6986: 'command not allowed',
  0x6a80: 'incorrect data',
  0x6a81: 'function not supported',
  0x6a82: 'application not found',
  0x6a84: 'not enough memory',
  0x6a86: 'incorrect P1 P2',
  0x6a88: 'referenced data not found',
  0x6d00: 'instruction not supported',
  0x6e00: 'class not supported',
  0x6f00: 'no precise diagnosis',
};

export function statusWordHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}

/** The eUICC refused an APDU with a status word other than 9000/61xx. */
export class CardStatusError extends McimError {
  declare readonly code: 'CARD_STATUS';
  /** SW1 * 256 + SW2. */
  readonly sw: number;
  constructor(sw: number, what: string) {
    const name = STATUS_WORD_NAMES[sw];
    super('CARD_STATUS', `${what}: status word ${statusWordHex(sw)}${name ? ` (${name})` : ''}`);
    this.sw = sw;
  }
}

/**
 * An ES10 function answered with an error result (SGP.22 5.7: e.g. enableResult 2
 * profileNotInDisabledState, authenticateErrorCode, downloadErrorCode, a PIR errorResult).
 */
export class Es10ResultError extends McimError {
  declare readonly code: 'ES10_RESULT';
  /** The ES10 function, as SGP.22 names it. */
  readonly function: string;
  /** The result code the eUICC returned. */
  readonly result: number;
  /** The whole response as the eUICC returned it, for relaying to the SM-DP+ (AuthenticateServer, PrepareDownload). */
  readonly response: Buffer | undefined;
  constructor(fn: string, result: number, meaning: string | undefined, options: { detail?: string; response?: Buffer } = {}) {
    super('ES10_RESULT', `${fn} failed: result ${result}${meaning ? ` (${meaning})` : ''}${options.detail ? `, ${options.detail}` : ''}`);
    this.function = fn;
    this.result = result;
    this.response = options.response;
  }
}

/** An ES9+ function answered Failed or Expired (SGP.22 6.5.1.4 statusCodeData). */
export class Es9PlusError extends McimError {
  declare readonly code: 'ES9PLUS_FAILED' | 'ES9PLUS_EXPIRED';
  readonly function: string;
  readonly status: 'Failed' | 'Expired';
  readonly subjectCode: string | undefined;
  readonly reasonCode: string | undefined;
  readonly subjectIdentifier: string | undefined;
  readonly serverMessage: string | undefined;
  constructor(
    fn: string,
    status: 'Failed' | 'Expired',
    data: { subjectCode?: string; reasonCode?: string; subjectIdentifier?: string; message?: string },
  ) {
    const codes = data.subjectCode !== undefined || data.reasonCode !== undefined ? ` ${data.subjectCode ?? '?'}/${data.reasonCode ?? '?'}` : '';
    super(status === 'Failed' ? 'ES9PLUS_FAILED' : 'ES9PLUS_EXPIRED', `ES9+ ${fn} ${status}${codes}${data.message ? `: ${data.message}` : ''}`);
    this.function = fn;
    this.status = status;
    this.subjectCode = data.subjectCode;
    this.reasonCode = data.reasonCode;
    this.subjectIdentifier = data.subjectIdentifier;
    this.serverMessage = data.message;
  }
}

/** An ESipa function of the eIM answered with an error: a Failed status, an HTTP refusal, or an ESipa error code. */
export class EsipaError extends McimError {
  declare readonly code: 'ESIPA_FAILED';
  readonly function: string;
  /** The ESipa error code (eimPackageError, provideEimPackageResultError...), when the eIM answered with one. */
  readonly esipaCode: number | undefined;
  /** The HTTP status, when the eIM refused the request at the HTTP level. */
  readonly httpStatus: number | undefined;
  constructor(fn: string, message: string, o: { esipaCode?: number; httpStatus?: number } = {}) {
    super('ESIPA_FAILED', `ESipa ${fn}: ${message}`);
    this.function = fn;
    this.esipaCode = o.esipaCode;
    this.httpStatus = o.httpStatus;
  }
}
