// The GSMA RSP JSON binding (SGP.22 6.5; 6.6 is the ASN.1 binding, not served): request fields, X-Admin-Protocol, function execution status and status codes.
import { McimError } from '../errors.js';

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

/** A JSON object body's fields, read with the subject code each field's errors are reported under. */
export class RequestFields {
  readonly #body: Record<string, unknown>;

  constructor(body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FunctionFailure('1.1', INVALID_FORMAT, 'the request body is not a JSON object');
    }
    this.#body = body as Record<string, unknown>;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#body, name) && this.#body[name] !== undefined && this.#body[name] !== null;
  }

  string(name: string, subjectCode: string): string {
    if (!this.has(name)) throw new FunctionFailure(subjectCode, MANDATORY_ELEMENT_MISSING, `'${name}' is missing`);
    const v = this.#body[name];
    if (typeof v !== 'string') throw new FunctionFailure(subjectCode, INVALID_FORMAT, `'${name}' is not a string`);
    return v;
  }

  /** A base64 value (RFC 4648 4, padding optional), strictly: anything else is invalid format. */
  base64(name: string, subjectCode: string): Buffer {
    const text = this.string(name, subjectCode);
    if (text.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || (text.includes('=') && text.length % 4 !== 0)) {
      throw new FunctionFailure(subjectCode, INVALID_FORMAT, `'${name}' is not base64`);
    }
    const bytes = Buffer.from(text, 'base64');
    if (bytes.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
      throw new FunctionFailure(subjectCode, INVALID_FORMAT, `'${name}' is not canonical base64`);
    }
    return bytes;
  }

  /** A hex string of 1 to `maxBytes` bytes (transactionId: SGP.22 6.6.1.x). */
  hex(name: string, subjectCode: string, maxBytes: number): Buffer {
    const text = this.string(name, subjectCode);
    if (!/^(?:[0-9A-Fa-f]{2})+$/.test(text) || text.length / 2 > maxBytes) {
      throw new FunctionFailure(subjectCode, INVALID_FORMAT, `'${name}' is not a hex string of 1 to ${maxBytes} bytes`);
    }
    return Buffer.from(text, 'hex');
  }
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
