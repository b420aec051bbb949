// `mcim selfcheck` (what `npm start` runs today): recomputes official vectors and exercises the PKI end to end.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { Milenage, computeOpc } from '../../crypto/milenage.js';
import { Tuak, computeTopc, type TuakParams } from '../../crypto/tuak.js';
import { generateAuthenticationVector, verifyAuts, type AkaAlgorithm } from '../../crypto/authenticationVector.js';
import { SqnFreshnessState, sqnFromNumber } from '../../crypto/sqnFreshness.js';
import { usimAuthenticate } from '../../crypto/usimAuthenticate.js';
import { deriveCkIkPrime } from '../../crypto/keyDerivation5g.js';
import { deconcealSuci, concealSuci, hnPublicKeyOf } from '../../crypto/suci.js';
import { BspSession, deriveBspKeys } from '../../crypto/bsp.js';
import { generateKeyPair, signPlain, verifyPlain, plainToDer, derToPlain, verifyDer, type EcCurve } from '../../crypto/ecdsa.js';
import { issueTestPki } from '../../pki/testPki.js';
import { validateChain, type CertificateUse } from '../../pki/validateChain.js';
import { parseCertificate } from '../../pki/certificate.js';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

type VectorSet = Record<string, string | number | boolean | undefined>;

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new McimError('NOT_FOUND', 'mcim package root not found');
    dir = parent;
  }
  return dir;
}

function vectors(root: string, file: string): VectorSet[] {
  const json = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'vectors', file), 'utf8')) as { sets: VectorSet[] };
  return json.sets;
}

const h = (v: unknown): Buffer => Buffer.from(String(v), 'hex');
const eq = (a: Uint8Array, b: unknown): boolean => Buffer.from(a).equals(h(b));

function count(name: string, sets: VectorSet[], check: (s: VectorSet) => boolean): CheckResult {
  const failed = sets.filter((s) => !check(s)).map((s) => String(s['name']));
  return {
    name,
    ok: failed.length === 0 && sets.length > 0,
    detail: failed.length === 0 ? `${sets.length}/${sets.length} sets match` : `failed: ${failed.join(', ')}`,
  };
}

function milenageSet(s: VectorSet): boolean {
  const opc = computeOpc(h(s['k']), h(s['op']));
  const m = new Milenage(h(s['k']), opc);
  const rand = h(s['rand']);
  const r = m.f2345(rand);
  return (
    eq(opc, s['opc']) &&
    eq(m.f1(rand, h(s['sqn']), h(s['amf'])), s['f1']) &&
    eq(m.f1star(rand, h(s['sqn']), h(s['amf'])), s['f1star']) &&
    eq(r.res, s['f2']) &&
    eq(r.ck, s['f3']) &&
    eq(r.ik, s['f4']) &&
    eq(r.ak, s['f5']) &&
    eq(m.f5star(rand), s['f5star'])
  );
}

function tuakSet(s: VectorSet): boolean {
  const params: TuakParams = {
    macBits: (String(s['f1']).length * 4) as TuakParams['macBits'],
    resBits: (String(s['f2']).length * 4) as TuakParams['resBits'],
    ckBits: (String(s['f3']).length * 4) as TuakParams['ckBits'],
    ikBits: (String(s['f4']).length * 4) as TuakParams['ikBits'],
    keccakIterations: Number(s['keccak_iterations']),
  };
  const topc = computeTopc(h(s['k']), h(s['top']), params.keccakIterations);
  const t = new Tuak(h(s['k']), topc, params);
  const rand = h(s['rand']);
  const r = t.f2345(rand);
  return (
    eq(topc, s['topc']) &&
    eq(t.f1(rand, h(s['sqn']), h(s['amf'])), s['f1']) &&
    eq(t.f1star(rand, h(s['sqn']), h(s['amf'])), s['f1star']) &&
    eq(r.res, s['f2']) &&
    eq(r.ck, s['f3']) &&
    eq(r.ik, s['f4']) &&
    eq(r.ak, s['f5']) &&
    eq(t.f5star(rand), s['f5star'])
  );
}

