// The closed registry of mcim's error codes and McimError, the base class of every typed error mcim throws (docs/architecture.md, Errors).

/**
 * Every code an McimError may carry, with its one meaning. A code not listed here does not compile;
 * each error class narrows `code` to its own subset (Asn1Error, CryptoError, PkiError, ...).
 * Wire codes of the standards (ES9+ subjectCode/reasonCode, ES10 results, status words) are carried
 * in the errors' own fields, not here.
 */
export const ERROR_CODES = {
  // Any layer: arguments, files, data directories.
  INVALID_ARGUMENT: 'An argument, option or input the function does not accept: wrong length, range, format or combination.',
  NOT_FOUND: 'A file, directory or resource the operation needs does not exist.',
  FILE_EXISTS: 'The operation would overwrite an existing file.',
  IO_ERROR: 'The file system or standard input refused a read or a write.',
  UNSUPPORTED_FORMAT: 'A file written in a format version this mcim does not read.',
  TAMPERED: 'Sealed data (an eUICC state file, a value sealed at rest) does not authenticate: modified, truncated, sealed under another key, or of an unknown version.',

  // ASN.1 codec (src/asn1, Asn1Error).
  TRUNCATED: 'The input ends inside a tag, a length or a value.',
  INDEFINITE_LENGTH: 'An indefinite length (0x80), which DER forbids.',
  NON_MINIMAL_LENGTH: 'A length not encoded in the fewest bytes (DER).',
  LENGTH_TOO_LARGE: 'A length field of more than 4 bytes.',
  TAG_TOO_LONG: 'A tag of more than 3 bytes.',
  NON_MINIMAL_TAG: 'A tag number not encoded in the fewest bytes.',
  DEPTH_EXCEEDED: 'Elements nested deeper than the decoder allows.',
  TOO_MANY_ELEMENTS: 'More elements than the decoder allows in one input.',
  INPUT_TOO_LARGE: 'An input larger than the decoder allows.',
  TRAILING_DATA: 'Bytes after the outermost element.',
  EMPTY_INPUT: 'No bytes where an element was expected.',
  UNEXPECTED_TAG: 'An element whose tag the definition does not allow at that place.',
  EXPECTED_PRIMITIVE: 'A constructed element where the definition requires a primitive one.',
  EXPECTED_CONSTRUCTED: 'A primitive element where the definition requires a constructed one.',
  INVALID_VALUE: 'An element whose value breaks its type or constraint (SIZE, range, DER form).',
  SIZE_EXCEEDED: 'A SEQUENCE OF with more elements, or an OCTET STRING with more bytes, than its SIZE bound (of the ASN.1 module, or an input budget of mcim).',
  MISSING_COMPONENT: 'A mandatory component of a SEQUENCE is absent.',
  UNKNOWN_COMPONENT: 'A component the definition does not know, where extensibility does not allow it.',
  DUPLICATE_COMPONENT: 'A component present twice.',
  INVALID_CHOICE: 'A CHOICE whose element matches none of its alternatives.',
  ENCODE_ERROR: 'A value that cannot be encoded as its definition requires.',

  // Cryptography (src/crypto, CryptoError): 3GPP authentication and GSMA ECDSA/ECKA/BSP.
  INVALID_POINT: 'A public key point that is malformed, not on its curve, or gives the all-zero X25519 secret.',
  INVALID_KEY: 'A key that is not valid for its curve or use (wrong type, curve or value).',
  INVALID_SIGNATURE_ENCODING: 'A signature that is not a valid plain (r || s) or DER ECDSA-Sig-Value encoding.',
  MAC_FAILURE: 'A 3GPP MAC does not verify: MAC-S in AUTS, or the ECIES tag of a SUCI.',
  INVALID_SUCI: 'A SUCI string or its decrypted MSIN is malformed.',
  UNSUPPORTED_SCHEME: 'A SUCI protection scheme other than null, profile A or profile B.',
  BSP_UNSUPPORTED_CRT: 'A BSP control reference template asks for a key type or length SGP.22 does not define.',
  BSP_SEGMENT: 'A BSP segment is malformed: wrong tag, bad or non-minimal length, truncated, too long.',
  BSP_MAC_FAILURE: "A BSP segment's C-MAC does not verify (tampering, reordering, replay or wrong keys).",
  BSP_PADDING: 'A BSP segment decrypted under a valid MAC has wrong 80 00.. padding.',
  BSP_SESSION_ABORTED: 'The BSP session failed earlier and refuses further segments.',

  // Certificates (src/pki, PkiError).
  MALFORMED: 'A certificate that is not well-formed DER X.509 v3, or lacks a component SGP.22 requires.',
  UNSUPPORTED_ALGORITHM: 'A signature or key algorithm other than ECDSA-with-SHA256 over P-256 or brainpoolP256r1.',
  UNKNOWN_CRITICAL_EXTENSION: 'A critical extension the validator does not process (RFC 5280 4.2).',
  BAD_SIGNATURE: 'A signature in the certificate chain does not verify.',
  EXPIRED: "The validation time is after a certificate's notAfter.",
  NOT_YET_VALID: "The validation time is before a certificate's notBefore.",
  UNKNOWN_CI: 'The chain ends at a CI the verifier does not trust, or at no known CI.',
  WRONG_ROLE: "A certificate's policy (GSMA role) does not match its place in the chain or its use.",
  WRONG_KEY_USAGE: "Key usage or extended key usage does not allow the certificate's use.",
  NOT_A_CA: 'A certificate that signs another one is not a CA (basicConstraints).',
  CHAIN_TOO_LONG: 'More certificates than the use allows, or a path length constraint exceeded.',
  ISSUER_MISMATCH: 'Issuer name and authority key identifier do not designate the same issuing certificate.',
  EID_OUT_OF_RANGE: "The eUICC's EID is outside its EUM's permitted name constraints.",
  INVALID_EID: 'An EID that is not 32 digits with valid check digits, or an eUICC certificate without one.',
  REVOKED: "A certificate whose serial number its issuer's CRL lists as revoked (RFC 5280 6.3).",
  REVOCATION_UNKNOWN: "A certificate whose revocation status is unknown: its issuer's CRL is past nextUpdate and the policy is fail-closed.",
  CRL_MALFORMED: 'A CRL that is not a well-formed DER X.509 v2 CertificateList, or lacks a component RFC 5280 requires.',
  CRL_UNSUPPORTED: 'A CRL of a kind mcim does not process: delta, indirect, partial (SGP.22 segmented), scoped by reasons, or with an unknown critical extension.',
  CRL_TOO_LARGE: 'A CRL larger than the configured maximum of bytes or revoked entries.',
  CRL_ISSUER_MISMATCH: 'A CRL whose issuer name or authority key identifier is not that of the certificate expected to sign it, or whose issuer may not sign CRLs.',
  CRL_BAD_SIGNATURE: "A CRL's signature does not verify with its issuer's key.",
  CRL_NOT_YET_VALID: 'A CRL whose thisUpdate is after the validation time.',
  CRL_FETCH_FAILED: 'Fetching a CRL from its distribution point failed: connection, timeout, HTTP status, redirect or size cap.',

  // Store (src/store) and SM-DP+ orders (src/smdpp).
  INVALID_KEY_FILE: 'The at-rest key (its file or $MCIM_AT_REST_KEY) is not 32 bytes: raw, 64 hex digits or base64.',
  AT_REST_KEY_MISMATCH: 'The at-rest key given is not the key the data directory was created with: nothing is decrypted or written.',
  MIGRATION_FAILED: 'A database schema migration failed.',
  ORDER_EXISTS: 'A profile order with this matching ID already exists.',
  ORDER_NOT_FOUND: 'No profile order with this matching ID.',
  ORDER_NOT_RELEASABLE: 'No order with this matching ID is waiting for release.',
  INVALID_PROFILE_PACKAGE: 'A file that is not a valid SAIP profile package.',
  TENANT_EXISTS: 'An ES2+ operator with this name, or a client certificate already pinned to an operator.',
  TENANT_NOT_FOUND: 'No ES2+ operator with this name.',

  // Profile stock (src/smdpp personalization, src/store/profileStock.ts).
  TEMPLATE_NOT_PATCHABLE: 'A profile template a field of which cannot be personalized in place: missing, of variable length, or the template does not re-encode identically.',
  PROFILE_TYPE_EXISTS: 'A profile type with this name already exists.',
  STOCK_CONFLICT: 'Profiles to generate whose ICCIDs or IMSIs are already in stock: nothing is written.',
  KEK_MISMATCH: "The key-encryption key given does not unwrap the operator's data key: nothing is decrypted or written.",

  // AuC (src/auc, AucError) and its subscriber store (src/store/aucStore.ts).
  SUBSCRIBER_EXISTS: 'A subscriber with this IMSI already exists.',
  SUBSCRIBER_NOT_FOUND: 'No subscriber with this IMSI.',
  SUBSCRIBER_SUSPENDED: 'The subscriber is suspended: the AuC hands out no authentication vector for it.',
  AUTHENTICATION_NOT_FOUND: 'No pending 5G AKA authentication with this context ID: unknown, already confirmed, or expired.',
  RES_STAR_MISMATCH: 'The RES* of a 5G AKA confirmation is not the XRES* of its authentication.',
  UNAUTHORIZED: 'A request to the AuC API without its bearer token, or with another one.',

  // SM-DP+ credentials (src/smdpp CredentialError) and serving (mcim serve).
  UNREADABLE: 'A credential file is missing, unreadable, or not a certificate or EC private key (or its passphrase is wrong or missing).',
  KEY_MISMATCH: 'A private key is not the key of the certificate it comes with.',
  CURVE_MISMATCH: "A certificate's key is on another curve than its CI's.",
  INCOMPLETE: 'A credential set without its DPauth/DPpb pair under one CI, or with two of them.',
  ADDRESS_NOT_IN_TLS_CERTIFICATE: "The TLS certificate's subjectAltName does not carry the SM-DP+ address.",
  OID_MISMATCH: 'The certificates name different SM-DP+ OIDs, or none and no OID was given.',
  TLS_CURVE_UNSUPPORTED: 'This runtime cannot serve TLS with a certificate on this curve.',
  PORT_IN_USE: 'The port to listen on is already in use.',
  PORT_NOT_ALLOWED: 'Listening on the port is not permitted.',

  // HTTP (src/http): the GSMA JSON binding and the strict HTTP/1.1 response parser (HttpResponseError).
  FUNCTION_FAILED: 'An ES9+ or ES2+ function ends with status Failed; its subjectCode and reasonCode say why (FunctionFailure).',
  MALFORMED_RESPONSE: 'Not an HTTP/1.1 response, or one framed ambiguously (Transfer-Encoding with Content-Length, differing lengths).',
  RESPONSE_TOO_LARGE: 'An HTTP header section, body or framing beyond its limit.',
  TRUNCATED_RESPONSE: 'The connection ended before the HTTP response was complete.',
  UNEXPECTED_DATA: 'Bytes arrived after a complete HTTP response.',

  // Software eUICC (src/euicc): card layer (CardError, one code per status word), eUICC data, sealed state.
  WRONG_LENGTH: 'Status word 6700: Lc/Le inconsistent with the command, extended length, data where none belongs.',
  LOGICAL_CHANNEL_NOT_SUPPORTED: 'Status word 6881: the logical channel named in the command is not open.',
  SECURITY_STATUS_NOT_SATISFIED: 'Status word 6982: security status not satisfied.',
  CONDITIONS_OF_USE_NOT_SATISFIED: 'Status word 6985: the command is not allowed in the current state (no pending data, no session).',
  COMMAND_NOT_ALLOWED: 'Status word 6986: no application selected on the channel.',
  INCORRECT_DATA: 'Status word 6A80: the command data is not one well-formed ES10 command.',
  FUNCTION_NOT_SUPPORTED: 'Status word 6A81: no free logical channel to open.',
  APPLICATION_NOT_FOUND: 'Status word 6A82: no application with the selected AID.',
  NOT_ENOUGH_MEMORY: 'Status word 6A84: a command larger than the card buffers.',
  INCORRECT_P1_P2: 'Status word 6A86: incorrect P1 or P2, including a STORE DATA block out of sequence.',
  REFERENCED_DATA_NOT_FOUND: "Status word 6A88: no ES10 function for the command's tag.",
  INS_NOT_SUPPORTED: 'Status word 6D00: instruction not supported in the class.',
  CLA_NOT_SUPPORTED: 'Status word 6E00: class byte not supported.',
  NO_PRECISE_DIAGNOSIS: 'Status word 6F00: an unexpected failure inside the card.',
  EUICC_STATE: "A fault in the eUICC's own data, never caused by a command (the card answers 6F00).",
  ROLLBACK: 'A sealed state file older than the generation last saved, or missing after a save.',
  INVALID_STATE: 'A state that cannot be sealed: a value that is not JSON data or bytes, or a key starting with $.',
  NOT_LOADED: 'A sealed state saved before it was loaded.',
  FILE_NOT_FOUND: 'Status word 6A82: no file with the selected file ID, path or AID, or the USIM of no enabled profile.',
  RECORD_NOT_FOUND: 'Status word 6A83: READ RECORD of a record number the EF does not have.',
  WRONG_P1_P2: 'Status word 6B00: a READ BINARY offset beyond the end of the EF.',
  COMMAND_INCOMPATIBLE_WITH_FILE: 'Status word 6981: READ BINARY of a record EF or READ RECORD of a transparent EF.',
  NO_EF_SELECTED: 'Status word 6986 of a file command: no current EF on the channel.',
  AUTHENTICATION_MAC_FAILURE: 'Status word 9862: AUTHENTICATE with an AUTN whose MAC does not verify (TS 31.102 7.1.2.1).',
  FILE_SYSTEM_LIMIT: "A profile's file system beyond a bound of the USIM (file count, file size, record count, total bytes, depth).",
  INVALID_FILE_SYSTEM: "A profile's file system that cannot be built: a bad file descriptor, a duplicated or reserved file ID, contents beyond a file.",

  // eIM (src/eim, EimError) and its registry (src/store/eimStore.ts).
  DEVICE_EXISTS: 'A device with this EID is already in the eIM registry.',
  DEVICE_NOT_FOUND: 'No device with this EID in the eIM registry.',
  INVALID_PACKAGE: 'An eIM package the eIM refuses to issue: PSMOs and eCOs mixed, empty, two enables or two disables, listProfileInfo after a profile change, a tag list with the EID tag, or beyond a size bound.',
  COUNTER_EXHAUSTED: "The device's eIM counter has reached the highest value an eUICC accepts (0x7FFFFF): no package can be issued.",
  RESULT_SIGNATURE_INVALID: "An eUICC signature on a package result or notification does not verify with the device's registered eUICC certificate.",
  UNKNOWN_TRANSACTION: 'A package result for an eimTransactionId the eIM never sent to this device.',
  RESULT_MISMATCH: "A package result whose eimId, counter or kind is not the package's.",
  RESULT_REPLAYED: 'A package result for a transaction already completed with another result.',
  NOTIFICATION_UNATTRIBUTABLE: 'A notification the eIM cannot attribute to a registered device (no EID or certificate in it).',
  RELAY_REFUSED: "A relayed ES9+ request the eIM refuses before calling the SM-DP+: an SM-DP+ address not allowed, an unknown or expired transaction, another device's transaction, a session already in use, too many open sessions.",
  RELAY_FAILED: 'The SM-DP+ refused a relayed ES9+ function (its status codes mapped to the ESipa error) or could not be reached in time.',

  // IPA (src/ipa, IpaError and the errors of the eUICC and SM-DP+ it relays).
  INVALID_EUICC_RESPONSE: 'The eUICC answered with data that does not parse or does not belong to the session.',
  INVALID_SERVER_RESPONSE: 'The SM-DP+ answered with data that does not parse or does not belong to the session.',
  TRANSPORT_ERROR: 'A transport failure: TLS, connection, HTTP status, stdio peer gone.',
  CONFIRMATION_CODE_REQUIRED: 'The SM-DP+ requires a confirmation code and none was given.',
  CARD_STATUS: 'The eUICC refused an APDU with a status word other than 9000/61xx (CardStatusError.sw).',
  ES10_RESULT: 'An ES10 function answered with an error result (Es10ResultError.result).',
  ES9PLUS_FAILED: 'An ES9+ function answered Failed (Es9PlusError.subjectCode/reasonCode).',
  ES9PLUS_EXPIRED: 'An ES9+ function answered Expired.',
  ESIPA_FAILED: 'An ESipa function answered with an error: a Failed status, an HTTP refusal, or an eimPackageError other than noEimPackageAvailable (EsipaError.esipaCode).',
} as const satisfies Record<string, string>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every typed error mcim throws: a code from the registry and a clear message. */
export class McimError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
