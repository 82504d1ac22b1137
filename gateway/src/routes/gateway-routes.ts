import crypto from 'node:crypto';
import type http from 'node:http';
import {
  AppError,
  GATEWAY_ISSUER,
  InternalTokenMinter,
  activeTraceIds,
  createAccessLog,
  createTokenKey,
  createTokenVerifier,
  labelRoute,
  requestSpan,
  sendError,
  traceResponse,
  type Logger,
  type Role,
} from '@coupon-rush/platform';
import type { GatewayConfig } from '../config';
import { authenticate } from '../domain/authenticate';
import { answerPreflight, isPreflight, setCorsHeaders } from '../domain/cors';
import { takeTokens, type Buckets, type LimiterEvents } from '../domain/rate-limit';
import { RouteTable, type RouteMatch } from '../domain/route-table';
import type { ProxyFailure, UpstreamAnswer, UpstreamProxy, UpstreamStream } from '../domain/upstream-proxy';
import type { WaitingDoor } from '../domain/waiting-door';

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new AppError('PAYLOAD_TOO_LARGE', 413, 'Request body is too large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new AppError('PAYLOAD_TOO_LARGE', 413, 'Request body is too large'));
        // Keep reading and discarding, so the 413 can still be written on this connection.
        req.removeAllListeners('data');
        req.resume();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', () => reject(new AppError('BAD_REQUEST', 400, 'Request body could not be read')));
  });
}

/** What the gateway answers when no upstream answer came back; public, so it names no internal service. */
function upstreamRefusal(route: RouteMatch['route'], failure: ProxyFailure): AppError {
  if (failure === 'no-instance' || failure === 'refused') return new AppError('SERVICE_UNAVAILABLE', 503, 'No instance is available to answer this request');
  if (failure === 'timeout') return new AppError('GATEWAY_TIMEOUT', 504, `No answer came within ${route.timeoutMs} ms`);
  return new AppError('BAD_GATEWAY', 502, 'The request could not be answered');
}

/**
 * Set on every answer of the public port, the gateway's own and the upstreams' (an upstream's own
 * value wins: the console page sends a fuller Content-Security-Policy). The CSP only forbids
 * framing, so it restricts no page's scripts.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

/** What the services say among themselves (which instance answered, upstream details): never public. */
function isInternalHeader(name: string): boolean {
  return name === 'x-served-by' || name.startsWith('x-upstream-');
}

type AccessLog = ReturnType<typeof createAccessLog>;

/** The Authorization an upstream gets for the verified user (undefined on a public route without a token). */
type Credential = () => string | undefined;

/** The instance that answered, kept for the access log once its header is stripped from the answer. */
const servedByOf = new WeakMap<http.ServerResponse, string>();

/** The access log line, written when the response is finished; never the query or headers. */
function logAccess(write: AccessLog, req: http.IncomingMessage, res: http.ServerResponse, requestId: string, access: { route: string }): void {
  const started = performance.now();
  const ids = activeTraceIds(requestSpan(req));
  res.once('finish', () => {
    const servedBy = servedByOf.get(res);
    write({
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0],
      route: access.route,
      status: res.statusCode,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      requestId,
      servedBy,
      trace_id: ids?.trace_id,
      span_id: ids?.span_id,
    });
  });
}

/** Paths under /api/ that the gateway answers itself (through Express) instead of proxying. */
const OWN_API = /^\/api\/docs\/?(\?|$)/;

const NO_BODY = Buffer.alloc(0);

/** RFC 9112 §6.3: a request has a body only if it says so with Content-Length or Transfer-Encoding. */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

const UNSAFE_PATH = /(^|\/)\.\.?(\/|$)|%2f|%5c|\\/i;

/**
 * Everything under /api/, and any other path a route names, is proxied, answered straight from node's HTTP server (Express's own
 * per-request cost is several times that of the proxying itself); the rest (health, metrics,
 * refresh, the API document) falls through to Express.
 */
export interface GatewayMetrics extends LimiterEvents {
  /** A request the gateway answered itself because no upstream could: 503, 504, 502. */
  upstreamFailure(route: string, outcome: string): void;
  /** A waiting-room turn, answered at the door (`gateway`: a ticket or a refusal) or sent on to the service behind the route, and why. */
  turn(answeredBy: string, why: string): void;
}

/** An upstream's headers as the client may see them. */
function publicHeaders(res: http.ServerResponse, headers: http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  for (const name in headers) {
    if (!isInternalHeader(name)) continue;
    if (name === 'x-served-by' && typeof headers[name] === 'string') servedByOf.set(res, headers[name]);
    delete headers[name];
  }
  return headers;
}

