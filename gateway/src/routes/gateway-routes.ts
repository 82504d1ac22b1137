import crypto from 'node:crypto';
import type http from 'node:http';
import { AppError, activeTraceIds, createAccessLog, createTokenKey, createTokenVerifier, labelRoute, problem, requestSpan, sendProblem, traceResponse, type Logger } from '@coupon-rush/platform';
import type { GatewayConfig } from '../config';
import { authenticate } from '../domain/authenticate';
import { RouteTable, type RouteMatch } from '../domain/route-table';
import type { ProxyOutcome, UpstreamProxy } from '../domain/upstream-proxy';

function send(res: http.ServerResponse, status: number, code: string, detail: string): void {
  sendProblem(res, status, problem(status, code, detail));
}

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
    req.on('error', reject);
  });
}

type AccessLog = ReturnType<typeof createAccessLog>;

/** The access log line, written when the response is finished; never the query or headers. */
function logAccess(write: AccessLog, req: http.IncomingMessage, res: http.ServerResponse, requestId: string, access: { route: string }): void {
  const started = performance.now();
  const ids = activeTraceIds(requestSpan(req));
  res.once('finish', () => {
    const servedBy = res.getHeader('x-served-by');
    write({
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0],
      route: access.route,
      status: res.statusCode,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      requestId,
      servedBy: typeof servedBy === 'string' ? servedBy : undefined,
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
 * Everything under /api/ is proxied, answered straight from node's HTTP server (Express's own
 * per-request cost is several times that of the proxying itself); the rest (health, metrics,
 * refresh, the API document) falls through to Express.
 */
export interface GatewayMetrics {
  /** A request the gateway answered itself because no upstream could: 503, 504, 502. */
  upstreamFailure(route: string, outcome: string): void;
}

export function gatewayRoutes(config: () => GatewayConfig, proxy: UpstreamProxy, bodyLimitBytes: number, logger: Logger, metrics: GatewayMetrics) {
  const accessLog = createAccessLog(logger.defaultMeta?.service ?? 'gateway');
  let table = new RouteTable(config().routes);
  const verifierOf = (cfg: GatewayConfig) => createTokenVerifier(createTokenKey(cfg.jwt.secret), cfg.jwt.issuer);
  let verifier = verifierOf(config());
  let seen = config();
  const current = () => {
    // Rebuilt only when a refresh replaced the configuration object.
    if (seen !== config()) {
      seen = config();
      table = new RouteTable(seen.routes);
      verifier = verifierOf(seen);
    }
    return { table, verifier, cfg: seen };
  };

  /** What the gateway answers itself when the upstream could not. */
  const answerFailure = (res: http.ServerResponse, route: RouteMatch['route'], requestId: string, outcome: ProxyOutcome | 'no-instance') => {
    metrics.upstreamFailure(route.id, outcome);
    if (outcome === 'no-instance' || outcome === 'refused') return send(res, 503, 'SERVICE_UNAVAILABLE', `No healthy instance of ${route.service}`);
    if (outcome === 'timeout') return send(res, 504, 'GATEWAY_TIMEOUT', `${route.service} did not answer in ${route.timeoutMs} ms`);
    logger.warn('upstream failed', { route: route.id, requestId });
    send(res, 502, 'BAD_GATEWAY', `${route.service} failed to answer`);
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, match: RouteMatch, identity: ReturnType<typeof authenticate>, requestId: string, body: Buffer) => {
    proxy.forward(req, body, res, { service: match.route.service, path: match.upstreamPath, timeoutMs: match.route.timeoutMs, identity, requestId }, (outcome) => {
      if (outcome !== 'ok') answerFailure(res, match.route, requestId, outcome);
    });
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const { table, verifier, cfg } = current();
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 64)) || crypto.randomUUID();
    res.setHeader('x-request-id', requestId);
    // W3C trace-context `traceresponse`: the caller learns which trace to look up in Jaeger.
    const traced = traceResponse(requestSpan(req));
    if (traced) res.setHeader('traceresponse', traced);
    const access = { route: 'unmatched' };
    if (cfg.accessLog && logger.isLevelEnabled('info')) logAccess(accessLog, req, res, requestId, access);
    if (UNSAFE_PATH.test((req.url ?? '/').split('?')[0])) return send(res, 400, 'BAD_PATH', 'Path segments . and .. and encoded separators are not allowed');
    const method = req.method ?? 'GET';
    const match = table.match(method, req.url ?? '/');
    if (!match) return send(res, 404, 'NOT_FOUND', `No route for ${method} ${(req.url ?? '/').split('?')[0]}`);
    labelRoute(res, match.route.id);
    access.route = match.route.id;
    const identity = authenticate(req.headers.authorization, verifier);
    if (!match.route.public && !identity) return send(res, 401, 'UNAUTHORIZED', 'A valid Bearer token is required');
    // Most requests (every issue POST, every GET) carry no body: no stream work for them.
    if (!hasBody(req)) {
      req.resume();
      return forward(req, res, match, identity, requestId, NO_BODY);
    }
    readBody(req, bodyLimitBytes)
      .then(
        (body) => forward(req, res, match, identity, requestId, body),
        (err) => (err instanceof AppError ? send(res, err.status, err.code, err.message) : send(res, 400, 'BAD_REQUEST', 'Request body could not be read')),
      )
      // A bug on this path is one request's 500, not the process's unhandled rejection.
      .catch((err) => failed(res, err));
  };
  const failed = (res: http.ServerResponse, err: unknown) => {
    logger.error('proxying failed', { err: String((err as Error)?.stack ?? err) });
    if (!res.headersSent) send(res, 500, 'INTERNAL_ERROR', 'Internal server error');
  };
  const hotRoute = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (!req.url?.startsWith('/api/') || OWN_API.test(req.url)) return false;
    try {
      handle(req, res);
    } catch (err) {
      failed(res, err);
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
