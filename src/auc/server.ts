// The AuC's HTTP API (TS 29.503 Nudm_UEAuthentication and TS 29.509 Nausf in spirit, mcim's own JSON): subscribers, EPS/5G vectors, RES* confirmation, resync, SUCI; bearer token, schemas, OpenAPI.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { McimError, type ErrorCode } from '../errors.js';
import { connectionLimits, connectionServerOptions, limitConnections, type ConnectionLimits } from '../http/connectionLimits.js';
import type { ServiceRestrictions, SubscriberInfo } from '../store/aucStore.js';
import { MAX_LIST } from '../store/aucStore.js';
import { confirmResStar } from './confirmResStar.js';
import type { AucContext } from './context.js';
import { deconcealSuci, MAX_SUCI_LENGTH } from './deconcealSuci.js';
import { AucError } from './errors.js';
import { generate5gVector, type FiveGAuthenticationVector } from './generate5gVector.js';
import { generateEpsVector, type EpsAuthenticationVector } from './generateEpsVector.js';
import { resynchronise, type ResyncResult } from './resynchronise.js';
import { parseSubscriberRecord } from './subscriberRecord.js';

export interface AucServerOptions {
  /** The API token every request must carry as `Authorization: Bearer <token>` (at least 32 characters). */
  readonly token: string;
  /** The logger (src/http/logging.ts: secrets redacted); none: logging off. Bodies are never logged. */
  readonly logger?: FastifyBaseLogger;
  /** PEM key and certificate: serve HTTPS (needed to listen beyond loopback). */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Connection caps and timeouts; each one not given takes its default (src/http/connectionLimits.ts). */
  readonly connections?: Partial<ConnectionLimits>;
}

export const MIN_TOKEN_LENGTH = 32;
/** Largest request body: one subscriber record, one vector request. */
export const BODY_LIMIT = 16 * 1024;
/** Largest import request: MAX_IMPORT_BATCH records. */
export const IMPORT_BODY_LIMIT = 1024 * 1024;
export const MAX_IMPORT_BATCH = 1000;

