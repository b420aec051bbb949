// Terminal-side helpers for the card tests (ISO/IEC 7816-4 APDUs, GPC 2.3 11.11 STORE DATA blocks as an LPA sends them).
import assert from 'node:assert/strict';
import type { Card } from '../../src/euicc/card.js';

/** Hex with optional spaces to bytes. */
export function h(s: string): Buffer {
  const clean = s.replace(/\s+/g, '');
  assert.match(clean, /^([0-9a-fA-F]{2})*$/, `bad hex ${s}`);
  return Buffer.from(clean, 'hex');
}

export interface Reply {
  readonly data: Buffer;
  readonly sw: number;
}

export function send(card: Card, apdu: Buffer | string): Reply {
  const r = card.transmit(typeof apdu === 'string' ? h(apdu) : apdu);
  assert.ok(r.length >= 2, 'a response APDU has SW1 SW2');
  return { data: r.subarray(0, r.length - 2), sw: r.readUInt16BE(r.length - 2) };
}

/** CLA for a logical channel: first/further interindustry or their GlobalPlatform proprietary forms. */
export function cla(channel: number, proprietary = false): number {
  const base = channel < 4 ? channel : 0x40 | (channel - 4);
  return proprietary ? base | 0x80 : base;
}

export function apdu(claByte: number, ins: number, p1: number, p2: number, data?: Buffer, le?: number): Buffer {
  const parts: Buffer[] = [Buffer.from([claByte, ins, p1, p2])];
  if (data && data.length > 0) parts.push(Buffer.from([data.length]), data);
  if (le !== undefined) parts.push(Buffer.from([le]));
  return Buffer.concat(parts);
}

/** Splits an ES10 command into STORE DATA APDUs: block sizes taken cyclically from `sizes`. */
export function storeDataApdus(channel: number, command: Buffer, sizes: readonly number[] = [255]): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < command.length; i++) {
    const size = Math.min(sizes[i % sizes.length]!, command.length - offset);
    const last = offset + size === command.length;
    out.push(apdu(cla(channel, true), 0xe2, last ? 0x91 : 0x11, i & 0xff, command.subarray(offset, offset + size)));
    offset += size;
  }
  return out;
}

/** GET RESPONSE until the data is complete; returns it with the final status word. */
export function collect(card: Card, channel: number, first: Reply, le = 0): Reply {
  const parts = [first.data];
  let sw = first.sw;
  for (let rounds = 0; sw >> 8 === 0x61; rounds++) {
    assert.ok(rounds < 100_000, 'GET RESPONSE does not end');
    const r = send(card, apdu(cla(channel), 0xc0, 0, 0, undefined, le === 0 ? sw & 0xff : le));
    parts.push(r.data);
    sw = r.sw;
  }
  return { data: Buffer.concat(parts), sw };
}

/** Sends one ES10 command as an LPA does: STORE DATA blocks (each but the last answered 9000 without data), then GET RESPONSE. */
export function es10(card: Card, channel: number, command: Buffer, sizes: readonly number[] = [255]): Reply {
  const apdus = storeDataApdus(channel, command, sizes);
  for (const a of apdus.slice(0, -1)) {
    const r = send(card, a);
    if (r.sw !== 0x9000) return r;
    assert.equal(r.data.length, 0, 'no data before the last block');
  }
  return collect(card, channel, send(card, apdus[apdus.length - 1]!));
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, '0');
}
