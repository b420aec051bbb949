// Fuzz targets beyond the codecs: the parsers each role runs on hostile input (certificates, APDUs, ES10 commands, text formats).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseCertificate } from '../src/pki/certificate.js';
import { issueTestPki } from '../src/pki/testPki.js';
import { parseCommandApdu } from '../src/euicc/apdu.js';
import { Card, ISD_R_AID } from '../src/euicc/card.js';
import { Euicc, identityFromTestPki } from '../src/euicc/euicc.js';
import { parseActivationCode } from '../src/ipa/activationCode.js';
import { parseSuci } from '../src/crypto/suci.js';
import { ES9PLUS_FUNCTIONS, decodeFields } from '../src/http/es9plusFunctions.js';
import { requestFieldError } from '../src/http/jsonBinding.js';
import { HttpResponseParser } from '../src/http/responseParser.js';
import type { FuzzTarget } from './fuzzer.js';

/** A finding: the eUICC answered 6F00 (an error its handlers did not type). */
class InternalCardError extends Error {}

function storeDataBlocks(command: Buffer): Buffer[] {
  const blocks: Buffer[] = [];
  for (let offset = 0, n = 0; offset < command.length || n === 0; offset += 255, n++) {
    const chunk = command.subarray(offset, offset + 255);
    const last = offset + 255 >= command.length;
    blocks.push(Buffer.concat([Buffer.from([0x80, 0xe2, last ? 0x91 : 0x11, n & 0xff, chunk.length]), chunk]));
  }
  return blocks;
}

/** An eUICC on a Card with the ISD-R selected; every fuzz input is sent to it as one ES10 command. */
function es10Target(esSeeds: readonly Buffer[]): FuzzTarget {
  const dir = mkdtempSync(join(tmpdir(), 'mcim-fuzz-euicc-'));
  const euicc = Euicc.create(join(dir, 'euicc.state'), randomBytes(32), identityFromTestPki(issueTestPki()));
  const card = new Card({ onInternalError: () => undefined });
  euicc.attach(card);
  const aid = Buffer.from(ISD_R_AID, 'hex');
  const select = Buffer.concat([Buffer.from([0x00, 0xa4, 0x04, 0x00, aid.length]), aid]);
  card.transmit(select);
  return {
    name: 'euicc.es10 (STORE DATA to the ISD-R)',
    seeds: esSeeds,
    parse(input) {
      let sw = 0;
      for (const apdu of storeDataBlocks(input)) {
        const response = card.transmit(apdu);
        sw = response.readUInt16BE(response.length - 2);
        if (sw === 0x6f00) throw new InternalCardError(`6F00 for command ${input.toString('hex')}`);
        if (sw !== 0x9000) break;
      }
      // Drain long responses so the next command starts clean.
      while ((sw & 0xff00) === 0x6100) {
        const response = card.transmit(Buffer.from([0x00, 0xc0, 0x00, 0x00, sw & 0xff]));
        sw = response.readUInt16BE(response.length - 2);
      }
    },
  };
}

export function roleTargets(certs: readonly Buffer[], rspRequests: readonly Buffer[]): FuzzTarget[] {
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');
  const apdus = [
    '00A4040010A0000005591010FFFFFFFF8900000100',
    '0070000001',
    '80E2910003BF2E00',
    '81E2110005BF22020102',
    '00C0000000',
    '007080010000',
  ].map((h) => Buffer.from(h, 'hex'));
  return [
    { name: 'pki.parseCertificate', seeds: certs, parse: (input) => void parseCertificate(input) },
    { name: 'euicc.parseCommandApdu', seeds: apdus, parse: (input) => void parseCommandApdu(input) },
    es10Target(rspRequests),
    {
      name: 'ipa.parseActivationCode',
      seeds: ['LPA:1$smdp.example.com$MATCHING-ID', 'LPA:1$localhost:8443$TS48V2$1.3.6.1.4.1.31746$1', 'LPA:1$a.b$$'].map(text),
      parse: (input) => void parseActivationCode(input.toString('utf8')),
    },
    {
      name: 'http.HttpResponseParser (the IPA reading an SM-DP+ answer)',
      seeds: [
        'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Admin-Protocol: gsma/rsp/v2.5.0\r\n\r\n{}',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\n',
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n',
        'HTTP/1.0 200 OK\r\n\r\nto the end',
      ].map(text),
      parse: (input) => {
        const parser = new HttpResponseParser({ maxHeaderBytes: 4096, maxBodyBytes: 65536 });
        // Fed in two pieces, then the connection ends: every framing path, including a body delimited by the close.
        const cut = input.length >> 1;
        if (parser.push(input.subarray(0, cut)) === undefined && parser.push(input.subarray(cut)) === undefined) parser.end();
      },
    },
    {
      name: 'http.decodeFields (the SM-DP+ reading an ES9+ request body)',
      seeds: [
        '{"transactionId":"0102030405060708090A0B0C0D0E0F10","authenticateServerResponse":"vzgA"}',
        '{"euiccChallenge":"AAECAwQFBgcICQoLDA0ODw==","euiccInfo1":"vyAA","smdpAddress":"smdp.example.com"}',
        '{"pendingNotification":"vzc=","transactionId":"AB","extra":[1,{"a":null}]}',
      ].map(text),
      parse: (input) => {
        let body: unknown;
        try {
          body = JSON.parse(input.toString('utf8'));
        } catch {
          return; // fastify's JSON parser answers non-JSON before the fields are read
        }
        if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
        for (const declaration of Object.values(ES9PLUS_FUNCTIONS)) {
          try {
            decodeFields(declaration.request, body as Record<string, unknown>, requestFieldError);
          } catch (e) {
            if (!(e instanceof Error) || e.name !== 'FunctionFailure') throw e;
          }
        }
      },
    },
    {
      name: 'crypto.parseSuci',
      seeds: ['suci-0-208-93-0-0-0-00007487', 'suci-0-001-01-0000-1-1-b2e92f836055a255837debf850b528997ce0201cb82adfe4be1f587d07d8457dcb02352410cddd9e730ef3fa87'].map(text),
      parse: (input) => void parseSuci(input.toString('utf8')),
    },
  ];
}