/** HTTP status of each error code the API answers with; any other McimError is a 400. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  SUBSCRIBER_SUSPENDED: 403,
  RES_STAR_MISMATCH: 403,
  MAC_FAILURE: 403,
  NOT_FOUND: 404,
  SUBSCRIBER_NOT_FOUND: 404,
  AUTHENTICATION_NOT_FOUND: 404,
  SUBSCRIBER_EXISTS: 409,
  INPUT_TOO_LARGE: 413,
  TAMPERED: 500,
};

// --- JSON schemas (every string and list bounded) ---

const hexBytes = (...lengths: number[]): Record<string, unknown> => ({
  type: 'string',
  pattern: `^(?:${lengths.map((n) => `[0-9a-fA-F]{${2 * n}}`).join('|')})$`,
});
const IMSI = { type: 'string', pattern: '^[0-9]{6,15}$' };
const MCC = { type: 'string', pattern: '^[0-9]{3}$' };
const MNC = { type: 'string', pattern: '^[0-9]{2,3}$' };
const SNN = { type: 'string', maxLength: 64, pattern: '^5G:mnc[0-9]{3}\\.mcc[0-9]{3}\\.3gppnetwork\\.org$' };
const ERROR = {
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
  required: ['error'],
};
const RESTRICTIONS = {
  type: 'object',
  additionalProperties: false,
  properties: { dataOnly: { type: 'boolean' }, volumeCapBytes: { type: ['integer', 'null'], minimum: 0 } },
  required: ['dataOnly', 'volumeCapBytes'],
};
const SUBSCRIBER_RECORD = {
  type: 'object',
  additionalProperties: false,
  properties: {
    imsi: IMSI,
    iccid: { type: 'string', pattern: '^[0-9]{18,20}F?$' },
    operator: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
    algorithm: { type: 'string', enum: ['milenage', 'tuak'] },
    k: hexBytes(16, 32),
    opc: hexBytes(16),
    topc: hexBytes(32),
    amf: hexBytes(2),
    sqn: hexBytes(6),
    indBits: { type: 'integer', minimum: 0, maximum: 16 },
    macLength: { type: 'integer', enum: [8, 16, 32] },
    resLength: { type: 'integer', enum: [4, 8, 16, 32] },
    ckLength: { type: 'integer', enum: [16, 32] },
    ikLength: { type: 'integer', enum: [16, 32] },
    keccakIterations: { type: 'integer', minimum: 1, maximum: 999999 },
    state: { type: 'string', enum: ['active', 'suspended'] },
    dataOnly: { type: 'boolean' },
    volumeCapBytes: { type: ['integer', 'null'], minimum: 0 },
  },
  required: ['imsi', 'operator', 'algorithm', 'k'],
};
const TUAK_PARAMETERS = {
  type: 'object',
  properties: {
    macLength: { type: 'integer' },
    resLength: { type: 'integer' },
    ckLength: { type: 'integer' },
    ikLength: { type: 'integer' },
    keccakIterations: { type: 'integer' },
  },
};
/** A subscriber as the API shows it: no K, no OPc/TOPc (the response schema drops any other field). */
const SUBSCRIBER = {
  type: 'object',
  properties: {
    imsi: { type: 'string' },
    iccid: { type: 'string' },
    operator: { type: 'string' },
    algorithm: { type: 'string' },
    amf: { type: 'string' },
    seqHe: { type: 'integer' },
    indBits: { type: 'integer' },
    state: { type: 'string', enum: ['active', 'suspended'] },
    restrictions: RESTRICTIONS,
    tuak: TUAK_PARAMETERS,
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
  required: ['imsi', 'operator', 'algorithm', 'amf', 'seqHe', 'indBits', 'state', 'restrictions'],
};
const IMSI_PARAMS = { type: 'object', properties: { imsi: IMSI }, required: ['imsi'] };
const EPS_VECTOR = {
  type: 'object',
  properties: {
    imsi: { type: 'string' },
    rand: { type: 'string' },
    xres: { type: 'string' },
    autn: { type: 'string' },
    kasme: { type: 'string' },
    restrictions: RESTRICTIONS,
  },
  required: ['imsi', 'rand', 'xres', 'autn', 'kasme', 'restrictions'],
};
const FIVEG_VECTOR = {
  type: 'object',
  properties: {
    authCtxId: { type: 'string' },
    supi: { type: 'string' },
    servingNetworkName: { type: 'string' },
    rand: { type: 'string' },
    autn: { type: 'string' },
    hxresStar: { type: 'string' },
    kausf: { type: 'string' },
    kseaf: { type: 'string' },
    restrictions: RESTRICTIONS,
    expiresAt: { type: 'integer' },
  },
  required: ['authCtxId', 'supi', 'servingNetworkName', 'rand', 'autn', 'hxresStar', 'kausf', 'kseaf', 'restrictions', 'expiresAt'],
};
const EPS_REQUEST = { imsi: IMSI, mcc: MCC, mnc: MNC };
const FIVEG_REQUEST = { imsi: IMSI, servingNetworkName: SNN };
const RESYNC_REQUEST = { rand: hexBytes(16), auts: hexBytes(14, 22, 38) };

function body(properties: Record<string, unknown>, required = Object.keys(properties)): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties, required };
}

function responses(ok: Record<string, unknown> | null, okStatus = 200): Record<string, unknown> {
  const errors = Object.fromEntries([400, 401, 403, 404, 409, 413, 500].map((s) => [s, ERROR]));
  return { [okStatus]: ok ?? { type: 'null' }, ...errors };
}

// --- JSON views ---

function restrictionsJson(r: ServiceRestrictions): { dataOnly: boolean; volumeCapBytes: number | null } {
  return { dataOnly: r.dataOnly, volumeCapBytes: r.volumeCapBytes ?? null };
}

