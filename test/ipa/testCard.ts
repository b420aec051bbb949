// A Card with a trivial ISD-R test application for the IPA tests: canned ES10c answers, a long response, a recording BF36 stream.
import { ProfileInfoListResponse, EnableProfileResponse, DisableProfileResponse, type ProfileInfo } from '../../src/asn1/definitions/rsp.js';
import { encodeIccid } from '../../src/asn1/definitions/saip.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { Card, ISD_R_AID, type ResponseMode } from '../../src/euicc/card.js';
import { CardError } from '../../src/euicc/apdu.js';
import type { CommandHandler, StreamingHandler, StreamPosition } from '../../src/euicc/storeData.js';

export const TEST_ICCID = '8949449999999990023';

export interface TestCard {
  readonly card: Card;
  /** Every STORE DATA command the BF36 stream received, as whole chunks. */
  readonly bppChunks: Buffer[];
  /** The ES10 commands received by ordinary handlers. */
  readonly commands: Buffer[];
  readonly profile: { state: number };
}

/** A long response: BF22 with 600 bytes of content. */
export const LONG_RESPONSE = encodeTlv(0xbf22, Buffer.alloc(600, 0x5a));

export function testCard(options: { responseMode?: ResponseMode; failBppAt?: number; logicalChannels?: number } = {}): TestCard {
  const card = new Card({ responseMode: options.responseMode ?? 'getResponse', ...(options.logicalChannels ? { logicalChannels: options.logicalChannels } : {}) });
  const bppChunks: Buffer[] = [];
  const commands: Buffer[] = [];
  const profile = { state: 0 };
  const info = (): ProfileInfo => ({ iccid: encodeIccid(TEST_ICCID), profileState: profile.state, profileName: 'Test', serviceProviderName: 'mcim', profileClass: 2 });
  const record = (h: CommandHandler): CommandHandler => (c, ctx) => {
    commands.push(Buffer.from(c));
    return h(c, ctx);
  };
  const handlers = new Map<number, CommandHandler>([
    [0xbf2d, record(() => ProfileInfoListResponse.encode({ type: 'profileInfoListOk', value: [info()] }))],
    [0xbf31, record(() => {
      const result = profile.state === 0 ? 0 : 2;
      profile.state = 1;
      return EnableProfileResponse.encode({ enableResult: result });
    })],
    [0xbf32, record(() => {
      const result = profile.state === 1 ? 0 : 2;
      profile.state = 0;
      return DisableProfileResponse.encode({ disableResult: result });
    })],
    [0xbf22, record(() => LONG_RESPONSE)],
    [0xbf20, record(() => {
      throw new CardError('SECURITY_STATUS_NOT_SATISFIED', 'refused');
    })],
  ]);
  const stream: StreamingHandler = {
    onData(chunk: Buffer, position: StreamPosition) {
      bppChunks.push(Buffer.from(chunk));
      const end = position.offset + chunk.length === position.totalLength;
      if (options.failBppAt !== undefined && bppChunks.length === options.failBppAt) {
        return { response: encodeTlv(0xbf37, Buffer.from('early')), done: true };
      }
      return { response: end ? encodeTlv(0xbf37, Buffer.from('done')) : Buffer.alloc(0), done: false };
    },
    onAbort() {},
  };
  card.registerApplication(Buffer.from(ISD_R_AID, 'hex'), { handlers, streamingHandlers: new Map([[0xbf36, stream]]) });
  return { card, bppChunks, commands, profile };
}
