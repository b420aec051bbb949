// End to end retry (SGP.22 5.6.2/5.6.3/5.7.5): a load that fails after binding, then the same software eUICC comes back over the IPA: the same BPP for the same otPK, a fresh binding for a new one; large metadata (2.5.5).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode } from '../../src/asn1/schema.js';
import { InitialiseSecureChannelRequest } from '../../src/asn1/definitions/rsp.js';
import { Card } from '../../src/euicc/card.js';
import { Euicc } from '../../src/euicc/euicc.js';
import { deviceInit, deviceSecret } from '../../src/cli/commands/device.js';
import { Es10Client } from '../../src/ipa/es10Client.js';
import { listProfiles } from '../../src/ipa/localProfileManagement.js';
import { downloadProfile } from '../../src/ipa/profileDownload.js';
import { type SmdpDataDir } from '../../src/smdpp/dataDir.js';
import { activationCode, importProfile } from '../../src/smdpp/importProfile.js';
import type { SmdpStore } from '../../src/store/smdpStore.js';
import { fixturePath } from '../helpers/fixtures.js';
import { startDataDirSmdp, type DataDirSmdp } from './dataDirSmdp.js';

const ADDRESS = 'testsmdpplus1.example.com:8443';
const PROFILE = readFileSync(fixturePath('ts48', 'TS48V2-SAIP2-1-BERTLV-UNIQUE.der'));
const STORE_DATA = 0xe2;

/**
 * The card link of one device: records the BF23 of every BPP sent and, when `cutNextLoad` is set, loses the link on the
 * first STORE DATA block of the next BF36 (the eUICC never sees it; the IPA then cancels with loadBppExecutionError).
 */
class Link {
  cutNextLoad = false;
  readonly initialiseSecureChannels: InitialiseSecureChannelRequest[] = [];
  readonly card = new Card();

  transmit(apdu: Buffer): Buffer {
    const data = apdu.subarray(5);
    if (apdu[1] === STORE_DATA && apdu[3] === 0 && data.readUInt16BE(0) === 0xbf36) {
      // BF36 and its length, then the whole BF23 (under 255 bytes) within this first block.
      const bf23 = data.subarray(2 + (data[2]! < 0x80 ? 1 : 1 + (data[2]! & 0x7f)));
      this.initialiseSecureChannels.push(decode(InitialiseSecureChannelRequest, bf23.subarray(0, iscLength(bf23))));
      if (this.cutNextLoad) {
        this.cutNextLoad = false;
        throw new Error('card link lost');
      }
    }
    return this.card.transmit(apdu);
  }
}

/** Total length of the BF23 TLV at the start of `b` (two-byte tag, then a short or long length). */
function iscLength(b: Buffer): number {
  const l = b[2]!;
  if (l < 0x80) return 3 + l;
  const n = l & 0x7f;
  return 3 + n + b.subarray(3, 3 + n).readUIntBE(0, n);
}

for (const curve of ['p256', 'brainpool'] as const) {
  describe(`download retry after a failed load, real eUICC (${curve})`, () => {
    let smdp: DataDirSmdp;
    let tmp: string;
    let data: SmdpDataDir;
    let store: SmdpStore;
    let http: DataDirSmdp['http'];

    before(async () => {
      smdp = await startDataDirSmdp('mcim-e2e-retry-', ADDRESS);
      ({ tmp, data, store, http } = smdp);
    });

    after(() => smdp.close());

    /** A device (state file) and its eUICC opened on a link. */
    function device(name: string): { state: string; secret: Buffer; open: () => { link: Link; euicc: Euicc } } {
      const state = join(tmp, `${name}.state`);
      deviceInit({ state, pki: data.pkiDirs[curve] });
      const secret = Buffer.from(deviceSecret({ state }));
      return {
        state,
        secret,
        open: () => {
          const link = new Link();
          const euicc = Euicc.open(state, secret);
          euicc.attach(link.card);
          return { link, euicc };
        },
      };
    }

    async function download(link: Link, matchingId: string): Promise<{ iccid: string }> {
      const es10 = await Es10Client.open({ transmit: (apdu) => link.transmit(apdu) });
      try {
        return await downloadProfile(es10, { activationCode: activationCode(ADDRESS, matchingId), http });
      } finally {
        await es10.close().catch(() => undefined);
      }
    }

    it('the same eUICC comes back with the same otPK: it gets the same BPP (same otPK.DP.ECKA) for the new transaction and installs it', async () => {
      const matchingId = `RETRY-SAME-${curve}`;
      const { iccid } = await importProfile(store, PROFILE, { matchingId, allowShortMatchingId: true }, Date.now());
      const { link } = device(`same-${curve}`).open();
      link.cutNextLoad = true;
      await assert.rejects(download(link, matchingId), /card link lost/);
      const cancelled = await store.orders.get(matchingId);
      assert.equal(cancelled?.state, 'released', 'loadBppExecutionError keeps the order for a retry');
      assert.ok(cancelled?.bppEuiccOtpk !== undefined, 'the bound package is kept for its one-time key');

      const r = await download(link, matchingId);
      assert.equal(r.iccid, iccid);
      const [first, second] = link.initialiseSecureChannels;
      assert.ok(first !== undefined && second !== undefined);
      assert.ok(second.smdpOtpk.equals(first.smdpOtpk), 'the same otPK.DP.ECKA: the retained package');
      assert.ok(second.controlRefTemplate.hostId.equals(first.controlRefTemplate.hostId));
      assert.ok(!second.transactionId.equals(first.transactionId), 'signed for the new transaction');
      const es10 = await Es10Client.open({ transmit: (apdu) => link.transmit(apdu) });
      try {
        assert.deepEqual((await listProfiles(es10)).map((p) => p.iccid), [iccid]);
      } finally {
        await es10.close();
      }
      const installed = await store.orders.get(matchingId);
      assert.equal(installed?.state, 'installed');
      assert.equal(installed?.bppEuiccOtpk, undefined, 'nothing kept once installed');
    });

    it('an eUICC that lost its one-time key (restarted) gets the profile bound afresh and installs it', async () => {
      const matchingId = `RETRY-FRESH-${curve}`;
      const { iccid } = await importProfile(store, PROFILE, { matchingId, allowShortMatchingId: true }, Date.now());
      const dev = device(`fresh-${curve}`);
      const first = dev.open().link;
      first.cutNextLoad = true;
      await assert.rejects(download(first, matchingId), /card link lost/);
      // The eUICC reopened from its state file: the kept one-time key lived in memory only.
      const second = dev.open().link;
      assert.equal((await download(second, matchingId)).iccid, iccid);
      assert.ok(!second.initialiseSecureChannels[0]!.smdpOtpk.equals(first.initialiseSecureChannels[0]!.smdpOtpk), 'a new otPK.DP.ECKA');
      assert.equal((await store.orders.get(matchingId))?.state, 'installed');
    });

    it('metadata with a 1024-byte icon and pprUpdateControl spans several 88 segments and installs', async () => {
      const matchingId = `ICON-${curve}`;
      const icon = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(1016, 0x5a)]);
      const { iccid } = await importProfile(store, PROFILE, { matchingId, allowShortMatchingId: true, icon, profilePolicyRules: ['pprUpdateControl'] }, Date.now());
      const { link } = device(`icon-${curve}`).open();
      assert.equal((await download(link, matchingId)).iccid, iccid);
      assert.equal((await store.orders.get(matchingId))?.state, 'installed');
    });
  });
}
