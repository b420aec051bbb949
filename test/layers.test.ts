// The layer order of docs/architecture.md (errors < asn1 < crypto < pki < store, http < roles < cli) as the lint rule mcim/layers enforces it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { ROOT } from './helpers/fixtures.js';

const eslint = new ESLint({ cwd: ROOT });

/** The mcim/layers messages for `code` linted as if it were the file `path` (relative to the project root). */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  assert.ok(result, 'ESLint returned no result');
  return result.messages.filter((m) => m.ruleId === 'mcim/layers').map((m) => m.message);
}

describe('layer order (lint rule mcim/layers)', () => {
  it('allows a unit to import itself and every lower layer', async () => {
    const allowed: Array<[string, string]> = [
      ['src/asn1/probe.ts', "import { McimError } from '../errors.js';\nimport { decodeTlv } from './tlv.js';"],
      ['src/crypto/probe.ts', "import { Asn1Error } from '../asn1/errors.js';"],
      ['src/pki/probe.ts', "import { signPlain } from '../crypto/ecdsa.js';\nimport { decodeTlv } from '../asn1/tlv.js';"],
      ['src/store/probe.ts', "import { parseCertificate } from '../pki/certificate.js';"],
      ['src/smdpp/es9plus/probe.ts', "import { SmdpStore } from '../../store/smdpStore.js';\nimport { FunctionFailure } from '../../http/jsonBinding.js';\nimport { session } from '../session.js';"],
      ['src/euicc/es10b/probe.ts', "import { CardError } from '../apdu.js';\nimport { validateChain } from '../../pki/validateChain.js';"],
      ['src/cli/commands/probe.ts', "import { IpaError } from '../../ipa/errors.js';\nimport { SmdpStore } from '../../store/smdpStore.js';"],
      ['src/cli/probe.ts', "import pg from 'pg';\nimport { readFileSync } from 'node:fs';"],
      ['test/probe.test.ts', "import { serve } from '../src/smdpp/server.js';\nimport { Euicc } from '../src/euicc/euicc.js';"],
      ['bench/probe.ts', "import { x } from '../src/ipa/profileDownload.js';\nimport { y } from '../test/helpers/fixtures.js';"],
      ['fuzz/probe.ts', "import { x } from '../src/cli/main.js';"],
    ];
    for (const [path, code] of allowed) assert.deepEqual(await layerErrors(path, code), [], path);
  });

  it('refuses a foundation importing a higher layer', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['src/errors.ts', "import { Asn1Error } from './asn1/errors.js';", /src\/errors .*'errors'.* must not import src\/asn1 .*'asn1'/],
      ['src/asn1/probe.ts', "import { CryptoError } from '../crypto/errors.js';", /src\/asn1 .* must not import src\/crypto/],
      ['src/asn1/definitions/probe.ts', "import { PkiError } from '../../pki/errors.js';", /src\/asn1 .* must not import src\/pki/],
      ['src/crypto/probe.ts', "import { parseCertificate } from '../pki/certificate.js';", /src\/crypto .* must not import src\/pki/],
      ['src/pki/probe.ts', "import { SmdpStore } from '../store/smdpStore.js';", /src\/pki .* must not import src\/store/],
      ['src/http/probe.ts', "import { serve } from '../smdpp/server.js';", /src\/http .* must not import src\/smdpp/],
      ['src/store/probe.ts', "import { main } from '../cli/main.js';", /src\/store .* must not import src\/cli/],
    ];
    for (const [path, code, expected] of cases) {
      const errors = await layerErrors(path, code);
      assert.equal(errors.length, 1, `${path}: ${errors.join('; ')}`);
      assert.match(errors[0]!, expected);
      assert.match(errors[0]!, /errors < asn1 < crypto < pki < store, http < smdpp, euicc, ipa, eim, auc, operator < cli/);
    }
  });

  it('refuses a role importing another role, and the store importing http', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['src/smdpp/probe.ts', "import { IpaError } from '../ipa/errors.js';", /src\/smdpp must not import src\/ipa: both are in layer 'roles'/],
      ['src/euicc/es10b/probe.ts', "import { serve } from '../../smdpp/server.js';", /src\/euicc must not import src\/smdpp/],
      ['src/ipa/probe.ts', "import type { Euicc } from '../euicc/euicc.js';", /src\/ipa must not import src\/euicc/],
      ['src/eim/probe.ts', "import { x } from '../smdpp/session.js';", /src\/eim must not import src\/smdpp/],
      ['src/store/probe.ts', "import { FunctionFailure } from '../http/jsonBinding.js';", /src\/store must not import src\/http: both are in layer 'store and http'/],
    ];
    for (const [path, code, expected] of cases) {
      const errors = await layerErrors(path, code);
      assert.equal(errors.length, 1, `${path}: ${errors.join('; ')}`);
      assert.match(errors[0]!, expected);
    }
  });

  it('sees re-exports, dynamic imports and type imports, not only import statements', async () => {
    const code = [
      "export * from '../ipa/errors.js';",
      "export { serve } from '../smdpp/server.js';",
      "export type { Euicc } from '../euicc/euicc.js';",
      "const m = await import('../cli/main.js');",
    ].join('\n');
    const errors = await layerErrors('src/pki/probe.ts', code);
    assert.equal(errors.length, 4, errors.join('; '));
  });

  it('refuses an import out of src/ and a folder under src/ without a layer', async () => {
    const outside = await layerErrors('src/crypto/probe.ts', "import { hex } from '../../test/helpers/fixtures.js';");
    assert.equal(outside.length, 1);
    assert.match(outside[0]!, /imports only from src\/ and from packages/);
    const unassigned = await layerErrors('src/newrole/probe.ts', "export const x = 1;");
    assert.deepEqual(unassigned, ['src/newrole has no layer: add it to LAYERS in scripts/layers.mjs and to docs/architecture.md']);
    const target = await layerErrors('src/cli/probe.ts', "import { x } from '../newrole/x.js';");
    assert.deepEqual(target, ['src/newrole has no layer: add it to LAYERS in scripts/layers.mjs and to docs/architecture.md']);
  });

  it('every folder under src/ today has a layer and no file breaks the order', async () => {
    const results = await eslint.lintFiles([join(ROOT, 'src')]);
    const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'mcim/layers').map((m) => `${r.filePath}:${m.line} ${m.message}`));
    assert.deepEqual(broken, []);
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    assert.ok(folders.length >= 8, `found ${folders.join(', ')}`);
    for (const folder of folders) {
      assert.deepEqual(await layerErrors(`src/${folder}/probe.ts`, 'export const x = 1;'), [], folder);
    }
  });
});
