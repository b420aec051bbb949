// ES9+ functions of the JSON binding (SGP.22 6.6.1-6.6.5, 5.6.1-5.6.5): each function's fields declared once, for the SM-DP+ and the LPA.

/**
 * How a field travels in JSON (SGP.22 6.5.1): ASN.1 data as base64, transactionId as hex, addresses as strings; ES2+
 * also has booleans (releaseFlag) and objects (notificationPointStatus).
 */
export type FieldKind = 'base64' | 'hex' | 'string' | 'boolean' | 'integer' | 'object';

export interface FieldSpec {
  readonly kind: FieldKind;
  /** Largest value accepted, in bytes after base64/hex decoding, in characters for strings (mcim's input budget). */
  readonly maxBytes: number;
  /** The subject code a malformed or missing value is reported under (SGP.22 5.2.6: with reason 2.1 or 2.2). */
  readonly subjectCode: string;
  readonly optional?: boolean;
}

export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

export interface Es9Function {
  readonly request: FieldSpecs;
  readonly response: FieldSpecs;
  /** handleNotification answers HTTP 204 without a body (SGP.22 6.6.1.4). */
  readonly noContent?: true;
}

/** Subject codes of fields (SGP.22 5.2.6): the transaction, the SM-DP+ address, what the eUICC produced. */
export const FIELD_SUBJECT = { transactionId: '8.10.1', smdpAddress: '8.8.1', euicc: '8.1', smdp: '8.8' } as const;

/** TransactionID ::= OCTET STRING (SIZE(1..16)) (SGP.22 2.11.1.1.4). */
const TRANSACTION_ID: FieldSpec = { kind: 'hex', maxBytes: 16, subjectCode: FIELD_SUBJECT.transactionId };

/** What the eUICC signs: a few certificates and signatures at most; an ES9+ request is a few KB. */
const EUICC_DATA_BUDGET = 32 * 1024;
/** A certificate of the SM-DP+ (SGP.22 4.5.2.1: a few hundred bytes). */
const CERTIFICATE_BUDGET = 8 * 1024;
/** A bound profile package: the profile (SGP.22 2.5.4: up to some hundreds of KB) plus its protection. */
const BPP_BUDGET = 2 * 1024 * 1024;

function euicc(maxBytes: number): FieldSpec {
  return { kind: 'base64', maxBytes, subjectCode: FIELD_SUBJECT.euicc };
}

function smdp(maxBytes: number): FieldSpec {
  return { kind: 'base64', maxBytes, subjectCode: FIELD_SUBJECT.smdp };
}

export const ES9PLUS_FUNCTIONS = {
  /** SGP.22 5.6.1 / 6.6.1.1. */
  initiateAuthentication: {
    request: {
      euiccChallenge: euicc(16),
      euiccInfo1: euicc(4 * 1024),
      smdpAddress: { kind: 'string', maxBytes: 255, subjectCode: FIELD_SUBJECT.smdpAddress },
    },
    response: {
      transactionId: TRANSACTION_ID,
      serverSigned1: smdp(4 * 1024),
      serverSignature1: smdp(128),
      euiccCiPKIdToBeUsed: smdp(64),
      serverCertificate: smdp(CERTIFICATE_BUDGET),
    },
  },
  /** SGP.22 5.6.3 / 6.6.1.3. */
  authenticateClient: {
    request: { transactionId: TRANSACTION_ID, authenticateServerResponse: euicc(EUICC_DATA_BUDGET) },
    response: {
      transactionId: TRANSACTION_ID,
      profileMetadata: smdp(16 * 1024),
      smdpSigned2: smdp(4 * 1024),
      smdpSignature2: smdp(128),
      smdpCertificate: smdp(CERTIFICATE_BUDGET),
    },
  },
  /** SGP.22 5.6.2 / 6.6.1.2. */
  getBoundProfilePackage: {
    request: { transactionId: TRANSACTION_ID, prepareDownloadResponse: euicc(4 * 1024) },
    response: { transactionId: TRANSACTION_ID, boundProfilePackage: smdp(BPP_BUDGET) },
  },
  /** SGP.22 5.6.4 / 6.6.1.4. */
  handleNotification: {
    request: { pendingNotification: euicc(EUICC_DATA_BUDGET) },
    response: {},
    noContent: true,
  },
  /** SGP.22 5.6.5 / 6.6.1.5. */
  cancelSession: {
    request: { transactionId: TRANSACTION_ID, cancelSessionResponse: euicc(4 * 1024) },
    response: {},
  },
} as const satisfies Record<string, Es9Function>;

