import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';

/** The one error type: a domain code, the HTTP status it maps to, a message safe to show. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    /** How to answer beyond the body: `retryAfterSeconds` becomes a Retry-After header, `headers` are added as they are. */
    readonly answer: { retryAfterSeconds?: number; headers?: Record<string, string> } = {},
  ) {
    // An AppError is an answer, not a fault: its stack is never logged, and capturing one was the
    // costliest step of a SOLD_OUT refusal on the hot path (2.8% of issue-coupon's CPU profile).
    const depth = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = depth;
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) => new AppError('VALIDATION_FAILED', 400, message, details);

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extra: string]: unknown;
}

function problem(status: number, code: string, detail: string, extra?: Record<string, unknown>): Problem {
  return { type: 'about:blank', title: code, status, code, detail, ...extra };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', 404, `No route for ${req.method} ${req.path}`));
};

/** The status and problem body for any error: 4xx keep their message, 5xx hide internals. */
function problemFor(err: any): { status: number; body: Problem; retryAfterSeconds?: number; headers?: Record<string, string> } {
  if (err instanceof AppError)
    return { status: err.status, body: problem(err.status, err.code, err.message, err.details), retryAfterSeconds: err.answer.retryAfterSeconds, headers: err.answer.headers };
  if (err?.type === 'entity.parse.failed') return { status: 400, body: problem(400, 'MALFORMED_JSON', 'Request body is not valid JSON') };
  if (err?.type === 'entity.too.large') return { status: 413, body: problem(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large') };
  if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) return { status: err.status, body: problem(err.status, 'BAD_REQUEST', String(err.message ?? 'Bad request')) };
  return { status: 500, body: problem(500, 'INTERNAL_ERROR', 'Internal server error') };
}

function logFailure(logger: Logger, err: any, at: { method?: string; path: string; requestId?: string }, status: number): void {
  // An AppError 5xx is an expected answer (a dependency is down): one line, no stack.
  if (err instanceof AppError && status >= 500) logger.warn('request refused', { ...at, code: err.code, detail: err.message });
  else if (status >= 500) logger.error('request failed', { ...at, err: String(err?.stack ?? err) });
}

function sendProblem(res: ServerResponse, status: number, body: Problem, retryAfterSeconds?: number, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { ...extra, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text) };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = retryAfterSeconds;
  res.writeHead(status, headers);
  res.end(text);
}

/**
 * The one way a process answers a failure, whatever path it took (Express, a hot route, the
 * gateway's proxy): problemFor maps it, logFailure logs it, sendProblem writes it.
 */
export function sendError(logger: Logger, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const { status, body, retryAfterSeconds, headers } = problemFor(err);
  // The request id the caller was given (the gateway sets it on the answer) or the gateway sent.
  const requestId = res.getHeader('x-request-id') ?? req.headers['x-request-id'];
  logFailure(logger, err, { method: req.method, path: pathOf(req), requestId: typeof requestId === 'string' ? requestId : undefined }, status);
  sendProblem(res, status, body, retryAfterSeconds, headers);
}

/** The path a log line names: never the query, which may carry what a log must not keep. */
function pathOf(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** One error middleware for every service: everything leaves as application/problem+json. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => sendError(logger, req, res, err);
}
