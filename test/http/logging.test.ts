// The redaction rule of the logs (src/http/logging.ts): objects carrying each kind of secret are logged without it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { REDACTED } from '../../src/http/logging.js';
import { captureLogger } from '../helpers/logCapture.js';
import { McimError } from '../../src/errors.js';

describe('log redaction', () => {
  it('drops every secret kind: K, OPc, keys, confirmation codes, BPP bytes, bodies; prefixes matching and transaction IDs', () => {
    const k = randomBytes(16).toString('hex').toUpperCase();
    const opc = randomBytes(16).toString('hex');
    const matchingId = 'QWERTYUIOPASDFGHJKLZXCVBN';
    const transactionId = randomBytes(16).toString('hex').toUpperCase();
    const bpp = randomBytes(300);
    const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const { logger, lines, text } = captureLogger();
    logger.warn(
      {
        K: k,
        opc,
        OPc: opc,
        privateKey: pem,
        atRestKey: randomBytes(32),
        confirmationCode: '86420135',
        hashCc: randomBytes(32).toString('base64'),
        ccHash: randomBytes(32),
        matchingId,
        matching_id: matchingId,
        transactionId,
        boundProfilePackage: bpp.toString('base64'),
        bpp,
        profilePackage: bpp,
        body: { euiccInfo1: 'AAAA', secret: 'x' },
        nested: [{ ki: k }, { data: bpp }],
        note: `the order carries K=${k} and ${opc}`,
        eid: '89049032123451234512345678901235',
      },
      'event',
    );
    logger.error({ err: new McimError('TAMPERED', `sealed value ${k} does not open`) }, 'internal error');
    const out = text();
    for (const secret of [k, opc, pem.split('\n')[1]!, '86420135', matchingId, transactionId, bpp.toString('base64').slice(0, 40), bpp.toString('hex').slice(0, 40)]) {
      assert.ok(!out.includes(secret), `the log carries ${secret}`);
    }
    const [line, error] = lines();
    assert.equal(line!['K'], REDACTED);
    assert.equal(line!['privateKey'], REDACTED);
    assert.equal(line!['atRestKey'], REDACTED);
    assert.equal(line!['confirmationCode'], REDACTED);
    assert.equal(line!['bpp'], REDACTED);
    assert.equal(line!['body'], REDACTED);
    assert.equal(line!['matchingId'], 'QWER…');
    assert.equal(line!['transactionId'], `${transactionId.slice(0, 8)}…`);
    assert.deepEqual(line!['nested'], [{ ki: REDACTED }, { data: '[300 bytes]' }]);
    assert.equal(line!['eid'], '89049032123451234512345678901235', 'an EID is not a secret and is logged in full');
    assert.equal(line!['level'], 'warn');
    assert.deepEqual(error!['err'], { type: 'McimError', message: `sealed value ${k.slice(0, 8)}… does not open`, code: 'TAMPERED' });
  });

  it('property: a hex secret under any secret key, or inside free text, never reaches the output', () => {
    const secretKeys = fc.constantFrom('K', 'opc', 'OPc', 'key', 'privateKey', 'dpPbKey', 'confirmationCode', 'cc', 'bpp', 'boundProfilePackage', 'body', 'packageSealed', 'passphrase');
    fc.assert(
      fc.property(secretKeys, fc.uint8Array({ minLength: 10, maxLength: 64 }), fc.string({ maxLength: 20 }), (key, bytes, prose) => {
        const secret = Buffer.from(bytes).toString('hex');
        const { logger, text } = captureLogger();
        logger.info({ [key]: secret, wrapped: { [key]: secret }, note: `${prose}${secret}${prose}` });
        return !text().includes(secret);
      }),
      { numRuns: 200 },
    );
  });

  it('the level filters: debug lines are not written at info', () => {
    const { logger, lines } = captureLogger('info');
    logger.debug({ a: 1 }, 'hidden');
    logger.info({ a: 2 }, 'shown');
    assert.deepEqual(lines().map((l) => l['msg']), ['shown']);
  });
});
