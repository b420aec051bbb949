// The fleet operations the eIM runs (issue 10 "Fleet operations"), by kind: one file each in src/eim/fleet.
import { deleteProfile } from './deleteProfile.js';
import { disableProfile } from './disableProfile.js';
import { downloadProfile } from './downloadProfile.js';
import { enableProfile } from './enableProfile.js';
import { listProfiles } from './listProfiles.js';
import type { FleetOperationKind } from './operation.js';
import { rotateEimKey } from './rotateEimKey.js';
import { switchOperator } from './switchOperator.js';
import { EimError } from '../errors.js';

export const FLEET_OPERATIONS: Readonly<Record<string, FleetOperationKind<never>>> = Object.fromEntries(
  [listProfiles, enableProfile, disableProfile, deleteProfile, downloadProfile, switchOperator, rotateEimKey].map((k) => [k.kind, k as unknown as FleetOperationKind<never>]),
);

export const FLEET_OPERATION_KINDS: readonly string[] = Object.keys(FLEET_OPERATIONS);

export function operationKind(kind: string): FleetOperationKind<unknown> {
  const k = Object.hasOwn(FLEET_OPERATIONS, kind) ? FLEET_OPERATIONS[kind] : undefined;
  if (k === undefined) throw new EimError('INVALID_ARGUMENT', `no fleet operation '${kind.slice(0, 40)}' (known: ${FLEET_OPERATION_KINDS.join(', ')})`);
  return k as unknown as FleetOperationKind<unknown>;
}
