// EuiccPackageTemplate (src/eim/euiccPackageTemplate.ts, SGP.32 v1.2 2.11.1.1): the spliced EuiccPackageSigned and EuiccPackageRequest are byte for byte the codec's, for every counter length, short and long eimIds, PSMOs and eCOs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { EuiccPackageRequest, EuiccPackageSigned, type EuiccPackage } from '../../src/asn1/definitions/sgp32.js';
import { capture, encode } from '../../src/asn1/schema.js';
import { McimError } from '../../src/errors.js';
import { associationTokenTlv } from '../../src/eim/eimSignature.js';
import { EuiccPackageTemplate } from '../../src/eim/euiccPackageTemplate.js';

const PACKAGES: EuiccPackage[] = [
  { type: 'psmoList', value: [{ type: 'getRAT', value: {} }] },
  { type: 'psmoList', value: [{ type: 'enable', value: { iccid: Buffer.from('98001032547698103254', 'hex'), rollbackFlag: null } }, { type: 'listProfileInfo', value: {} }] },
  { type: 'ecoList', value: [{ type: 'listEim', value: {} }] },
];
const COUNTERS = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffff, 0x800000, 0x7fffffff];

describe('EuiccPackageTemplate', () => {
  it('splices the codec\'s own bytes: EuiccPackageSigned, the signed data with the association token, EuiccPackageRequest', () => {
    for (const eimId of ['e', 'eim.example.com', 'x'.repeat(128)]) {
      for (const pkg of PACKAGES) {
        const t = new EuiccPackageTemplate(eimId, pkg);
        for (const counter of COUNTERS) {
          const eidValue = randomBytes(16);
          const tx = randomBytes(16);
          const token = counter % 300;
          const { data, signedLength } = t.toBeSigned(eidValue, counter, tx, token);
          const signed = capture(EuiccPackageSigned, { eimId, eidValue, counterValue: counter, eimTransactionId: tx, euiccPackage: pkg });
          assert.deepEqual(data.subarray(0, signedLength), signed.der, `eimId ${eimId.length} chars, counter ${counter}`);
          assert.deepEqual(data.subarray(signedLength), associationTokenTlv(token));
          const signature = randomBytes(64);
          assert.deepEqual(t.request(data.subarray(0, signedLength), signature), encode(EuiccPackageRequest, { euiccPackageSigned: signed, eimSignature: signature }));
        }
      }
    }
  });

  it('refuses an eidValue or eimTransactionId of another size, a negative counter, a signature of another length', () => {
    const t = new EuiccPackageTemplate('eim', PACKAGES[0]!);
    const bad = (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT';
    assert.throws(() => t.toBeSigned(randomBytes(15), 1, randomBytes(16), 1), bad);
    assert.throws(() => t.toBeSigned(randomBytes(16), 1, randomBytes(8), 1), bad);
    assert.throws(() => t.toBeSigned(randomBytes(16), -1, randomBytes(16), 1), bad);
    assert.throws(() => t.request(Buffer.alloc(10), Buffer.alloc(63)), bad);
  });
});
