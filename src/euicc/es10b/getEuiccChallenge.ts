// SGP.22 v2.5 5.7.7 ES10b.GetEUICCChallenge: a fresh eUICC challenge; a new challenge ends any session in progress.
import { decode, encode } from '../../asn1/schema.js';
import { GetEuiccChallengeRequest, GetEuiccChallengeResponse } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

const CHALLENGE_LENGTH = 16;

export function getEuiccChallenge(core: EuiccCore, command: Buffer): Buffer {
  decode(GetEuiccChallengeRequest, command);
  core.session = undefined;
  core.challenge = core.random(CHALLENGE_LENGTH);
  return encode(GetEuiccChallengeResponse, { euiccChallenge: core.challenge });
}
