// The eIM's ESipa interface over HTTPS (SGP.32 v1.2 6.1-6.3 ASN.1 binding: POST /gsma/rsp2/asn1; 6.4 JSON binding: POST /gsma/rsp2/esipa/<function>), retrieve mode: GetEimPackage, ProvideEimPackageResult, HandleNotification; the indirect profile download relayed to ES9+.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthenticateClientResponseEsipa,
  CancelSessionResponseEsipa,
  EimAcknowledgements,
  EsipaMessageFromIpaToEim,
  GetBoundProfilePackageResponseEsipa,
  GetEimPackageResponse,
  InitiateAuthenticationResponseEsipa,
  ProvideEimPackageResultResponse,
  type EsipaMessageFromIpaToEim as FromIpa,
} from '../asn1/definitions/sgp32.js';
import { Asn1Error } from '../asn1/errors.js';
import { decode, encode } from '../asn1/schema.js';
import { decodeTlv, encodeTlv } from '../asn1/tlv.js';
import { EIM_PACKAGE_RESULT_BUDGET, ESIPA_FUNCTIONS, type EsipaFunctionName } from '../http/esipaFunctions.js';
import type { FieldValues } from '../http/es9plusFunctions.js';
import { ADMIN_PROTOCOL, ADMIN_PROTOCOL_PATTERN, FunctionFailure } from '../http/jsonBinding.js';
import type { Logger } from '../http/logging.js';
import { createHttpsServer, registerJsonFunction, type HttpsOptions } from '../http/server.js';
import type { PackageKind } from '../store/eimStore.js';
import { eimContext, type EimContext, type EimOptions } from './context.js';
import { EimError } from './errors.js';
import { esipaLimits, limitEsipa, type EsipaLimits, type LimitedBy } from './esipaLimits.js';
import { getEimPackage } from './getEimPackage.js';
import { handleNotification } from './handleNotification.js';
import { provideEimPackageResult, provideEimPackageResultMessage, type ProvideResultAnswer } from './provideEimPackageResult.js';
import { relayAuthenticateClient } from './relayAuthenticateClient.js';
import { relayCancelSession } from './relayCancelSession.js';
import { UNDEFINED_ERROR, type RelayContext } from './relayContext.js';
import { relayGetBoundProfilePackage } from './relayGetBoundProfilePackage.js';
import { relayInitiateAuthentication } from './relayInitiateAuthentication.js';

export const ESIPA_ASN1_PATH = '/gsma/rsp2/asn1';
export const ESIPA_JSON_PATH = '/gsma/rsp2/esipa';
export const ASN1_CONTENT_TYPE = 'application/x-gsma-rsp-asn1';
/** The largest ASN.1-binding body: one ProvideEimPackageResult at its budget, with room for its envelope. */
export const ESIPA_ASN1_BODY_LIMIT = EIM_PACKAGE_RESULT_BUDGET + 1024;

/** The ESipa functions of retrieve mode, as named in refusals. */
export type EsipaFunction =
  | 'GetEimPackage'
  | 'ProvideEimPackageResult'
  | 'HandleNotification'
  | 'InitiateAuthentication'
  | 'AuthenticateClient'
  | 'GetBoundProfilePackage'
  | 'CancelSession';

export interface EimServerOptions extends EimOptions {
  /** The eIM's TLS certificate and key (PEM). */
  readonly tls: HttpsOptions;
  /** Called with each refused request's typed error (a forged signature, an unknown transaction...): the IPA sees only the ESipa code. */
  readonly onRefusal?: (error: EimError, fn: EsipaFunction) => void;
  /** Called with the EID of each package result stored (a fleet operation waiting for it continues at once). */
  readonly onPackageResult?: (eid: string) => void;
  /** Called with what the SM-DP+ answered to each relayed ES9+ call (the fields as received), before the IPA gets them. */
  readonly onRelayed?: (fn: EsipaFunction, answer: Readonly<Record<string, Buffer>>) => void;
  /** Called with unexpected errors (the IPA sees a generic internal error). */
  readonly onInternalError?: (error: unknown) => void;
  readonly logger?: Logger;
  /** Per-source rate and concurrency caps of ESipa requests (src/eim/esipaLimits.ts); each given one replaces its default. */
  readonly esipaLimits?: Partial<EsipaLimits>;
  /** Called with each ESipa request refused by those limits (before its body is read). */
  readonly onLimited?: (by: LimitedBy, source: string) => void;
}

export interface EimServer {
  readonly app: FastifyInstance;
  readonly context: EimContext;
  /** The ESipa limits in force. */
  readonly limits: EsipaLimits;
}

