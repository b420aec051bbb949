// The closed registry of error codes (src/errors.ts): unknown codes do not compile, every code is used, the docs list them all.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ERROR_CODES, McimError, type ErrorCode } from '../src/errors.js';
import { Asn1Error } from '../src/asn1/errors.js';
import { CryptoError } from '../src/crypto/errors.js';
import { PkiError } from '../src/pki/errors.js';
import { CardError } from '../src/euicc/apdu.js';
import { SealedStateError } from '../src/euicc/sealedState.js';
import { HttpResponseError } from '../src/http/responseParser.js';
import { IpaError, Es9PlusError } from '../src/ipa/errors.js';
import { ROOT } from './helpers/fixtures.js';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('error code registry', () => {
  it('the compiler refuses a code outside the registry, and one outside an error class subset', () => {
    // Each line below must not compile; `npm run typecheck` fails if one of them ever does.
    // @ts-expect-error 'NO_SUCH_CODE' is not an ErrorCode
    const unknown = new McimError('NO_SUCH_CODE', 'x');
    // @ts-expect-error BAD_INPUT was merged into INVALID_ARGUMENT
    const merged = new McimError('BAD_INPUT', 'x');
    // @ts-expect-error TAMPERED is a registry code but not one of PkiError's
    const pki = new PkiError('TAMPERED', 'x');
    // @ts-expect-error BSP_PADDING belongs to CryptoError, not Asn1Error
    const asn1 = new Asn1Error('BSP_PADDING', 'x');
    // @ts-expect-error INVALID_LENGTH was merged into INVALID_ARGUMENT
    const crypto = new CryptoError('INVALID_LENGTH', 'x');
    // At run time the constructors do not check: the guarantee is the compiler's.
    assert.deepEqual([unknown, merged, pki, asn1, crypto].map((e) => e.code), ['NO_SUCH_CODE', 'BAD_INPUT', 'TAMPERED', 'BSP_PADDING', 'INVALID_LENGTH']);
  });

  it("each error class's codes are registry codes", () => {
    const samples: McimError[] = [
      new Asn1Error('TRUNCATED', 'x'),
      new CryptoError('BSP_MAC_FAILURE', 'x'),
      new PkiError('UNKNOWN_CI', 'x'),
      new CardError('INCORRECT_P1_P2', 'x'),
      new SealedStateError('ROLLBACK', 'x'),
      new HttpResponseError('TRUNCATED_RESPONSE', 'x'),
      new IpaError('TRANSPORT_ERROR', 'x'),
      new Es9PlusError('AuthenticateClient', 'Expired', {}),
    ];
    for (const e of samples) assert.ok(Object.hasOwn(ERROR_CODES, e.code), `${e.name} ${e.code}`);
    assert.equal(samples.at(-1)!.code, 'ES9PLUS_EXPIRED');
    assert.equal((samples[3] as CardError).sw, 0x6a86);
  });

  it('every code literal thrown under src/ is in the registry', () => {
    // The compiler already refuses others; this also catches a code smuggled in with a cast.
    const thrown = /new (\w*Error|FunctionFailure)\(\s*'([A-Z0-9_]+)'|super\(\s*'([A-Z0-9_]+)'/g;
    const found = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(thrown)) {
        const code = m[2] ?? m[3]!;
        found.add(code);
        assert.ok(Object.hasOwn(ERROR_CODES, code), `${relative(ROOT, file)} throws '${code}', which src/errors.ts does not list`);
      }
    }
    assert.ok(found.size > 60, `only ${found.size} codes found: the pattern no longer matches the sources`);
  });

  it('every registry code is used under src/, and each has its own meaning', () => {
    const text = sources(join(ROOT, 'src'))
      .filter((f) => !f.endsWith(join('src', 'errors.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = CODES.filter((c) => !new RegExp(`\\b${c}\\b`).test(text));
    assert.deepEqual(unused, [], 'codes in the registry that nothing throws');
    const meanings = Object.values(ERROR_CODES);
    assert.equal(new Set(meanings).size, meanings.length, 'two codes with the same meaning');
    for (const c of CODES) assert.match(c, /^[A-Z][A-Z0-9_]*$/);
  });

  it('docs/architecture.md lists exactly the registry codes, in its order', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
    const section = doc.split('\n## ').find((s) => s.startsWith('Error codes'));
    assert.ok(section, 'docs/architecture.md has no "Error codes" section');
    const listed = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed, CODES);
  });
});
