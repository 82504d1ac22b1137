import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'winston';

/** The one error type: a domain code, the HTTP status it maps to, a message safe to show. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError('VALIDATION_FAILED', 400, message, details);

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extra: string]: unknown;
}

export function problem(status: number, code: string, detail: string, extra?: Record<string, unknown>): Problem {
  return { type: 'about:blank', title: code, status, code, detail, ...extra };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', 404, `No route for ${req.method} ${req.path}`));
};

/**
 * Maps every error to application/problem+json. 4xx keep their message; 5xx are logged and
 * answered with a generic text so internals never leak.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let body: Problem;
    if (err instanceof AppError) {
      status = err.status;
      body = problem(status, err.code, err.message, err.details);
    } else if (err?.type === 'entity.parse.failed') {
      status = 400;
      body = problem(status, 'MALFORMED_JSON', 'Request body is not valid JSON');
    } else if (err?.type === 'entity.too.large') {
      status = 413;
      body = problem(status, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      status = err.status;
      body = problem(status, 'BAD_REQUEST', String(err.message ?? 'Bad request'));
    } else {
      body = problem(500, 'INTERNAL_ERROR', 'Internal server error');
    }
    // An AppError 5xx is an expected answer (a dependency is down): one line, no stack.
    if (err instanceof AppError && status >= 500) logger.warn('request refused', { method: req.method, path: req.path, code: err.code, detail: err.message });
    else if (status >= 500) logger.error('request failed', { method: req.method, path: req.path, err: String(err?.stack ?? err) });
    if (res.headersSent) return;
    res.status(status).type('application/problem+json').send(JSON.stringify(body));
  };
}
