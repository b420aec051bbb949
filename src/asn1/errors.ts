// Typed ASN.1 decoding/encoding errors: what went wrong, at which byte offset, under which tag path.
import { McimError } from '../errors.js';

/** The codes Asn1Error carries (meanings: ERROR_CODES in src/errors.ts). */
export type Asn1ErrorCode =
  | 'TRUNCATED'
  | 'INDEFINITE_LENGTH'
  | 'NON_MINIMAL_LENGTH'
  | 'LENGTH_TOO_LARGE'
  | 'TAG_TOO_LONG'
  | 'NON_MINIMAL_TAG'
  | 'DEPTH_EXCEEDED'
  | 'TOO_MANY_ELEMENTS'
  | 'INPUT_TOO_LARGE'
  | 'TRAILING_DATA'
  | 'EMPTY_INPUT'
  | 'UNEXPECTED_TAG'
  | 'EXPECTED_PRIMITIVE'
  | 'EXPECTED_CONSTRUCTED'
  | 'INVALID_VALUE'
  | 'SIZE_EXCEEDED'
  | 'MISSING_COMPONENT'
  | 'UNKNOWN_COMPONENT'
  | 'DUPLICATE_COMPONENT'
  | 'INVALID_CHOICE'
  | 'ENCODE_ERROR';

export class Asn1Error extends McimError {
  declare readonly code: Asn1ErrorCode;
  /** Byte offset of the offending element in the outermost input (-1 when not known). */
  readonly offset: number;
  /** Path of tags/field names from the outermost element down to the offending one. */
  readonly path: string;
  /** The message without the location. */
  readonly detail: string;
  constructor(code: Asn1ErrorCode, detail: string, offset = -1, path = '') {
    const where = [offset >= 0 ? `offset ${offset}` : '', path ? `at ${path}` : ''].filter(Boolean).join(' ');
    super(code, `ASN.1 ${code}: ${detail}${where ? ` (${where})` : ''}`);
    this.offset = offset;
    this.path = path;
    this.detail = detail;
  }
}