export type Es9FunctionName = keyof typeof ES9PLUS_FUNCTIONS;

/** Room for what surrounds the declared fields in a request body: braces, separators, whitespace (docs/operations.md). */
const JSON_SLACK = 1024;

/** The longest JSON text of one field's value: base64 (4 characters per 3 bytes), hex, or a string of \uXXXX escapes. */
function encodedLength(spec: FieldSpec): number {
  switch (spec.kind) {
    case 'base64':
      return Math.ceil(spec.maxBytes / 3) * 4;
    case 'hex':
      return 2 * spec.maxBytes;
    case 'string':
      return 6 * spec.maxBytes;
    case 'boolean':
      return 5;
    case 'integer':
      return spec.maxBytes;
    case 'object':
      return spec.maxBytes;
  }
}

/**
 * The largest request body a function accepts, derived from its declaration: every field at its budget, encoded for
 * JSON, with its name, quotes and separators, plus JSON_SLACK. A larger body is refused before it is parsed.
 */
export function requestBodyLimit(fn: Es9Function): number {
  let total = JSON_SLACK;
  for (const [name, spec] of Object.entries(fn.request)) total += name.length + 6 + encodedLength(spec);
  return total;
}

type FieldValue<S extends FieldSpec> = S['kind'] extends 'string'
  ? string
  : S['kind'] extends 'boolean'
    ? boolean
    : S['kind'] extends 'integer'
      ? number
    : S['kind'] extends 'object'
      ? Readonly<Record<string, unknown>>
      : Buffer;

/** The decoded fields of a spec: optional ones may be undefined. */
export type FieldValues<S extends FieldSpecs> = {
  readonly [K in keyof S as S[K]['optional'] extends true ? never : K]: FieldValue<S[K]>;
} & {
  readonly [K in keyof S as S[K]['optional'] extends true ? K : never]?: FieldValue<S[K]>;
};

export type Es9Request<N extends Es9FunctionName> = FieldValues<(typeof ES9PLUS_FUNCTIONS)[N]['request']>;
export type Es9Response<N extends Es9FunctionName> = FieldValues<(typeof ES9PLUS_FUNCTIONS)[N]['response']>;

/** Why a field was refused: absent (reason 2.2 on the server) or malformed (2.1). */
export type FieldProblem = 'missing' | 'malformed';

/** Builds the error a side reports for a refused field (the SM-DP+: a Failed status; the LPA: an invalid response). */
export type FieldErrorFactory = (name: string, spec: FieldSpec, problem: FieldProblem, message: string) => Error;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Whether base64 text of the alphabet (checked by BASE64) is the canonical encoding of what it decodes to: not a lone
 * character in its last quantum, and the bits of its last character beyond the decoded bytes zero (RFC 4648 3.5). Looks
 * at the last quantum only: no re-encoding of the whole value.
 */
function canonicalBase64(value: string): boolean {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x3d) end--;
  const tail = end % 4;
  if (tail === 1) return false;
  if (tail === 0) return true;
  const last = BASE64_ALPHABET.indexOf(value[end - 1]!);
  // 2 characters carry 1 byte (4 spare bits), 3 characters carry 2 bytes (2 spare bits).
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}
const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

