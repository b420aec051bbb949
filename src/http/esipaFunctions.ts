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
} as const satisfies Record<string, Es9Function>;

export type EsipaFunctionName = keyof typeof ESIPA_FUNCTIONS;
