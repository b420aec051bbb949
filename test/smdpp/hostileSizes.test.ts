// Hostile sizes against a running SM-DP+ over TLS (issue 8, CPU): per ES9+ function, an oversize body and an in-budget body with an oversize list or string; the spec's error, work independent of the size.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CI_PKID_LIST, MAX_PUBLIC_KEY, MAX_SIGNATURE, MAX_SIMA_RESPONSE } from '../../src/asn1/definitions/rsp.js';
import { decodedComponents } from '../../src/asn1/schema.js';
import { encodeTlv } from '../../src/asn1/tlv.js';
import { ES9PLUS_FUNCTIONS, requestBodyLimit, type Es9FunctionName } from '../../src/http/es9plusFunctions.js';
import { SMDP_ADDRESS, startHarness, type Es9Response, type Harness } from './harness.js';

const t = (tag: number, ...parts: Buffer[]): Buffer => encodeTlv(tag, parts);
const bytes = (n: number, fill = 0x41): Buffer => Buffer.alloc(n, fill);
const TRANSACTION_ID = '0123456789ABCDEF0123456789ABCDEF';

/** A CI key identifier list of n one-byte entries. */
function ciList(tag: number, n: number): Buffer {
  return t(tag, ...Array.from({ length: n }, (_, i) => t(0x04, Buffer.from([i & 0xff]))));
}

/** EUICCInfo1 with two lists of n entries each (the CPU attack of issue 8). */
function euiccInfo1(n: number): Buffer {
  return t(0xbf20, t(0x82, Buffer.from([2, 5, 0])), ciList(0xa9, n), ciList(0xaa, n));
}

/** AuthenticateServerResponse whose euiccInfo2 carries a verification CI list of n entries. */
function authenticateServerResponse(n: number): Buffer {
  const version = Buffer.from([2, 5, 0]);
  const euiccInfo2 = t(
    0xbf22,
    t(0x81, version),
    t(0x82, version),
    t(0x83, version),
    t(0x84, bytes(4)),
    t(0x85, Buffer.from([0x00])),
    t(0x88, Buffer.from([0x00])),
    ciList(0xa9, n),
    ciList(0xaa, 1),
  );
  const euiccSigned1 = t(0x30, t(0x80, bytes(16)), t(0x83, Buffer.from(SMDP_ADDRESS)), t(0x84, bytes(16)), euiccInfo2);
  return t(0xbf38, t(0xa0, euiccSigned1, t(0x5f37, bytes(64))));
}

/** PrepareDownloadResponse with a one-time key of n bytes. */
function prepareDownloadResponse(n: number): Buffer {
  return t(0xbf21, t(0xa0, t(0x30, t(0x80, bytes(16)), t(0x5f49, bytes(n, 0x04))), t(0x5f37, bytes(64))));
}

/** A PIR whose successResult carries a simaResponse of n bytes. */
function pendingNotification(n: number): Buffer {
  const metadata = t(0xbf2f, t(0x80, Buffer.from([1])), t(0x81, Buffer.from([0x07, 0x80])), t(0x0c, Buffer.from(SMDP_ADDRESS)));
  const data = t(0xbf27, t(0x80, bytes(16)), metadata, t(0x06, Buffer.from([0x89, 0x37, 0x0a])), t(0xa2, t(0xa0, t(0x4f, bytes(16)), t(0x04, bytes(n)))));
  return t(0xbf37, data, t(0x5f37, bytes(64)));
}

/** CancelSessionResponse with a signature of n bytes. */
function cancelSessionResponse(n: number): Buffer {
  return t(0xbf41, t(0xa0, t(0x30, t(0x80, bytes(16)), t(0x81, Buffer.from([0x89, 0x37, 0x0a])), t(0x82, Buffer.from([1]))), t(0x5f37, bytes(n))));
}

interface Case {
  readonly fn: Es9FunctionName;
  /** The ASN.1 field and the request around it. */
  readonly field: string;
  readonly request: (asn1: Buffer) => Record<string, string>;
  /** Hostile values of two sizes: both beyond the codec's bound, the second as large as the field's budget allows. */
  readonly hostile: readonly [Buffer, Buffer];
}