/** An upstream's answer, as against an error (which has a status too, but no body text). */
function isUpstreamAnswer(answer: unknown): answer is UpstreamAnswer {
  return !(answer instanceof Error) && typeof (answer as UpstreamAnswer)?.status === 'number' && typeof (answer as UpstreamAnswer).body === 'string';
}

function isUpstreamStream(answer: unknown): answer is UpstreamStream {
  return !(answer instanceof Error) && typeof (answer as UpstreamStream)?.relayTo === 'function';
}

export function gatewayRoutes(config: () => GatewayConfig, proxy: UpstreamProxy, buckets: Buckets, door: WaitingDoor, bodyLimitBytes: number, logger: Logger, metrics: GatewayMetrics) {
  const accessLog = createAccessLog(logger.defaultMeta?.service ?? 'gateway');
  let table = new RouteTable(config().routes);
  const verifierOf = (cfg: GatewayConfig) => createTokenVerifier(createTokenKey(cfg.jwt.secret), cfg.jwt.issuer);
  const minterOf = (cfg: GatewayConfig) => new InternalTokenMinter(createTokenKey(cfg.platform.internalToken.secret), GATEWAY_ISSUER, cfg.platform.internalToken.ttlSeconds);
  let verifier = verifierOf(config());
  let minter = minterOf(config());
  let seen = config();
  const current = () => {
    // Rebuilt only when a refresh replaced the configuration object.
    if (seen !== config()) {
      seen = config();
      table = new RouteTable(seen.routes);
      verifier = verifierOf(seen);
      minter = minterOf(seen);
    }
    return { table, verifier, minter, cfg: seen };
  };

  /**
   * Where every answer on the proxy path is written: an upstream's as it came (headers and body in
   * one write, or an event stream relayed), anything else — a refusal, a failure, a bug — by the platform's sendError.
   */
  const reply = (req: http.IncomingMessage, res: http.ServerResponse, answer: unknown): void => {
    if (isUpstreamStream(answer)) {
      res.writeHead(answer.status, publicHeaders(res, answer.headers));
      res.flushHeaders();
      return answer.relayTo(res);
    }
    if (!isUpstreamAnswer(answer)) return sendError(logger, req, res, answer);
    res.writeHead(answer.status, publicHeaders(res, answer.headers));
    res.end(answer.body, 'latin1');
  };

  /** Sends the request upstream and replies with its answer; `settled` is told once it is written. */
  const forward = (req: http.IncomingMessage, res: http.ServerResponse, match: RouteMatch, credential: Credential, requestId: string, body: Buffer, settled?: () => void) => {
    proxy.forward(req, body, { service: match.route.service, path: match.upstreamPath, timeoutMs: match.route.timeoutMs, credential: credential(), requestId }, (result) => {
      if (typeof result !== 'string') reply(req, res, result);
      else {
        metrics.upstreamFailure(match.route.id, result);
        reply(req, res, upstreamRefusal(match.route, result));
      }
      settled?.();
    });
  };

  /** A waiting user's turn answered here (WaitingDoor), anything else by the upstream. */
  const answerTurn = (req: http.IncomingMessage, res: http.ServerResponse, match: RouteMatch, userId: number, credential: Credential, requestId: string, body: Buffer) => {
    const couponId = door.couponOf(match.upstreamPath);
    const sendOn = (why: string, settled?: () => void) => {
      metrics.turn(match.route.service, why);
      forward(req, res, match, credential, requestId, body, settled);
    };
    if (couponId === undefined || !Number.isSafeInteger(userId)) return sendOn('path');
    const atTheDoor = (waited: boolean): Promise<void> =>
      door.ticket(couponId, userId, req.method === 'POST').then((ticket) => {
        if (ticket === 'NO_TERMS') {
          // One turn goes to issue-coupon, which leaves the room's terms; the others of the
          // moment wait for it and come back here, instead of all going.
          const asked = door.termsAsked(couponId);
          if (asked && !waited) return asked.then(() => atTheDoor(true));
          return sendOn('no-terms', asked ? undefined : door.askForTerms(couponId));
        }
        if (typeof ticket === 'string') return sendOn(ticket);
        if (ticket instanceof AppError) {
          metrics.turn('gateway', 'refusal');
          return reply(req, res, ticket);
        }
        metrics.turn('gateway', 'ticket');
        const text = JSON.stringify(ticket);
        servedByOf.set(res, 'gateway');
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    atTheDoor(false).catch((err) => reply(req, res, err));
  };

  /** What passes the route's limiters: a waiting room's turn, or the upstream. */
  const pass = (req: http.IncomingMessage, res: http.ServerResponse, match: RouteMatch, identity: ReturnType<typeof authenticate>, credential: Credential, requestId: string, body: Buffer) => {
    if (match.route.waitingRoom && identity) return answerTurn(req, res, match, Number(identity.userId), credential, requestId, body);
    forward(req, res, match, credential, requestId, body);
  };

  /** The route's limiters, then on; a refusal (429) is answered by `reply`. */
  const limitThenForward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    match: RouteMatch,
    identity: ReturnType<typeof authenticate>,
    credential: Credential,
    requestId: string,
    body: Buffer,
  ) => {
    if (match.route.rateLimits.length === 0) return pass(req, res, match, identity, credential, requestId, body);
    takeTokens(match.route.rateLimits, buckets, req, identity, body, metrics).then(
      (headers) => {
        if (headers) for (const name in headers) res.setHeader(name, headers[name]);
        pass(req, res, match, identity, credential, requestId, body);
      },
      (err) => reply(req, res, err),
    );
  };

  /** Answers one request under /api/; refusals are thrown as AppErrors and answered by `reply`. */
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const { table, verifier, minter, cfg } = current();
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 64)) || crypto.randomUUID();
    res.setHeader('x-request-id', requestId);
    // W3C trace-context `traceresponse`: the caller learns which trace to look up in Jaeger.
    const traced = traceResponse(requestSpan(req));
    if (traced) res.setHeader('traceresponse', traced);
    const access = { route: 'unmatched' };
    if (cfg.accessLog && logger.isLevelEnabled('info')) logAccess(accessLog, req, res, requestId, access);
    const path = (req.url ?? '/').split('?')[0];
    if (UNSAFE_PATH.test(path)) throw new AppError('BAD_PATH', 400, 'Path segments . and .. and encoded separators are not allowed');
    const method = req.method ?? 'GET';
    const match = table.match(method, req.url ?? '/');
    if (!match) throw new AppError('NOT_FOUND', 404, `No route for ${method} ${path}`);
    labelRoute(res, match.route.id);
    access.route = match.route.id;
    const identity = authenticate(req.headers.authorization, verifier);
    if (!match.route.public && !identity) throw new AppError('UNAUTHORIZED', 401, 'A valid Bearer token is required');
    // The service behind the route gets the verified user as a token addressed to it alone (its
    // Consul name), never the user's own token nor a client's X-User-* headers.
    // Made only for a request that goes upstream (the door answers most turns itself).
    const credential = () => identity && `Bearer ${minter.forUser(identity.userId, identity.role as Role, match.route.service + cfg.platform.consul.serviceSuffix)}`;
    // Most requests (every issue POST, every GET) carry no body: no stream work for them.
    if (!hasBody(req)) {
      req.resume();
      return limitThenForward(req, res, match, identity, credential, requestId, NO_BODY);
    }
    readBody(req, bodyLimitBytes)
      .then((body) => limitThenForward(req, res, match, identity, credential, requestId, body))
      // A refusal of the body, or a bug on this path: that request's answer, never an unhandled rejection.
      .catch((err) => reply(req, res, err));
  };
  /**
   * Every request of the public port passes here first, those Express answers (health, the API
   * document, 404s) too: each answer gets the security and CORS headers, and a CORS preflight is
   * answered before any route or token is looked at (a browser sends it without credentials).
   */
  const hotRoute = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    for (const name in SECURITY_HEADERS) res.setHeader(name, SECURITY_HEADERS[name]);
    const { cors } = current().cfg;
    if (isPreflight(req)) {
      answerPreflight(cors, req, res);
      return true;
    }
    setCorsHeaders(cors, req, res);
    if (!req.url || OWN_API.test(req.url)) return false;
    // Under /api/ every path is the table's (one it does not know is its 404); elsewhere only the
    // paths a route names (the console's page), the rest being the gateway's own (health, metrics).
    if (!req.url.startsWith('/api/') && !current().table.match(req.method ?? 'GET', req.url)) return false;
    try {
      handle(req, res);
    } catch (err) {
      reply(req, res, err);
    }
    return true;
  };
  /** An operator's admin token, or the configured trace header with its value (compared in constant time). */
  const trustsInboundTrace = (req: http.IncomingMessage): boolean => {
    const { verifier, cfg } = current();
    const { header, value } = cfg.traceTrust;
    const given = header ? req.headers[header] : undefined;
    if (header && value && typeof given === 'string') {
      const [a, b] = [Buffer.from(given), Buffer.from(value)];
      if (a.length === b.length && crypto.timingSafeEqual(a, b)) return true;
    }
    return authenticate(req.headers.authorization, verifier)?.role === 'ADMIN';
  };

  return { hotRoute, trustsInboundTrace, table: () => current().table };
}
