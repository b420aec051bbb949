// `mcim smdpp import` order limits and metadata flags (--unreleased, --expires, --max-attempts, --ppr, --profile-owner, --icon) and `mcim smdpp release`.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IconType, PprId } from '../../src/asn1/definitions/rsp.js';
import { McimError } from '../../src/errors.js';
import { initSmdpDataDir, openSmdpStore } from '../../src/smdpp/dataDir.js';
import { smdppImport, smdppRelease } from '../../src/cli/commands/smdpp.js';
import { fixturePath } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'mcim-import-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PROFILE = fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der');

function invalid(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof McimError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);
}

describe('smdpp import limits and metadata', () => {
  it('stores the flags on the order; an unreleased order is released by `smdpp release`, once', async () => {
    const icon = join(dir, 'icon.jpg');
    writeFileSync(icon, Buffer.concat([Buffer.from('ffd8ffe0', 'hex'), Buffer.alloc(200, 7)]));
    await smdppImport(PROFILE, {
      allowShortMatchingId: true, matchingId: 'LIM-1',
      data: dir,
      unreleased: true,
      expires: '2031-01-02T03:04:05Z',
      maxAttempts: '4',
      ppr: 'pprUpdateControl, ppr2',
      profileOwner: '262-01',
      icon,
    });
    const store = await openSmdpStore(initSmdpDataDir(dir));
    try {
      const o = await store.orders.get('LIM-1');
      assert.equal(o?.state, 'confirmed');
      assert.equal(o?.expiresAt, Date.parse('2031-01-02T03:04:05Z'));
      assert.equal(o?.maxDownloadAttempts, 4);
      assert.equal(o?.profilePolicyRules, (1 << PprId.pprUpdateControl) | (1 << PprId.ppr2));
      assert.equal(o?.iconType, IconType.jpg);
      assert.equal(o?.icon?.length, 204);
      assert.ok(o?.profileOwner?.equals(Buffer.from('3005800362f210', 'hex')), o?.profileOwner?.toString('hex'));
    } finally {
      await store.close();
    }
    await smdppRelease('LIM-1', dir);
    await assert.rejects(smdppRelease('LIM-1', dir), (e: unknown) => e instanceof McimError && e.code === 'ORDER_NOT_RELEASABLE');
    const reopened = await openSmdpStore(initSmdpDataDir(dir));
    try {
      assert.equal((await reopened.orders.get('LIM-1'))?.state, 'released');
    } finally {
      await reopened.close();
    }
  });

  it('refuses bad flag values before storing anything', async () => {
    await assert.rejects(smdppImport(PROFILE, { allowShortMatchingId: true, matchingId: 'LIM-2', data: dir, expires: 'next week' }), invalid(/ISO 8601/));
    await assert.rejects(smdppImport(PROFILE, { allowShortMatchingId: true, matchingId: 'LIM-2', data: dir, maxAttempts: '0' }), invalid(/number of attempts/));
    await assert.rejects(smdppImport(PROFILE, { allowShortMatchingId: true, matchingId: 'LIM-2', data: dir, icon: join(dir, 'missing.png') }), invalid(/cannot read the icon/));
    await assert.rejects(smdppImport(PROFILE, { allowShortMatchingId: true, matchingId: 'LIM-2', data: dir, ppr: 'ppr1' }), invalid(/profile owner/));
    const store = await openSmdpStore(initSmdpDataDir(dir));
    try {
      assert.equal(await store.orders.get('LIM-2'), undefined);
    } finally {
      await store.close();
    }
  });
});