/** Network and USIM run AKA against each other: success, replay -> AUTS, resynchronisation, MAC failure. */
function akaRoundTrip(name: string, alg: AkaAlgorithm): CheckResult {
  const usim = new SqnFreshnessState({ indBits: 5 });
  const amf = Buffer.from('8000', 'hex');
  const av = generateAuthenticationVector(alg, randomBytes(16), sqnFromNumber(32 * 7 + 3), amf);
  const first = usimAuthenticate(alg, usim, av.rand, av.autn);
  const replay = usimAuthenticate(alg, usim, av.rand, av.autn);
  const tampered = Buffer.from(av.autn);
  tampered[tampered.length - 1]! ^= 1;
  const forged = usimAuthenticate(alg, usim, av.rand, tampered);
  const ok =
    first.status === 'success' &&
    first.res.equals(av.xres) &&
    replay.status === 'sync_failure' &&
    verifyAuts(alg, av.rand, replay.auts).equals(replay.sqnMs) &&
    forged.status === 'mac_failure';
  return { name, ok, detail: ok ? 'accepted once; replay -> AUTS verified by the network; tampered MAC-A -> MAC failure' : 'round trip failed' };
}

function pkiCheck(curve: EcCurve): CheckResult {
  const pki = issueTestPki({ curve });
  const at = new Date(Date.now() + 60_000);
  const opts = (role: CertificateUse) => ({ role, trustedCis: [pki.ci.certificate], at });
  const euicc = validateChain(pki.euicc.der, [pki.eum.der], opts('euicc'));
  const uses: [CertificateUse, Buffer][] = [
    ['dp-auth', pki.dpAuth.der],
    ['dp-pb', pki.dpPb.der],
    ['dp-tls', pki.dpTls.der],
    ['eim', pki.eim.der],
  ];
  for (const [role, der] of uses) validateChain(der, [], opts(role));
  let wrongRole = false;
  try {
    validateChain(pki.dpPb.der, [], opts('dp-auth'));
  } catch (e) {
    wrongRole = e instanceof McimError && e.code === 'WRONG_ROLE';
  }
  const ok = euicc.eid === pki.eid && wrongRole;
  return {
    name: `test PKI on ${curve}`,
    ok,
    detail: `issued CI, EUM, eUICC (EID ${pki.eid}), DPauth, DPpb, DPtls, eIM; chains valid; DPpb refused as DPauth`,
  };
}

function sgp26Check(root: string, tag: 'NIST' | 'BRP'): CheckResult {
  const dir = join(root, 'test', 'fixtures', 'sgp26');
  const read = (p: string): Buffer => readFileSync(join(dir, p));
  const ci = parseCertificate(read(`CertificateIssuer/CERT_CI_ECDSA_${tag}.der`));
  const euicc = parseCertificate(read(`eUICC/CERT_EUICC_ECDSA_${tag}.der`));
  const eum = parseCertificate(read(`EUM/CERT_EUM_ECDSA_${tag}.der`));
  const dpAuth = parseCertificate(read(`DPauth/CERT_S_SM_DPauth_ECDSA_${tag}.der`));
  const dpPb = parseCertificate(read(`DPpb/CERT_S_SM_DPpb_ECDSA_${tag}.der`));
  const start = Math.max(...[ci, eum, euicc, dpAuth, dpPb].map((c) => c.notBefore.getTime()));
  const at = new Date(start + 1000);
  const result = validateChain(euicc, [eum], { role: 'euicc', trustedCis: [ci], at });
  validateChain(dpAuth, [], { role: 'dp-auth', trustedCis: [ci], at });
  validateChain(dpPb, [], { role: 'dp-pb', trustedCis: [ci], at });
  return { name: `SGP.26 chains (${tag})`, ok: true, detail: `CI -> EUM -> eUICC (EID ${result.eid}), DPauth, DPpb valid` };
}

function ecdsaCheck(curve: EcCurve): CheckResult {
  const { privateKey, publicKey } = generateKeyPair(curve);
  const data = randomBytes(100);
  const sig = signPlain(privateKey, data);
  const der = plainToDer(sig, curve);
  const flipped = Buffer.from(data);
  flipped[0]! ^= 1;
  const ok =
    sig.length === 64 &&
    verifyPlain(publicKey, data, sig) &&
    verifyDer(publicKey, data, der) &&
    derToPlain(der, curve).equals(sig) &&
    !verifyPlain(publicKey, flipped, sig);
  return { name: `ECDSA ${curve}`, ok, detail: 'plain r||s and DER signatures verify; altered data refused' };
}