/** A subscriber as the API and the CLI show it: identifiers, state, SEQ_HE, restrictions, never a secret. */
export function subscriberJson(s: SubscriberInfo): Record<string, unknown> {
  return {
    imsi: s.imsi,
    ...(s.iccid === undefined ? {} : { iccid: s.iccid }),
    operator: s.operatorId,
    algorithm: s.algorithm,
    amf: s.amf,
    seqHe: s.seqHe,
    indBits: s.indBits,
    state: s.state,
    restrictions: restrictionsJson(s.restrictions),
    ...(s.tuak === undefined ? {} : { tuak: { ...s.tuak } }),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function epsVectorJson(v: EpsAuthenticationVector): Record<string, unknown> {
  const hex = (b: Buffer): string => b.toString('hex');
  return { imsi: v.imsi, rand: hex(v.rand), xres: hex(v.xres), autn: hex(v.autn), kasme: hex(v.kasme), restrictions: restrictionsJson(v.restrictions) };
}

export function fiveGVectorJson(v: FiveGAuthenticationVector): Record<string, unknown> {
  const hex = (b: Buffer): string => b.toString('hex');
  return {
    authCtxId: v.authCtxId,
    supi: v.supi,
    servingNetworkName: v.servingNetworkName,
    rand: hex(v.rand),
    autn: hex(v.autn),
    hxresStar: hex(v.hxresStar),
    kausf: hex(v.kausf),
    kseaf: hex(v.kseaf),
    restrictions: restrictionsJson(v.restrictions),
    expiresAt: v.expiresAt,
  };
}

/** A resync's outcome: the SQN_MS recovered from AUTS and the fresh vector. */
export function resyncJson(r: ResyncResult): { sqnMs: string; vector: Record<string, unknown> } {
  return { sqnMs: r.sqnMs.toString('hex'), vector: r.type === 'eps' ? epsVectorJson(r.vector) : fiveGVectorJson(r.vector) };
}

// --- errors and authentication ---

function errorReply(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send({ error: { code, message } });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The bearer token check: the SHA-256 of the given token compared in constant time with the configured one's. */
function bearerCheck(token: string): (request: FastifyRequest) => void {
  const expected = digest(token);
  return (request) => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (m === null || !timingSafeEqual(digest(m[1]!), expected)) throw new AucError('UNAUTHORIZED', 'missing or wrong bearer token');
  };
}

/** The route list of the API (method, URL), as registered and as the OpenAPI document must show them. */
export const AUC_ROUTES: readonly (readonly [string, string])[] = [
  ['POST', '/subscribers'],
  ['POST', '/subscribers/import'],
  ['GET', '/subscribers'],
  ['GET', '/subscribers/{imsi}'],
  ['DELETE', '/subscribers/{imsi}'],
  ['POST', '/subscribers/{imsi}/suspend'],
  ['POST', '/subscribers/{imsi}/resume'],
  ['PUT', '/subscribers/{imsi}/restrictions'],
  ['POST', '/vectors/eps'],
  ['POST', '/vectors/eps/resync'],
  ['POST', '/vectors/5g'],
  ['POST', '/vectors/5g/resync'],
  ['POST', '/vectors/5g/confirm'],
  ['POST', '/suci/deconceal'],
];

/**
 * Builds the AuC's fastify app: JSON routes, each with its request and response schema (bounded; unknown fields
 * refused; responses carry only their declared fields), every route behind the bearer token, the OpenAPI document at
 * /openapi.json. Listen with `app.listen({ host, port })`.
 */
export async function createAucServer(ctx: AucContext, options: AucServerOptions): Promise<FastifyInstance> {
  if (typeof options.token !== 'string' || options.token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new AucError('INVALID_ARGUMENT', `the API token must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`);
  }
  const limits = connectionLimits(options.connections);
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }) }),
    bodyLimit: BODY_LIMIT,
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    ...(options.tls === undefined
      ? {}
      : { https: { ...connectionServerOptions(limits), key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' as const } }),
  }) as unknown as FastifyInstance;
  limitConnections(app.server, limits);
  const authenticate = bearerCheck(options.token);
  app.addHook('onRequest', async (request) => authenticate(request));
  // One line per request: method, route, status, time; never a body, a header or a query value.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, route: request.routeOptions.url ?? '(none)', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'AuC request');
  });
  app.setNotFoundHandler((request, reply) => errorReply(reply, 404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 80)}`));
  app.setErrorHandler((error: FastifyError | McimError, request, reply) => {
    if (error instanceof McimError) {
      const status = STATUS[error.code] ?? 400;
      if (status === 401) void reply.header('www-authenticate', 'Bearer');
      if (status === 500) request.log.error({ err: error, route: request.routeOptions.url }, 'AuC request failed');
      return errorReply(reply, status, error.code, status === 500 ? 'internal error' : error.message);
    }
    if (error.validation !== undefined) return errorReply(reply, 400, 'INVALID_ARGUMENT', `invalid request: ${error.message.slice(0, 200)}`);
    if (error.statusCode === 413) return errorReply(reply, 413, 'INPUT_TOO_LARGE', 'request body too large');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return errorReply(reply, error.statusCode, 'INVALID_ARGUMENT', `malformed request: ${error.message.slice(0, 200)}`);
    request.log.error({ err: error, route: request.routeOptions.url }, 'AuC request failed');
    return errorReply(reply, 500, 'INTERNAL', 'internal error');
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'mcim AuC', description: "The operator's authentication centre (HSS/UDM): subscribers, EPS-AKA and 5G-AKA vectors, resync, SUCI.", version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const store = ctx.store;
  const tags = { subscribers: ['subscribers'], vectors: ['vectors'], suci: ['suci'] };

  app.post('/subscribers', { schema: { tags: tags.subscribers, summary: 'Create one subscriber', body: SUBSCRIBER_RECORD, response: responses(SUBSCRIBER, 201) } }, async (request, reply) => {
    const s = parseSubscriberRecord(request.body, 'subscriber');
    await store.addSubscribers([s], ctx.now());
    return reply.code(201).send(subscriberJson(await store.getSubscriber(s.imsi)));
  });

  app.post(
    '/subscribers/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags: tags.subscribers,
        summary: `Import up to ${MAX_IMPORT_BATCH} subscribers in one transaction (all or none)`,
        body: body({ subscribers: { type: 'array', minItems: 1, maxItems: MAX_IMPORT_BATCH, items: SUBSCRIBER_RECORD } }),
        response: responses({ type: 'object', properties: { imported: { type: 'integer' } }, required: ['imported'] }),
      },
    },
    async (request) => {
      const list = (request.body as { subscribers: unknown[] }).subscribers.map((r, i) => parseSubscriberRecord(r, `subscribers[${i}]`));
      await store.addSubscribers(list, ctx.now());
      return { imported: list.length };
    },
  );

  app.get(
    '/subscribers',
    {
      schema: {
        tags: tags.subscribers,
        summary: 'List subscribers in IMSI order (no secrets)',
        querystring: { type: 'object', additionalProperties: false, properties: { after: IMSI, limit: { type: 'string', pattern: '^[1-9][0-9]{0,3}$' } } },
        response: responses({ type: 'object', properties: { subscribers: { type: 'array', items: SUBSCRIBER }, next: { type: 'string' } }, required: ['subscribers'] }),
      },
    },
    async (request) => {
      const q = request.query as { after?: string; limit?: string };
      const limit = q.limit === undefined ? 100 : Math.min(Number(q.limit), MAX_LIST);
      const list = await store.listSubscribers({ ...(q.after === undefined ? {} : { after: q.after }), limit });
      const next = list.length === limit ? list.at(-1)!.imsi : undefined;
      return { subscribers: list.map(subscriberJson), ...(next === undefined ? {} : { next }) };
    },
  );

  const byImsi = { tags: tags.subscribers, params: IMSI_PARAMS };
  app.get('/subscribers/:imsi', { schema: { ...byImsi, summary: 'One subscriber (no secrets)', response: responses(SUBSCRIBER) } }, async (request) =>
    subscriberJson(await store.getSubscriber((request.params as { imsi: string }).imsi)),
  );
  app.delete('/subscribers/:imsi', { schema: { ...byImsi, summary: 'Delete a subscriber', response: responses(null, 204) } }, async (request, reply) => {
    await store.deleteSubscriber((request.params as { imsi: string }).imsi);
    return reply.code(204).send();
  });
  for (const [action, state] of [
    ['suspend', 'suspended'],
    ['resume', 'active'],
  ] as const) {
    app.post(`/subscribers/:imsi/${action}`, { schema: { ...byImsi, summary: `${action === 'suspend' ? 'Suspend' : 'Resume'} a subscriber`, response: responses(SUBSCRIBER) } }, async (request) =>
      subscriberJson(await store.setState((request.params as { imsi: string }).imsi, state, ctx.now())),
    );
  }
  app.put(
    '/subscribers/:imsi/restrictions',
    { schema: { ...byImsi, summary: 'Set the service restrictions returned with every vector', body: RESTRICTIONS, response: responses(SUBSCRIBER) } },
    async (request) => {
      const r = request.body as { dataOnly: boolean; volumeCapBytes: number | null };
      const restrictions = { dataOnly: r.dataOnly, volumeCapBytes: r.volumeCapBytes ?? undefined };
      return subscriberJson(await store.setRestrictions((request.params as { imsi: string }).imsi, restrictions, ctx.now()));
    },
  );

  app.post('/vectors/eps', { schema: { tags: tags.vectors, summary: 'EPS-AKA vector (TS 33.401 A.2)', body: body(EPS_REQUEST), response: responses(EPS_VECTOR) } }, async (request) => {
    const b = request.body as { imsi: string; mcc: string; mnc: string };
    return epsVectorJson(await generateEpsVector(ctx, b.imsi, { mcc: b.mcc, mnc: b.mnc }));
  });
  app.post(
    '/vectors/eps/resync',
    {
      schema: {
        tags: tags.vectors,
        summary: 'Re-synchronise SQN from AUTS, then a fresh EPS-AKA vector (TS 33.102 6.3.5)',
        body: body({ ...EPS_REQUEST, ...RESYNC_REQUEST }),
        response: responses({ type: 'object', properties: { sqnMs: { type: 'string' }, vector: EPS_VECTOR }, required: ['sqnMs', 'vector'] }),
      },
    },
    async (request) => {
      const b = request.body as { imsi: string; mcc: string; mnc: string; rand: string; auts: string };
      const r = await resynchronise(ctx, b.imsi, Buffer.from(b.rand, 'hex'), Buffer.from(b.auts, 'hex'), { type: 'eps', plmn: { mcc: b.mcc, mnc: b.mnc } });
      return resyncJson(r);
    },
  );
  app.post('/vectors/5g', { schema: { tags: tags.vectors, summary: '5G-AKA vector (TS 33.501 6.1.3.2)', body: body(FIVEG_REQUEST), response: responses(FIVEG_VECTOR) } }, async (request) => {
    const b = request.body as { imsi: string; servingNetworkName: string };
    return fiveGVectorJson(await generate5gVector(ctx, b.imsi, b.servingNetworkName));
  });
  app.post(
    '/vectors/5g/resync',
    {
      schema: {
        tags: tags.vectors,
        summary: 'Re-synchronise SQN from AUTS, then a fresh 5G-AKA vector (TS 33.501 6.1.3.3.2)',
        body: body({ ...FIVEG_REQUEST, ...RESYNC_REQUEST }),
        response: responses({ type: 'object', properties: { sqnMs: { type: 'string' }, vector: FIVEG_VECTOR }, required: ['sqnMs', 'vector'] }),
      },
    },
    async (request) => {
      const b = request.body as { imsi: string; servingNetworkName: string; rand: string; auts: string };
      const r = await resynchronise(ctx, b.imsi, Buffer.from(b.rand, 'hex'), Buffer.from(b.auts, 'hex'), { type: '5g', servingNetworkName: b.servingNetworkName });
      return resyncJson(r);
    },
  );
  app.post(
    '/vectors/5g/confirm',
    {
      schema: {
        tags: tags.vectors,
        summary: '5G-AKA confirmation: RES* against the stored XRES* (TS 33.501 6.1.3.2 steps 10-12)',
        body: body({ authCtxId: { type: 'string', pattern: '^[0-9a-f]{32}$' }, resStar: hexBytes(16) }),
        response: responses({ type: 'object', properties: { supi: { type: 'string' }, servingNetworkName: { type: 'string' } }, required: ['supi', 'servingNetworkName'] }),
      },
    },
    async (request) => {
      const b = request.body as { authCtxId: string; resStar: string };
      return confirmResStar(ctx, b.authCtxId, Buffer.from(b.resStar, 'hex'));
    },
  );
  app.post(
    '/suci/deconceal',
    {
      schema: {
        tags: tags.suci,
        summary: 'SUCI to SUPI with the home network private key (TS 33.501 6.12.5, Annex C)',
        body: body({ suci: { type: 'string', minLength: 1, maxLength: MAX_SUCI_LENGTH } }),
        response: responses({
          type: 'object',
          properties: {
            supi: { type: 'string' },
            mcc: { type: 'string' },
            mnc: { type: 'string' },
            msin: { type: 'string' },
            routingIndicator: { type: 'string' },
            profile: { type: 'string' },
            hnKeyId: { type: 'integer' },
          },
          required: ['supi', 'mcc', 'mnc', 'msin', 'routingIndicator', 'profile', 'hnKeyId'],
        }),
      },
    },
    async (request) => deconcealSuci(ctx, (request.body as { suci: string }).suci),
  );
  return app;
}
