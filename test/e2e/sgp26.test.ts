// Interop with the GSMA SGP.26 test PKI (SGP.22 3.1.3): an SM-DP+ with the SGP.26 DPauth/DPpb keys and an eUICC with the SGP.26 identity, over HTTPS.
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deviceInit } from '../../src/cli/commands/device.js';
import type { EcCurve } from '../../src/crypto/ecdsa.js';
import { McimError } from '../../src/errors.js';
import { Card } from '../../src/euicc/card.js';
import { Euicc, identityFromSgp26 } from '../../src/euicc/euicc.js';
import { Es10Client } from '../../src/ipa/es10Client.js';
import { listProfiles } from '../../src/ipa/localProfileManagement.js';
import { downloadProfile } from '../../src/ipa/profileDownload.js';
import { certificateToPem, parseCertificate } from '../../src/pki/certificate.js';
import { issueTestCertificate } from '../../src/pki/testPki.js';
import { tlsServerSettings } from '../../src/smdpp/credentialSet.js';
import { importProfile } from '../../src/smdpp/importProfile.js';
import { createSmdpServer, type SmdpServer } from '../../src/smdpp/server.js';
import { openDatabase } from '../../src/store/database.js';
import { SecretBox } from '../../src/store/secretBox.js';
import { SmdpStore } from '../../src/store/smdpStore.js';
import { fixturePath, readFixture } from '../helpers/fixtures.js';
import { sgp26Ci, type Sgp26Curve } from '../pki/sgp26.js';

const HOST = 'testsmdpplus1.example.com';
const PROFILE = 'TS48V2-SAIP2-1-BERTLV-UNIQUE';

function keyed(certificateFile: string, keyFile: string) {
  return { certificate: parseCertificate(readFixture('sgp26', certificateFile)), privateKey: createPrivateKey(readFixture('sgp26', keyFile)) };
}

const CURVE: Record<Sgp26Curve, EcCurve> = { NIST: 'P-256', BRP: 'brainpoolP256r1' };

/**
 * The SM-DP+ holds SGP.26 DPauth/DPpb under `credential`'s CI and also trusts `knownCi` (when given); the eUICC has the
 * SGP.26 identity on `euicc`'s curve; CERT.DP.TLS is issued on `tls`'s curve (brainpool: TLS 1.2, docs/brainpool-tls.md).
 */
const CASES: readonly { name: string; credential: Sgp26Curve; euicc: Sgp26Curve; tls: Sgp26Curve; knownCi?: Sgp26Curve }[] = [
  { name: 'P-256', credential: 'NIST', euicc: 'NIST', tls: 'NIST' },
  { name: 'brainpoolP256r1, over a brainpool TLS certificate', credential: 'BRP', euicc: 'BRP', tls: 'BRP' },
  // SGP.22 5.6.2/5.7.5: the one-time ECKA keys are on CERT.DPpb's curve, not on the eUICC certificate's.
  { name: 'brainpoolP256r1 DPauth/DPpb with a P-256 eUICC chain', credential: 'BRP', euicc: 'NIST', tls: 'NIST', knownCi: 'NIST' },
];

for (const { name, credential: suffix, euicc: euiccSuffix, tls: tlsSuffix, knownCi } of CASES) {
  const curve = CURVE[suffix];
  describe(`SGP.26 test PKI: ${name}`, () => {
    let tmp: string;
    let store: SmdpStore;
    let server: SmdpServer;
    let port = 0;
    let ciPem: string;

    before(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'mcim-sgp26-'));
      const ci = sgp26Ci(suffix);
      // SGP.26 ships its CI keys so that fresh TLS certificates can be issued (its own DPtls expire in 2027).
      const tlsCi = sgp26Ci(tlsSuffix);
      ciPem = certificateToPem(tlsCi.der);
      const tls = issueTestCertificate('dp-tls', tlsCi, { smdpAddress: HOST, curve: CURVE[tlsSuffix] });
      store = new SmdpStore(await openDatabase({ engine: 'sqlite', file: join(tmp, 'smdp.sqlite') }), new SecretBox(Buffer.alloc(32, 7)));
      server = createSmdpServer({
        address: HOST,
        oid: '2.999.10',
        credentials: [
          {
            curve,
            ci: ci.certificate,
            dpAuth: keyed(`DPauth/CERT_S_SM_DPauth_ECDSA_${suffix}.der`, `DPauth/SK_S_SM_DPauth_ECDSA_${suffix}.pem`),
            dpPb: keyed(`DPpb/CERT_S_SM_DPpb_ECDSA_${suffix}.der`, `DPpb/SK_S_SM_DPpb_ECDSA_${suffix}.pem`),
          },
        ],
        ...(knownCi === undefined ? {} : { trustedCis: [sgp26Ci(knownCi).certificate] }),
        store,
        tls: {
          key: Buffer.from(tls.privateKey.export({ type: 'pkcs8', format: 'pem' })),
          cert: Buffer.from(certificateToPem(tls.der)),
          ...tlsServerSettings(CURVE[tlsSuffix]),
        },
        onInternalError: (e) => {
          throw e;
        },
      });
      await server.app.listen({ host: '127.0.0.1', port: 0 });
      port = (server.app.server.address() as AddressInfo).port;
      await importProfile(store, readFixture('ts48', `${PROFILE}.der`), { matchingId: PROFILE, allowShortMatchingId: true }, Date.now());
    });

    after(async () => {
      await server.app.close();
      await store.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('the SGP.26 eUICC downloads and installs a TS.48 profile from the SGP.26 SM-DP+', async () => {
      const euicc = Euicc.create(join(tmp, 'euicc.state'), Buffer.alloc(32, 1), identityFromSgp26(fixturePath('sgp26'), euiccSuffix));
      assert.equal(euicc.eid, '89049032123451234512345678901235');
      const card = new Card();
      euicc.attach(card);
      const es10 = await Es10Client.open(card);
      const result = await downloadProfile(es10, {
        activationCode: `LPA:1$${HOST}$${PROFILE}`,
        http: { ca: [ciPem], connect: { host: '127.0.0.1', port } },
      });
      const listed = await listProfiles(es10);
      assert.deepEqual(listed.map((p) => p.iccid), [result.iccid]);
      assert.equal((await store.orders.get(PROFILE))?.state, 'installed');
    });
  });
}


describe('mcim device init --sgp26', () => {
  it('personalises the eUICC with the SGP.26 identity, and refuses --pki or --eid beside it', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mcim-sgp26-cli-'));
    try {
      const report = deviceInit({ state: join(tmp, 'a.state'), sgp26: fixturePath('sgp26'), curve: 'brainpool' });
      assert.equal(report.eid, '89049032123451234512345678901235');
      assert.equal(report.curve, 'brainpoolP256r1');
      assert.throws(() => deviceInit({ state: join(tmp, 'b.state'), sgp26: fixturePath('sgp26'), eid: report.eid }), McimError);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
