// SGP.22 v2.5 5.7.22 ES10b.GetRAT: the Rules Authorisation Table (2.9.2.1).
import { decode } from '../../asn1/schema.js';
import { GetRatRequest } from '../../asn1/definitions/rsp.js';
import type { EuiccCore } from '../core.js';

export function getRat(core: EuiccCore, command: Buffer): Buffer {
  decode(GetRatRequest, command);
  return Buffer.from(core.state.settings.rat);
}
