// Fleet operation "switch operator" (TR 33.812 change of subscription; SGP.32 v1.2 3.2.1, 3.4.1 enable with rollbackFlag, 3.4.3 delete): each device downloads the new operator's profile, enables it with rollback, and deletes the old operator's profile only once the device has confirmed the new one over it.
import { EimError } from '../errors.js';
import { deleteStep } from './deleteProfile.js';
import { downloadSteps, parseDownloadParams, type DownloadParams } from './downloadProfile.js';
import { type FleetOperationKind } from './operation.js';

export const switchOperator: FleetOperationKind<DownloadParams> = {
  kind: 'switchOperator',
  summary: "download the new operator's profile, enable it with rollback, confirm it over the new profile, then delete the profile that was enabled before",
  parse(params) {
    const p = parseDownloadParams(params, 'switchOperator');
    if (!p.enable) throw new EimError('INVALID_ARGUMENT', 'switchOperator always enables the new profile (no enable: false)');
    return p;
  },
  steps: [
    ...downloadSteps<DownloadParams>(),
    deleteStep<DownloadParams>('deleteOld', (_p, data) => {
      const previous = typeof data['previous'] === 'string' ? data['previous'] : undefined;
      return previous !== undefined && previous !== data['iccid'] ? previous : undefined;
    }),
  ],
};
