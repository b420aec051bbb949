// ES2+ functions of the JSON binding (SGP.22 5.3.1-5.3.5, 6.5): each function's fields declared once, for the SM-DP+, the operator's client and its callback endpoint.
import type { Es9Function, FieldSpec } from './es9plusFunctions.js';

/** Subject codes of ES2+ fields (SGP.22 5.2.6.1). */
export const ES2_SUBJECT = {
  eid: '8.1.1',
  iccid: '8.2.1',
  profileType: '8.2.5',
  matchingId: '8.2.6',
  confirmationCode: '8.2.7',
  smds: '8.9',
  function: '1.6',
  requester: '1.1',
} as const;

/** EID: 32 digits (SGP.02). Checked for its check digits by the function. */
const EID = { kind: 'string', maxBytes: 32, subjectCode: ES2_SUBJECT.eid, optional: true } as const satisfies FieldSpec;
/** ICCID: 19 or 20 digits (ITU-T E.118), optionally padded with F to 20. */
const ICCID = { kind: 'string', maxBytes: 20, subjectCode: ES2_SUBJECT.iccid } as const satisfies FieldSpec;
/** A profile type name (mcim's own bound: the stock's type names are at most 64 characters). */
const PROFILE_TYPE = { kind: 'string', maxBytes: 64, subjectCode: ES2_SUBJECT.profileType, optional: true } as const satisfies FieldSpec;
/** MatchingID of an activation code (SGP.22 4.1): at most 255 characters. */
const MATCHING_ID = { kind: 'string', maxBytes: 255, subjectCode: ES2_SUBJECT.matchingId, optional: true } as const satisfies FieldSpec;

export const ES2PLUS_FUNCTIONS = {
  /** SGP.22 5.3.1. */
  downloadOrder: {
    request: { eid: EID, iccid: { ...ICCID, optional: true }, profileType: PROFILE_TYPE },
    response: { iccid: ICCID },
  },
  /** SGP.22 5.3.2. */
  confirmOrder: {
    request: {
      iccid: ICCID,
      eid: EID,
      matchingId: MATCHING_ID,
      confirmationCode: { kind: 'string', maxBytes: 128, subjectCode: ES2_SUBJECT.confirmationCode, optional: true },
      smdsAddress: { kind: 'string', maxBytes: 255, subjectCode: ES2_SUBJECT.smds, optional: true },
      releaseFlag: { kind: 'boolean', maxBytes: 5, subjectCode: ES2_SUBJECT.function },
    },
    response: {
      eid: EID,
      matchingId: { ...MATCHING_ID, optional: false },
      smdpAddress: { kind: 'string', maxBytes: 255, subjectCode: ES2_SUBJECT.function, optional: true },
    },
  },
  /** SGP.22 5.3.3. */
  cancelOrder: {
    request: {
      iccid: ICCID,
      eid: EID,
      matchingId: MATCHING_ID,
      finalProfileStatusIndicator: { kind: 'string', maxBytes: 16, subjectCode: ES2_SUBJECT.function },
    },
    response: {},
  },
  /** SGP.22 5.3.4. */
  releaseProfile: {
    request: { iccid: ICCID },
    response: {},
  },
  /** SGP.22 5.3.5: called by the SM-DP+ on the operator's endpoint. */
  handleDownloadProgressInfo: {
    request: {
      eid: EID,
      iccid: ICCID,
      profileType: { ...PROFILE_TYPE, optional: false },
      timestamp: { kind: 'string', maxBytes: 32, subjectCode: ES2_SUBJECT.function },
      notificationPointId: { kind: 'integer', maxBytes: 10, subjectCode: ES2_SUBJECT.function },
      notificationPointStatus: { kind: 'object', maxBytes: 1024, subjectCode: ES2_SUBJECT.function },
      resultData: { kind: 'base64', maxBytes: 16 * 1024, subjectCode: ES2_SUBJECT.function, optional: true },
    },
    response: {},
  },
} as const satisfies Record<string, Es9Function>;

export type Es2FunctionName = keyof typeof ES2PLUS_FUNCTIONS;

/** The path of an ES2+ function (SGP.22 6.5.1). */
export const ES2PLUS_PATH = '/gsma/rsp2/es2plus';