const KIND_ALTERNATIVE: Readonly<Record<PackageKind, 'euiccPackageRequest' | 'ipaEuiccDataRequest' | 'profileDownloadTriggerRequest'>> = {
  euiccPackage: 'euiccPackageRequest',
  ipaEuiccData: 'ipaEuiccDataRequest',
  profileDownloadTrigger: 'profileDownloadTriggerRequest',
};

/** Builds the ESipa HTTPS server of the eIM; call `app.listen({ host, port })` to serve. */
export function createEimServer(options: EimServerOptions): EimServer {
  const ctx = eimContext(options);
  const stored = (a: ProvideResultAnswer): ProvideResultAnswer => {
    options.onPackageResult?.(a.eid);
    return a;
  };
  const { logger } = options;
  const app = createHttpsServer({ ...options.tls, ...(logger === undefined ? {} : { logger }) });
  const limits = esipaLimits(options.esipaLimits);
  limitEsipa(app, {
    limits,
    prefixes: [ESIPA_ASN1_PATH, `${ESIPA_JSON_PATH}/`],
    jsonPrefix: `${ESIPA_JSON_PATH}/`,
    now: ctx.now,
    onLimited: (by, source) => {
      // Debug only: a flood of refusals must not become a flood of log lines.
      logger?.debug({ by, source }, 'ESipa request limited');
      options.onLimited?.(by, source);
    },
  });
  const onError = (e: unknown): void => {
    logger?.error({ err: e }, 'internal error');
    options.onInternalError?.(e);
  };
  const refused = (e: EimError, fn: EsipaFunction): void => {
    logger?.warn({ code: e.code, function: fn }, 'ESipa request refused');
    options.onRefusal?.(e, fn);
  };
  /** Runs an eIM function; an EimError becomes the value `onRefusal` maps it to. */
  async function guarded<T>(fn: EsipaFunction, run: () => Promise<T>, onRefused: (e: EimError) => T): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof EimError)) throw e;
      refused(e, fn);
      return onRefused(e);
    }
  }
  const provideCode = (e: EimError): number => e.esipaCode ?? 127;
  if (ctx.forwarder !== undefined) {
    const forwarder = ctx.forwarder;
    app.addHook('onReady', async () => forwarder.kick());
    app.addHook('onClose', async () => forwarder.close());
  }
  const relayed: Relayed = (fn, answer) => {
    options.onRelayed?.(fn, answer as unknown as Readonly<Record<string, Buffer>>);
    return answer;
  };
  registerAsn1Binding(app, ctx, guarded, provideCode, onError, stored, relayed);
  registerJsonRelay(app, ctx, guarded, onError, relayed);

  // ---- JSON binding ----
  const fns = ESIPA_FUNCTIONS;
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/getEimPackage`,
    fns.getEimPackage,
    async (r) => {
      const answer = await getEimPackage(ctx, {
        eidValue: r.eidValue,
        ...(r.notifyStateChange === true ? { notifyStateChange: null } : {}),
        ...(r.stateChangeCause === undefined ? {} : { stateChangeCause: r.stateChangeCause }),
        ...(r.rPLMN === undefined ? {} : { rPLMN: r.rPLMN }),
      });
      return 'eimPackageError' in answer ? { eimPackageError: answer.eimPackageError } : { [KIND_ALTERNATIVE[answer.kind]]: answer.der };
    },
    onError,
  );
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/provideEimPackageResult`,
    fns.provideEimPackageResult,
    (r) =>
      guarded(
        'ProvideEimPackageResult',
        async () => acknowledgements(stored(await provideEimPackageResult(ctx, r.eidValue, r.eimPackageResult))),
        (e) => ({ provideEimPackageResultError: provideCode(e) }),
      ),
    onError,
  );
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/handleNotification`,
    fns.handleNotification,
    async (r) => {
      if ((r.pendingNotification === undefined) === (r.provideEimPackageResult === undefined)) {
        throw new FunctionFailure('8.1', '2.1', 'handleNotification carries either pendingNotification or provideEimPackageResult');
      }
      await guarded(
        'HandleNotification',
        async () => {
          if (r.pendingNotification !== undefined) await handleNotification(ctx, r.pendingNotification);
          else stored(await provideEimPackageResultMessage(ctx, r.provideEimPackageResult!));
        },
        (e) => {
          throw notificationFailure(e);
        },
      );
      return {};
    },
    onError,
  );
  return { app, context: ctx, limits };
}

function acknowledgements(a: ProvideResultAnswer): { eimAcknowledgements?: Buffer; provideEimPackageResultError?: number } {
  return a.eimAcknowledgements.length === 0 ? {} : { eimAcknowledgements: encode(EimAcknowledgements, [...a.eimAcknowledgements]) };
}

/** A refused notification on the JSON binding: SGP.22's subject and reason codes (8.1 eUICC / 6.1 verification failed; 8.1.1 EID / 3.9 unknown; 8.1 / 2.1 invalid). */
function notificationFailure(e: EimError): FunctionFailure {
  switch (e.code) {
    case 'RESULT_SIGNATURE_INVALID':
      return new FunctionFailure('8.1', '6.1', e.message);
    case 'DEVICE_NOT_FOUND':
    case 'NOTIFICATION_UNATTRIBUTABLE':
    case 'UNKNOWN_TRANSACTION':
      return new FunctionFailure('8.1.1', '3.9', e.message);
    default:
      return new FunctionFailure('8.1', '2.1', e.message);
  }
}

type Guarded = <T>(fn: EsipaFunction, run: () => Promise<T>, onRefused: (e: EimError) => T) => Promise<T>;
type Relayed = <T extends object>(fn: EsipaFunction, answer: T) => T;

/**
 * POST /gsma/rsp2/asn1: one EsipaMessageFromIpaToEim per request, its answer an EsipaMessageFromEimToIpa (200) or
 * nothing (204, HandleNotification). Refused before any work: another content type (415), a body over
 * ESIPA_ASN1_BODY_LIMIT (413), no gsma/rsp/v2.x.y X-Admin-Protocol or a body that is not one message (400). The indirect
 * profile download functions are relayed to ES9+ (asn1Relay; undefinedError when the eIM has no relay configured).
 */
function registerAsn1Binding(
  app: FastifyInstance,
  ctx: EimContext,
  guarded: Guarded,
  provideCode: (e: EimError) => number,
  onError: (e: unknown) => void,
  stored: (a: ProvideResultAnswer) => ProvideResultAnswer,
  relayed: Relayed,
): void {
  app.addContentTypeParser(ASN1_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: ESIPA_ASN1_BODY_LIMIT }, (_request, body, done) => done(null, body));
  const bare = (reply: FastifyReply, status: number): FastifyReply => reply.code(status).header('X-Admin-Protocol', ADMIN_PROTOCOL).send();
  const errorHandler = (error: { statusCode?: number }, _request: FastifyRequest, reply: FastifyReply): void => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) onError(error);
    void bare(reply, status);
  };
  app.post(ESIPA_ASN1_PATH, { bodyLimit: ESIPA_ASN1_BODY_LIMIT, errorHandler }, async (request, reply) => {
    const protocol = request.headers['x-admin-protocol'];
    if (typeof protocol !== 'string' || !ADMIN_PROTOCOL_PATTERN.test(protocol)) return bare(reply, 400);
    const body = request.body;
    if (!Buffer.isBuffer(body)) return bare(reply, 415);
    let message: FromIpa;
    try {
      message = decode(EsipaMessageFromIpaToEim, body);
    } catch (e) {
      if (e instanceof Asn1Error) return bare(reply, 400);
      throw e;
    }
    const answer = await asn1Answer(ctx, guarded, provideCode, message, body, stored, relayed);
    if (answer === undefined) return bare(reply, 204);
    if (answer === 'refused') return bare(reply, 400);
    return reply.code(200).header('X-Admin-Protocol', ADMIN_PROTOCOL).header('Content-Type', ASN1_CONTENT_TYPE).send(answer);
  });
}

async function asn1Answer(
  ctx: EimContext,
  guarded: Guarded,
  provideCode: (e: EimError) => number,
  message: FromIpa,
  body: Buffer,
  stored: (a: ProvideResultAnswer) => ProvideResultAnswer,
  relayed: Relayed,
): Promise<Buffer | undefined | 'refused'> {
  switch (message.type) {
    case 'getEimPackageRequest': {
      const answer = await getEimPackage(ctx, message.value);
      if ('eimPackageError' in answer) return encode(GetEimPackageResponse, { type: 'eimPackageError', value: answer.eimPackageError });
      // The package exactly as issued and signed: BF4F around it.
      return encodeTlv(0xbf4f, answer.der);
    }
    case 'provideEimPackageResult':
      return guarded(
        'ProvideEimPackageResult',
        async () => {
          const a = stored(await provideEimPackageResultMessage(ctx, body));
          return encode(
            ProvideEimPackageResultResponse,
            a.eimAcknowledgements.length === 0 ? { type: 'emptyResponse', value: {} } : { type: 'eimAcknowledgements', value: [...a.eimAcknowledgements] },
          );
        },
        (e) => encode(ProvideEimPackageResultResponse, { type: 'provideEimPackageResultError', value: provideCode(e) }),
      );
    case 'handleNotificationEsipa': {
      // BF3D { A0 { notification } } or BF3D { BF50 ... }: the inner element as received.
      const inner = decodeTlv(body).children![0]!;
      return guarded(
        'HandleNotification',
        async () => {
          if (message.value.type === 'pendingNotification') await handleNotification(ctx, Buffer.from(inner.children![0]!.raw));
          else stored(await provideEimPackageResultMessage(ctx, Buffer.from(inner.raw)));
          return undefined;
        },
        () => 'refused' as const,
      );
    }
    case 'initiateAuthenticationRequestEsipa':
    case 'authenticateClientRequestEsipa':
    case 'getBoundProfilePackageRequestEsipa':
    case 'cancelSessionRequestEsipa':
      return asn1Relay(ctx, guarded, message, body, relayed);
    case 'transferEimPackageResponse':
      return 'refused';
  }
}

/** The raw children of a message's outer element (the relayed parts are forwarded as received). */
function childrenOf(body: Buffer): Buffer[] {
  return (decodeTlv(body).children ?? []).map((c) => Buffer.from(c.raw));
}

function relayOf(ctx: EimContext): RelayContext {
  if (ctx.relay === undefined) throw new EimError('RELAY_REFUSED', 'this eIM does not relay ES9+ (no relay configured)', { esipaCode: UNDEFINED_ERROR });
  return ctx.relay;
}

/**
 * The indirect profile download in the ASN.1 binding (SGP.32 5.14.1-5.14.4): each request relayed to ES9+ as
 * received, the SM-DP+'s signed data returned unchanged inside the ESipa response (checked against its definition);
 * a refusal or an SM-DP+ failure is the function's ESipa error integer.
 */
async function asn1Relay(ctx: EimContext, guarded: Guarded, message: FromIpa, body: Buffer, relayed: Relayed): Promise<Buffer> {
  const parts = childrenOf(body);
  // What the SM-DP+ sent must make a valid ESipa response; if not, the IPA gets undefinedError, not a broken message.
  const checked = <T>(codec: Parameters<typeof decode<T>>[0], der: Buffer): Buffer => {
    try {
      decode(codec, der);
    } catch (cause) {
      if (cause instanceof Asn1Error) throw new EimError('RELAY_FAILED', `the SM-DP+'s answer does not fit the ESipa response: ${cause.message}`, { esipaCode: UNDEFINED_ERROR, cause });
      throw cause;
    }
    return der;
  };
  switch (message.type) {
    case 'initiateAuthenticationRequestEsipa': {
      const r = message.value;
      const euiccInfo1 = parts.find((p) => p[0] === 0xbf && p[1] === 0x20);
      return guarded(
        'InitiateAuthentication',
        async () => {
          const a = relayed('InitiateAuthentication', await relayInitiateAuthentication(ctx, relayOf(ctx), {
            euiccChallenge: r.euiccChallenge,
            ...(r.smdpAddress === undefined ? {} : { smdpAddress: r.smdpAddress }),
            ...(euiccInfo1 === undefined ? {} : { euiccInfo1 }),
            ...(r.eimTransactionId === undefined ? {} : { eimTransactionId: r.eimTransactionId }),
          }));
          return checked(
            InitiateAuthenticationResponseEsipa,
            encodeTlv(0xbf39, encodeTlv(0xa0, [encodeTlv(0x80, a.transactionId), a.serverSigned1, a.serverSignature1, a.euiccCiPKIdToBeUsed, a.serverCertificate])),
          );
        },
        (e) => encode(InitiateAuthenticationResponseEsipa, { type: 'initiateAuthenticationErrorEsipa', value: e.esipaCode ?? UNDEFINED_ERROR }),
      );
    }
    case 'authenticateClientRequestEsipa':
      return guarded(
        'AuthenticateClient',
        async () => {
          const a = relayed('AuthenticateClient', await relayAuthenticateClient(ctx, relayOf(ctx), message.value.transactionId, parts[1]!));
          return checked(
            AuthenticateClientResponseEsipa,
            encodeTlv(0xbf3b, encodeTlv(0xa0, [encodeTlv(0x80, a.transactionId), a.profileMetadata, a.smdpSigned2, a.smdpSignature2, a.smdpCertificate])),
          );
        },
        (e) => encode(AuthenticateClientResponseEsipa, { type: 'authenticateClientErrorEsipa', value: e.esipaCode ?? UNDEFINED_ERROR }),
      );
    case 'getBoundProfilePackageRequestEsipa':
      return guarded(
        'GetBoundProfilePackage',
        async () => {
          const a = relayed('GetBoundProfilePackage', await relayGetBoundProfilePackage(ctx, relayOf(ctx), message.value.transactionId, parts[1]!));
          let tag: number | undefined;
          try {
            tag = decodeTlv(a.boundProfilePackage).tag;
          } catch (cause) {
            if (!(cause instanceof Asn1Error)) throw cause;
          }
          if (tag !== 0xbf36) throw new EimError('RELAY_FAILED', 'the SM-DP+ sent no BoundProfilePackage (BF36)', { esipaCode: UNDEFINED_ERROR });
          return encodeTlv(0xbf3a, encodeTlv(0xa0, [encodeTlv(0x80, a.transactionId), a.boundProfilePackage]));
        },
        (e) => encode(GetBoundProfilePackageResponseEsipa, { type: 'getBoundProfilePackageErrorEsipa', value: e.esipaCode ?? UNDEFINED_ERROR }),
      );
    case 'cancelSessionRequestEsipa':
      return guarded(
        'CancelSession',
        async () => {
          // A1 { the eUICC's CancelSessionResponse alternative }: ES9+ takes it as BF41 (SGP.22 CancelSessionResponse).
          const inner = decodeTlv(parts[1]!).children![0]!;
          await relayCancelSession(ctx, relayOf(ctx), message.value.transactionId, encodeTlv(0xbf41, inner.raw));
          return encode(CancelSessionResponseEsipa, { type: 'cancelSessionOk', value: {} });
        },
        (e) => encode(CancelSessionResponseEsipa, { type: 'cancelSessionError', value: e.esipaCode ?? UNDEFINED_ERROR }),
      );
    default:
      throw new EimError('INVALID_ARGUMENT', `${message.type} is not relayed`);
  }
}

