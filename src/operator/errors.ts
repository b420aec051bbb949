// Typed errors of the operator's side of ES2+ (SGP.22 5.3, 6.5): bad arguments, answers of the SM-DP+ that break the binding, and functions that end Failed or Expired.
import { McimError } from '../errors.js';
import { FunctionFailure } from '../http/jsonBinding.js';

/** The codes OperatorError carries (meanings: ERROR_CODES in src/errors.ts). */
export type OperatorErrorCode = 'INVALID_ARGUMENT' | 'INVALID_SERVER_RESPONSE' | 'TRANSPORT_ERROR';

export class OperatorError extends McimError {
  declare readonly code: OperatorErrorCode;
  constructor(code: OperatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * An ES2+ function the SM-DP+ answered with status Failed or Expired (SGP.22 6.5.1.4): the statusCodeData's subject
 * and reason codes (empty when the SM-DP+ sent none), its subjectIdentifier and message.
 */
export class Es2PlusFailure extends FunctionFailure {
  /** The ES2+ function, as SGP.22 6.5.2 names it (downloadOrder, confirmOrder, ...). */
  readonly function: string;
  readonly status: 'Failed' | 'Expired';
  readonly subjectIdentifier: string | undefined;
  /** The functionCallIdentifier of the call that failed. */
  readonly functionCallIdentifier: string;
  constructor(fn: string, status: 'Failed' | 'Expired', functionCallIdentifier: string, data: { subjectCode?: string; reasonCode?: string; subjectIdentifier?: string; message?: string }) {
    const codes = data.subjectCode === undefined && data.reasonCode === undefined ? 'no status code data' : `${data.subjectCode ?? '?'} / ${data.reasonCode ?? '?'}`;
    super(data.subjectCode ?? '', data.reasonCode ?? '', `ES2+ ${fn}: ${status} (${codes})${data.message === undefined ? '' : `: ${data.message}`}`);
    this.function = fn;
    this.status = status;
    this.subjectIdentifier = data.subjectIdentifier;
    this.functionCallIdentifier = functionCallIdentifier;
  }
}