type DecodedField = string | Buffer | boolean | number | Readonly<Record<string, unknown>>;

function decodeOne(name: string, spec: FieldSpec, value: unknown, error: FieldErrorFactory): DecodedField {
  if (spec.kind === 'boolean') {
    if (typeof value !== 'boolean') throw error(name, spec, 'malformed', `'${name}' is not a boolean`);
    return value;
  }
  if (spec.kind === 'integer') {
    // A JSON number, or its decimal string (some senders quote it): a whole number of at most maxBytes digits.
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string' || !/^\d+$/.test(text) || text.length > spec.maxBytes) throw error(name, spec, 'malformed', `'${name}' is not a whole number`);
    return Number(text);
  }
  if (spec.kind === 'object') {
    // The body limit bounds the object; its length once serialized is checked against the field's own budget.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw error(name, spec, 'malformed', `'${name}' is not an object`);
    if (JSON.stringify(value).length > spec.maxBytes) throw error(name, spec, 'malformed', `'${name}' exceeds ${spec.maxBytes} characters`);
    return value as Readonly<Record<string, unknown>>;
  }
  if (typeof value !== 'string') throw error(name, spec, 'malformed', `'${name}' is not a string`);
  switch (spec.kind) {
    case 'string':
      if (value.length > spec.maxBytes) throw error(name, spec, 'malformed', `'${name}' is longer than ${spec.maxBytes} characters`);
      return value;
    case 'hex':
      if (!HEX.test(value) || value.length / 2 > spec.maxBytes) {
        throw error(name, spec, 'malformed', `'${name}' is not a hex string of 1 to ${spec.maxBytes} bytes`);
      }
      return Buffer.from(value, 'hex');
    case 'base64': {
      // The length is checked before decoding: a hostile value costs no allocation beyond the budget.
      if (Math.floor((value.length * 3) / 4) > spec.maxBytes + 2) throw error(name, spec, 'malformed', `'${name}' exceeds ${spec.maxBytes} bytes`);
      if (value.length === 0 || !BASE64.test(value) || (value.includes('=') && value.length % 4 !== 0)) {
        throw error(name, spec, 'malformed', `'${name}' is not base64`);
      }
      const bytes = Buffer.from(value, 'base64');
      if (bytes.length > spec.maxBytes) throw error(name, spec, 'malformed', `'${name}' exceeds ${spec.maxBytes} bytes`);
      if (!canonicalBase64(value)) {
        throw error(name, spec, 'malformed', `'${name}' is not canonical base64`);
      }
      return bytes;
    }
  }
}

/** Reads the fields of `specs` from a JSON object, strictly (canonical base64, bounded sizes); unknown fields are ignored. */
export function decodeFields<S extends FieldSpecs>(specs: S, body: Readonly<Record<string, unknown>>, error: FieldErrorFactory): FieldValues<S> {
  const out: Record<string, DecodedField> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const value = Object.hasOwn(body, name) ? body[name] : undefined;
    if (value === undefined || value === null) {
      if (spec.optional === true) continue;
      throw error(name, spec, 'missing', `'${name}' is missing`);
    }
    out[name] = decodeOne(name, spec, value, error);
  }
  return out as FieldValues<S>;
}

/** Writes the fields of `specs` for JSON: base64 with padding, transactionId as upper-case hex, strings as they are. */
export function encodeFields<S extends FieldSpecs>(specs: S, values: FieldValues<S>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const given = values as Readonly<Record<string, DecodedField | undefined>>;
  for (const [name, spec] of Object.entries(specs)) {
    const value = given[name];
    if (value === undefined) continue;
    if (spec.kind === 'string' || spec.kind === 'boolean' || spec.kind === 'integer' || spec.kind === 'object') out[name] = value;
    else if (spec.kind === 'hex') out[name] = (value as Buffer).toString('hex').toUpperCase();
    else out[name] = (value as Buffer).toString('base64');
  }
  return out;
}