type JsonAnswer<N extends EsipaFunctionName> = FieldValues<(typeof ESIPA_FUNCTIONS)[N]['response']>;

/** The indirect profile download in the JSON binding: the ES9+ fields under ESipa function paths, or the ESipa error integer. */
function registerJsonRelay(app: FastifyInstance, ctx: EimContext, guarded: Guarded, onError: (e: unknown) => void, relayed: Relayed): void {
  const fns = ESIPA_FUNCTIONS;
  const code = (e: EimError): number => e.esipaCode ?? UNDEFINED_ERROR;
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/initiateAuthentication`,
    fns.initiateAuthentication,
    (r) =>
      guarded<JsonAnswer<'initiateAuthentication'>>(
        'InitiateAuthentication',
        async () => ({ ...relayed('InitiateAuthentication', await relayInitiateAuthentication(ctx, relayOf(ctx), r)) }),
        (e) => ({ initiateAuthenticationErrorEsipa: code(e) }),
      ),
    onError,
  );
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/authenticateClient`,
    fns.authenticateClient,
    (r) =>
      guarded<JsonAnswer<'authenticateClient'>>(
        'AuthenticateClient',
        async () => ({ ...relayed('AuthenticateClient', await relayAuthenticateClient(ctx, relayOf(ctx), r.transactionId, r.authenticateServerResponse)) }),
        (e) => ({ authenticateClientErrorEsipa: code(e) }),
      ),
    onError,
  );
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/getBoundProfilePackage`,
    fns.getBoundProfilePackage,
    (r) =>
      guarded<JsonAnswer<'getBoundProfilePackage'>>(
        'GetBoundProfilePackage',
        async () => ({ ...relayed('GetBoundProfilePackage', await relayGetBoundProfilePackage(ctx, relayOf(ctx), r.transactionId, r.prepareDownloadResponse)) }),
        (e) => ({ getBoundProfilePackageErrorEsipa: code(e) }),
      ),
    onError,
  );
  registerJsonFunction(
    app,
    `${ESIPA_JSON_PATH}/cancelSession`,
    fns.cancelSession,
    (r) =>
      guarded<JsonAnswer<'cancelSession'>>(
        'CancelSession',
        async () => {
          await relayCancelSession(ctx, relayOf(ctx), r.transactionId, r.cancelSessionResponse);
          return {};
        },
        (e) => ({ cancelSessionError: code(e) }),
      ),
    onError,
  );
}
