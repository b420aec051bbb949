// The SM-DP+ data directory (DESIGN.md "Secrets are encrypted at rest"): its private keys are encrypted PKCS#8 under the at-rest key.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { McimError } from '../../src/errors.js';
import { initSmdpDataDir } from '../../src/smdpp/dataDir.js';

describe('SM-DP+ data directory', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mcim-datadir-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes the CI, DPauth, DPpb and DPtls keys encrypted, and opens them again with the at-rest key', () => {
    const dir = join(tmp, 'data');
    const created = initSmdpDataDir(dir);
    assert.equal(created.created, true);
    for (const curve of ['p256', 'brainpool']) {
      for (const entity of ['ci', 'dp-auth', 'dp-pb', 'dp-tls']) {
        const pem = readFileSync(join(dir, 'pki', curve, `${entity}.key.pem`), 'utf8');
        assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/, `${curve}/${entity}`);
        assert.throws(() => createPrivateKey(pem), `${curve}/${entity} must not open without the passphrase`);
      }
    }
    const reopened = initSmdpDataDir(dir);
    assert.equal(reopened.created, false);
    assert.deepEqual(
      reopened.credentials.map((c) => c.dpAuth.privateKey.asymmetricKeyDetails?.namedCurve),
      created.credentials.map((c) => c.dpAuth.privateKey.asymmetricKeyDetails?.namedCurve),
    );
    assert.match(reopened.tls.key.toString('utf8'), /^-----BEGIN PRIVATE KEY-----/);
  });

  it('refuses to open the keys with another at-rest key', () => {
    const dir = join(tmp, 'other');
    initSmdpDataDir(dir);
    writeFileSync(join(dir, 'secret.key'), Buffer.alloc(32, 9));
    assert.throws(() => initSmdpDataDir(dir), (e: unknown) => e instanceof McimError && e.code === 'AT_REST_KEY_MISMATCH');
  });
});
