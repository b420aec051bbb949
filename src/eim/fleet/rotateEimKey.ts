// Fleet operation "rotate the eIM key" (SGP.32 v1.2 3.5 eCO updateEim, 2.11.1.1 eimSignature): each device's eUICC is given the eIM's new public key by an updateEim signed with the key it holds; once it says ok, the eIM signs that device's packages with the new key, and a listEim signed with it proves the eUICC accepts it.
import { EimError } from '../errors.js';
import { onlyKeys, packageVerdict, paramsObject, type FleetOperationKind } from './operation.js';

export interface RotateParams {
  /** The key generation the devices move to (created by the eIM when the operation is started without one). */
  readonly generation: number;
}

export const rotateEimKey: FleetOperationKind<RotateParams> = {
  kind: 'rotateEimKey',
  summary: "give each device's eUICC the eIM's new public key (updateEim), then sign its packages with the new key (listEim proves it)",
  parse(params) {
    const p = paramsObject(params, 'rotateEimKey');
    onlyKeys(p, 'rotateEimKey', ['generation']);
    const g = p['generation'];
    if (typeof g !== 'number' || !Number.isInteger(g) || g < 2) throw new EimError('INVALID_ARGUMENT', "rotateEimKey needs 'generation': the new key's, 2 or more");
    return { generation: g };
  },
  steps: [
    {
      name: 'updateEim',
      async plan(s) {
        if (s.device.keyGeneration >= s.params.generation) return 'skip';
        if (s.ctx.keys.get(s.params.generation) === undefined) await s.ctx.keys.refresh();
        if (s.ctx.keys.get(s.params.generation) === undefined) return { fail: `the eIM has no key of generation ${s.params.generation}` };
        const { spki } = s.ctx.keys.publicKey(s.params.generation);
        return { type: 'ecos', ecos: [{ type: 'updateEim', value: { eimId: s.ctx.eimId, eimPublicKeyData: { type: 'eimPublicKey', value: spki } } }] };
      },
      async check(s, pkg) {
        const v = packageVerdict(pkg);
        // The eUICC holds the new key from now on: every later package of this device is signed with it.
        if ('next' in v) await s.ctx.store.setKeyGeneration(s.device.eid, s.params.generation);
        return 'next' in v ? { next: { keyGeneration: s.params.generation } } : v;
      },
    },
    {
      name: 'listEim',
      plan: () => ({ type: 'ecos', ecos: [{ type: 'listEim', value: {} }] }),
      check: (_s, pkg) => packageVerdict(pkg, { verified: true }),
    },
  ],
};
