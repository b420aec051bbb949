// ESipa functions of the JSON binding (SGP.32 v1.2 6.4: POST /gsma/rsp2/esipa/<function>): each function's fields declared once, for the eIM and the IPA. ASN.1 values travel as base64 of their DER, the EID as hex; field names are the ASN.1 components'.
import type { Es9Function, FieldSpec } from './es9plusFunctions.js';

/** Subject codes of ESipa fields (SGP.22 5.2.6 numbering, as the ES9+ binding uses it): the EID, the eIM package data. */
export const ESIPA_SUBJECT = { eid: '8.1.1', eimPackage: '8.12' } as const;

/** What one eIM package result may carry: a listProfileInfo of 256 profiles with their icons, or notifications with certificates. */
export const EIM_PACKAGE_RESULT_BUDGET = 256 * 1024;
/** An eIM package: a signed eUICC Package of 32 operations (addEim with a certificate is the largest), or a trigger. */
export const EIM_PACKAGE_BUDGET = 16 * 1024;

const EID: FieldSpec = { kind: 'hex', maxBytes: 16, subjectCode: ESIPA_SUBJECT.eid };
const PACKAGE = { kind: 'base64', maxBytes: EIM_PACKAGE_BUDGET, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true } as const satisfies FieldSpec;
const ESIPA_CODE = { kind: 'integer', maxBytes: 3, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true } as const satisfies FieldSpec;

/** The SM-DP+'s TransactionId (SGP.22 2.11.1.1.4: 1 to 16 bytes), hex. */
const RELAY_TRANSACTION_ID = { kind: 'hex', maxBytes: 16, subjectCode: '8.10.1', optional: true } as const satisfies FieldSpec;

/** A field the SM-DP+ produced, relayed by the eIM as received (optional: the answer may be an error code instead). */
function smdp(maxBytes: number) {
  return { kind: 'base64', maxBytes, subjectCode: '8.8', optional: true } as const satisfies FieldSpec;
}

export const ESIPA_FUNCTIONS = {
  /** GetEimPackage: the IPA polls for its next eIM package. */
  getEimPackage: {
    request: {
      eidValue: EID,
      notifyStateChange: { kind: 'boolean', maxBytes: 5, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true },
      stateChangeCause: ESIPA_CODE,
      rPLMN: { kind: 'hex', maxBytes: 3, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true },
    },
    response: {
      euiccPackageRequest: PACKAGE,
      ipaEuiccDataRequest: PACKAGE,
      profileDownloadTriggerRequest: PACKAGE,
      eimPackageError: ESIPA_CODE,
    },
  },
  /** ProvideEimPackageResult: the result of an eIM package (the EimPackageResult CHOICE's element, base64). */
  provideEimPackageResult: {
    request: {
      eidValue: { ...EID, optional: true },
      eimPackageResult: { kind: 'base64', maxBytes: EIM_PACKAGE_RESULT_BUDGET, subjectCode: ESIPA_SUBJECT.eimPackage },
    },
    response: {
      /** EimAcknowledgements (BF53) DER, base64; absent: the empty response. */
      eimAcknowledgements: { kind: 'base64', maxBytes: 8 * 1024, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true },
      provideEimPackageResultError: ESIPA_CODE,
    },
  },
  /** HandleNotification: a pending notification, or a ProvideEimPackageResult (BF50) delivered as a notification; HTTP 204. */
  handleNotification: {
    request: {
      pendingNotification: { kind: 'base64', maxBytes: 32 * 1024, subjectCode: '8.1', optional: true },
      provideEimPackageResult: { kind: 'base64', maxBytes: EIM_PACKAGE_RESULT_BUDGET, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true },
    },
    response: {},
    noContent: true,
  },
  /** InitiateAuthentication (indirect download, relayed by the eIM to ES9+): the ES9+ fields, or initiateAuthenticationErrorEsipa. */
  initiateAuthentication: {
    request: {
      euiccChallenge: { kind: 'base64', maxBytes: 16, subjectCode: '8.1' },
      smdpAddress: { kind: 'string', maxBytes: 255, subjectCode: '8.8.1', optional: true },
      euiccInfo1: { kind: 'base64', maxBytes: 4 * 1024, subjectCode: '8.1', optional: true },
      eimTransactionId: { kind: 'hex', maxBytes: 16, subjectCode: ESIPA_SUBJECT.eimPackage, optional: true },
    },
    response: {
      transactionId: RELAY_TRANSACTION_ID,
      serverSigned1: smdp(4 * 1024),
      serverSignature1: smdp(128),
      euiccCiPKIdToBeUsed: smdp(64),
      serverCertificate: smdp(8 * 1024),
      initiateAuthenticationErrorEsipa: ESIPA_CODE,
    },
  },
  /** AuthenticateClient: the eUICC's AuthenticateServerResponse (BF38); the SM-DP+'s fields, or authenticateClientErrorEsipa. */
  authenticateClient: {
    request: { transactionId: { ...RELAY_TRANSACTION_ID, optional: false }, authenticateServerResponse: { kind: 'base64', maxBytes: 32 * 1024, subjectCode: '8.1' } },
    response: {
      transactionId: RELAY_TRANSACTION_ID,
      profileMetadata: smdp(16 * 1024),
      smdpSigned2: smdp(4 * 1024),
      smdpSignature2: smdp(128),
      smdpCertificate: smdp(8 * 1024),
      authenticateClientErrorEsipa: ESIPA_CODE,
    },
  },
  /** GetBoundProfilePackage: the eUICC's PrepareDownloadResponse (BF21); the BPP (BF36), or getBoundProfilePackageErrorEsipa. */
  getBoundProfilePackage: {
    request: { transactionId: { ...RELAY_TRANSACTION_ID, optional: false }, prepareDownloadResponse: { kind: 'base64', maxBytes: 4 * 1024, subjectCode: '8.1' } },
    response: { transactionId: RELAY_TRANSACTION_ID, boundProfilePackage: smdp(2 * 1024 * 1024), getBoundProfilePackageErrorEsipa: ESIPA_CODE },
  },
  /** CancelSession: the eUICC's CancelSessionResponse (BF41); nothing, or cancelSessionError. */
  cancelSession: {
    request: { transactionId: { ...RELAY_TRANSACTION_ID, optional: false }, cancelSessionResponse: { kind: 'base64', maxBytes: 4 * 1024, subjectCode: '8.1' } },
    response: { cancelSessionError: ESIPA_CODE },
  },
} as const satisfies Record<string, Es9Function>;

export type EsipaFunctionName = keyof typeof ESIPA_FUNCTIONS;