function guarded(name: string, fn: () => CheckResult): CheckResult {
  try {
    return fn();
  } catch (e) {
    return { name, ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** Runs every check and returns their results. */
export function runSelfcheck(): CheckResult[] {
  const root = packageRoot();
  const milenage = [...vectors(root, 'milenage-35207.json'), ...vectors(root, 'milenage-35208.json')];
  return [
    guarded('Milenage (TS 35.207/35.208)', () => count('Milenage (TS 35.207/35.208)', milenage, milenageSet)),
    guarded('TUAK (TS 35.233)', () => count('TUAK (TS 35.233)', vectors(root, 'tuak-35233.json'), tuakSet)),
    guarded('CK\'/IK\' (RFC 5448)', () =>
      count('CK\'/IK\' (RFC 5448, TS 33.220 KDF)', vectors(root, 'kdf-33220.json').filter((s) => s['ck_prime']), (s) => {
        const r = deriveCkIkPrime(h(s['ck']), h(s['ik']), String(s['network_name']), h(String(s['autn']).slice(0, 12)));
        return eq(r.ckPrime, s['ck_prime']) && eq(r.ikPrime, s['ik_prime']);
      }),
    ),
    guarded('SUCI (TS 33.501 Annex C)', () =>
      count('SUCI de-concealment (TS 33.501 Annex C)', vectors(root, 'suci-33501.json').filter((s) => s['type'] === 'suci' && !s['expect_reject']), (s) =>
        deconcealSuci(String(s['suci']), s['hn_private_key'] ? h(s['hn_private_key']) : undefined).supi === s['expected_supi'],
      ),
    ),
    guarded('SUCI round trip', () => {
      const ok = (['A', 'B'] as const).every((profile) => {
        const hnPriv = randomBytes(32);
        const suci = concealSuci({ mcc: '001', mnc: '01', msin: '0123456789', routingIndicator: '0000', profile, hnKeyId: 1, hnPublicKey: hnPublicKeyOf(profile, hnPriv) });
        return deconcealSuci(suci, hnPriv).msin === '0123456789';
      });
      return { name: 'SUCI profiles A and B', ok, detail: 'conceal then de-conceal with fresh home network keys' };
    }),
    guarded('BSP key derivation', () =>
      count('BSP key derivation (SGP.22 2.6.4.2)', vectors(root, 'bsp-sgp22.json').filter((s) => s['type'] === 'kdf'), (s) => {
        const k = deriveBspKeys(h(s['shared_secret']), parseInt(String(s['key_type']), 16), parseInt(String(s['key_length']), 16), h(s['host_id']), h(s['eid']));
        return eq(k.sEnc, s['s_enc']) && eq(k.sMac, s['s_mac']) && eq(k.initialMcv, s['initial_mcv']);
      }),
    ),
    guarded('BSP round trip', () => {
      const keys = deriveBspKeys(randomBytes(32), 0x88, 0x10, Buffer.from('mcim'), randomBytes(16));
      const profile = randomBytes(12 * 1024);
      const segments = new BspSession(keys).protectProfileSegments(profile);
      const rx = new BspSession(keys);
      const back = Buffer.concat(segments.map((s) => rx.unprotectEncrypted(s, 0x86)));
      return { name: 'BSP protect/unprotect', ok: back.equals(profile), detail: `12 KB profile in ${segments.length} segments of at most 1020 bytes` };
    }),
    guarded('AKA Milenage', () => akaRoundTrip('AKA with Milenage (TS 33.102 6.3, Annex C)', new Milenage(randomBytes(16), randomBytes(16)))),
    guarded('AKA TUAK', () =>
      akaRoundTrip('AKA with TUAK 256-bit K', new Tuak(randomBytes(32), randomBytes(32), { macBits: 128, resBits: 128, ckBits: 256, ikBits: 256, keccakIterations: 1 })),
    ),
    guarded('ECDSA P-256', () => ecdsaCheck('P-256')),
    guarded('ECDSA brainpoolP256r1', () => ecdsaCheck('brainpoolP256r1')),
    guarded('test PKI P-256', () => pkiCheck('P-256')),
    guarded('test PKI brainpoolP256r1', () => pkiCheck('brainpoolP256r1')),
    guarded('SGP.26 NIST', () => sgp26Check(root, 'NIST')),
    guarded('SGP.26 BRP', () => sgp26Check(root, 'BRP')),
  ];
}

export function registerSelfcheck(program: Command): void {
  program
    .command('selfcheck')
    .description('recompute the official vectors and exercise crypto and PKI end to end')
    .option('--json', 'print the results as JSON')
    .addHelpText('after', '\nExample:\n  $ mcim selfcheck\n  $ mcim selfcheck --json')
    .action((opts: { json?: boolean }) => {
      const results = runSelfcheck();
      if (opts.json) {
        console.log(JSON.stringify(results, null, 2));
      } else {
        for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
        const failed = results.filter((r) => !r.ok).length;
        console.log(failed === 0 ? `\nmcim self-check passed (${results.length} checks).` : `\n${failed} of ${results.length} checks FAILED.`);
      }
      if (results.some((r) => !r.ok)) process.exitCode = 1;
    });
}