const CASES: readonly Case[] = [
  {
    fn: 'initiateAuthentication',
    field: 'euiccInfo1',
    request: (v) => ({ euiccChallenge: bytes(16).toString('base64'), euiccInfo1: v.toString('base64'), smdpAddress: SMDP_ADDRESS }),
    hostile: [euiccInfo1(MAX_CI_PKID_LIST + 1), euiccInfo1(640)],
  },
  {
    fn: 'authenticateClient',
    field: 'authenticateServerResponse',
    request: (v) => ({ transactionId: TRANSACTION_ID, authenticateServerResponse: v.toString('base64') }),
    hostile: [authenticateServerResponse(MAX_CI_PKID_LIST + 1), authenticateServerResponse(10_000)],
  },
  {
    fn: 'getBoundProfilePackage',
    field: 'prepareDownloadResponse',
    request: (v) => ({ transactionId: TRANSACTION_ID, prepareDownloadResponse: v.toString('base64') }),
    hostile: [prepareDownloadResponse(MAX_PUBLIC_KEY + 1), prepareDownloadResponse(3_900)],
  },
  {
    fn: 'handleNotification',
    field: 'pendingNotification',
    request: (v) => ({ pendingNotification: v.toString('base64') }),
    hostile: [pendingNotification(MAX_SIMA_RESPONSE + 1), pendingNotification(30_000)],
  },
  {
    fn: 'cancelSession',
    field: 'cancelSessionResponse',
    request: (v) => ({ transactionId: TRANSACTION_ID, cancelSessionResponse: v.toString('base64') }),
    hostile: [cancelSessionResponse(MAX_SIGNATURE + 1), cancelSessionResponse(3_900)],
  },
];

function statusOf(r: Es9Response): [string | undefined, string | undefined, string | undefined] {
  const f = r.body.header?.functionExecutionStatus;
  return [f?.status, f?.statusCodeData?.subjectCode, f?.statusCodeData?.reasonCode];
}

describe('hostile sizes against the SM-DP+ over HTTPS', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  for (const c of CASES) {
    const limit = requestBodyLimit(ES9PLUS_FUNCTIONS[c.fn]);

    it(`${c.fn}: a body over the function's limit (${limit} bytes) is refused before it is parsed: HTTP 413, 1.1/2.1`, async () => {
      const before = decodedComponents();
      const body = JSON.stringify({ ...c.request(Buffer.alloc(0)), [c.field]: 'A'.repeat(limit) });
      const r = await h.call(c.fn, body);
      assert.equal(r.status, 413);
      assert.deepStrictEqual(statusOf(r), ['Failed', '1.1', '2.1']);
      assert.equal(decodedComponents() - before, 0);
      assert.ok(limit < 64 * 1024, `${c.fn} accepts bodies up to ${limit} bytes`);
    });

    it(`${c.fn}: a body with every field at its budget, escaped as long as JSON allows, passes the limit`, async () => {
      const fields: Record<string, string> = {};
      for (const [name, spec] of Object.entries(ES9PLUS_FUNCTIONS[c.fn].request)) {
        if (spec.kind === 'base64') fields[name] = bytes(spec.maxBytes, 0xff).toString('base64');
        else if (spec.kind === 'hex') fields[name] = bytes(spec.maxBytes, 0xff).toString('hex');
        else fields[name] = '\u0001'.repeat(spec.maxBytes);
      }
      const body = JSON.stringify(fields, null, 1);
      assert.ok(body.length <= limit, `${body.length} > ${limit}`);
      const r = await h.call(c.fn, body);
      assert.equal(r.status, 200);
      assert.equal(statusOf(r)[0], 'Failed');
    });

    it(`${c.fn}: an oversize list or string inside the field's budget is 8.1/2.1 (SIZE_EXCEEDED), with work independent of its size`, async () => {
      const work: number[] = [];
      for (const value of c.hostile) {
        const body = c.request(value);
        assert.ok(value.length <= ES9PLUS_FUNCTIONS[c.fn].request[c.field as never]['maxBytes'], `${value.length} bytes exceed the field budget`);
        const before = decodedComponents();
        const r = await h.call(c.fn, body);
        work.push(decodedComponents() - before);
        assert.equal(r.status, 200);
        assert.deepStrictEqual(statusOf(r), ['Failed', '8.1', '2.1'], r.body.header?.functionExecutionStatus.statusCodeData?.message);
        assert.match(r.body.header!.functionExecutionStatus.statusCodeData!.message!, /SIZE_EXCEEDED/);
      }
      // The codec stops at the bound: the second input, up to hundreds of times larger, costs the same decoding work.
      assert.equal(work[0], work[1], `components decoded: ${work.join(' vs ')}`);
      assert.ok(work[0]! < 40, `${work[0]} components decoded`);
    });
  }

  it('initiateAuthentication: the original attack (two lists of 100,000 entries, 600 KB) is refused at the body limit', async () => {
    const before = decodedComponents();
    const r = await h.call('initiateAuthentication', { euiccChallenge: bytes(16).toString('base64'), euiccInfo1: euiccInfo1(100_000).toString('base64'), smdpAddress: SMDP_ADDRESS });
    assert.equal(r.status, 413);
    assert.deepStrictEqual(statusOf(r), ['Failed', '1.1', '2.1']);
    assert.equal(decodedComponents() - before, 0);
  });

  it('nothing was written: no session, no notification recorded', async () => {
    assert.equal(h.notifications.length, 0);
    assert.equal(await h.store.sessions.get(TRANSACTION_ID), undefined);
  });
});
