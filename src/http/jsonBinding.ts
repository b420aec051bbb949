// The GSMA RSP JSON binding (SGP.22 6.5; 6.6 is the ASN.1 binding, not served): request fields, X-Admin-Protocol, function execution status and status codes.
import { McimError } from '../errors.js';
import type { FieldProblem, FieldSpec } from './es9plusFunctions.js';

/** The X-Admin-Protocol this server speaks: gsma/rsp/v2.x.y (SGP.22 6.5.1). */
export const ADMIN_PROTOCOL_PATTERN = /^gsma\/rsp\/v2\.\d+\.\d+$/;
export const ADMIN_PROTOCOL = 'gsma/rsp/v2.5.0';

export type ExecutionStatus = 'Executed-Success' | 'Executed-WithWarning' | 'Failed' | 'Expired';

export interface StatusCodeData {
  readonly subjectCode: string;
  readonly reasonCode: string;
  readonly subjectIdentifier?: string;
  readonly message?: string;
}

export interface ResponseHeader {
  readonly functionExecutionStatus: { readonly status: ExecutionStatus; readonly statusCodeData?: StatusCodeData };
}

/** A function that ends with status Failed and the spec's subject and reason codes (SGP.22 5.6, 6.5.2.x). */
export class FunctionFailure extends McimError {
  declare readonly code: 'FUNCTION_FAILED';
  readonly subjectCode: string;
  readonly reasonCode: string;
  constructor(subjectCode: string, reasonCode: string, message: string, options?: { cause?: unknown }) {
    super('FUNCTION_FAILED', message, options);
    this.subjectCode = subjectCode;
    this.reasonCode = reasonCode;
  }

  get statusCodeData(): StatusCodeData {
    return { subjectCode: this.subjectCode, reasonCode: this.reasonCode, message: this.message };
  }
}

export function successHeader(): ResponseHeader {
  return { functionExecutionStatus: { status: 'Executed-Success' } };
}

export function failureHeader(data: StatusCodeData): ResponseHeader {
  return { functionExecutionStatus: { status: 'Failed', statusCodeData: data } };
}

/** Reason codes of malformed input (SGP.22 5.2.6): the field's subject code with 2.1 or 2.2. */
const INVALID_FORMAT = '2.1';
const MANDATORY_ELEMENT_MISSING = '2.2';

/** A request field refused by the declared codec (src/http/es9plusFunctions.ts): its subject code with 2.2 or 2.1. */
export function requestFieldError(_name: string, spec: FieldSpec, problem: FieldProblem, message: string): FunctionFailure {
  return new FunctionFailure(spec.subjectCode, problem === 'missing' ? MANDATORY_ELEMENT_MISSING : INVALID_FORMAT, message);
}

/** Wraps a decoder: any error it throws becomes a Failed status with the field's subject code and 2.1 (invalid format). */
export function parseField<T>(name: string, subjectCode: string, parse: () => T): T {
  try {
    return parse();
  } catch (cause) {
    if (cause instanceof FunctionFailure) throw cause;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new FunctionFailure(subjectCode, INVALID_FORMAT, `'${name}' is malformed: ${detail}`, { cause });
  }
}
