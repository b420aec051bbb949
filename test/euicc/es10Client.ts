// Test-side LPA transport: ES10 commands as STORE DATA blocks (GPC 2.3 11.11, SGP.22 5.7), GET RESPONSE (ISO/IEC 7816-4 7.6.1), the BPP split of SGP.22 2.5.5.
import { decodeTlv, encodeLength, encodeTag } from '../../src/asn1/tlv.js';
import { ISD_R_AID, type Card } from '../../src/euicc/card.js';
import { apdu, cla, send, swHex, type Reply } from './cardHelpers.js';

/** An ES10 command answered with a status word other than 9000. */
export class StatusWordError extends Error {
  constructor(readonly sw: number) {
    super(`status word ${swHex(sw)}`);
  }
}

export interface Es10ClientOptions {
  /** STORE DATA block sizes, used cyclically (default: 255 and 120 alternately, as LPAs send). */
  readonly blockSizes?: readonly number[];
  readonly channel?: number;
}

function header(tlv: Buffer): Buffer {
  const t = decodeTlv(tlv);
  return Buffer.concat([encodeTag(t.tag), encodeLength(t.value.length)]);
}

export class Es10Client {
  readonly card: Card;
  readonly channel: number;
  readonly #sizes: readonly number[];

  constructor(card: Card, options: Es10ClientOptions = {}) {
    this.card = card;
    this.channel = options.channel ?? 0;
    this.#sizes = options.blockSizes ?? [255, 120];
  }

  /** SELECT the ISD-R on the client's channel. */
  selectIsdR(): void {
    const r = send(this.card, apdu(cla(this.channel), 0xa4, 0x04, 0x00, Buffer.from(ISD_R_AID, 'hex')));
    if (r.sw !== 0x9000 && r.sw >> 8 !== 0x61) throw new StatusWordError(r.sw);
    if (r.sw >> 8 === 0x61) this.#fetch(r);
  }

  /** The STORE DATA APDUs of one ES10 command. */
  storeDataApdus(command: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let offset = 0, i = 0; offset < command.length; i++) {
      const size = Math.min(this.#sizes[i % this.#sizes.length]!, command.length - offset);
      const last = offset + size === command.length;
      out.push(apdu(cla(this.channel, true), 0xe2, last ? 0x91 : 0x11, i & 0xff, command.subarray(offset, offset + size)));
      offset += size;
    }
    return out;
  }

  /** Sends one ES10 command; returns the status word and the complete response data. */
  transmit(command: Buffer): Reply {
    const apdus = this.storeDataApdus(command);
    for (const a of apdus.slice(0, -1)) {
      const r = send(this.card, a);
      if (r.sw !== 0x9000) return r;
    }
    return this.#fetch(send(this.card, apdus[apdus.length - 1]!));
  }

  /** Sends one ES10 command and returns its response data; any status word but 9000 throws StatusWordError. */
  command(command: Buffer): Buffer {
    const r = this.transmit(command);
    if (r.sw !== 0x9000) throw new StatusWordError(r.sw);
    return r.data;
  }

  /**
   * The ES10 commands of a BPP as SGP.22 2.5.5 has the LPA send them: BF36 header with BF23, A0 with its 87s,
   * A1 header, each 88, A2 with its 87s, A3 header, each 86.
   */
  static bppCommands(bpp: Buffer): Buffer[] {
    const outer = decodeTlv(bpp);
    const [isc, ...containers] = outer.children!;
    const commands: Buffer[] = [Buffer.concat([header(bpp), isc!.raw])];
    for (const c of containers) {
      if (c.tag === 0xa0 || c.tag === 0xa2) {
        commands.push(c.raw);
      } else {
        commands.push(header(c.raw));
        for (const segment of c.children!) commands.push(segment.raw);
      }
    }
    return commands;
  }

  /** Sends a BPP command by command; returns the first non-empty response (the PIR) or that of the last command. */
  loadBoundProfilePackage(bpp: Buffer, commands: readonly Buffer[] = Es10Client.bppCommands(bpp)): Buffer {
    let last: Buffer = Buffer.alloc(0);
    for (const c of commands) {
      last = this.command(c);
      if (last.length > 0) return last;
    }
    return last;
  }

  #fetch(first: Reply): Reply {
    const parts = [first.data];
    let sw = first.sw;
    for (let rounds = 0; sw >> 8 === 0x61; rounds++) {
      if (rounds > 10_000) throw new Error('GET RESPONSE does not end');
      const r = send(this.card, apdu(cla(this.channel), 0xc0, 0, 0, undefined, sw & 0xff));
      parts.push(r.data);
      sw = r.sw;
    }
    return { data: Buffer.concat(parts), sw };
  }
}
