import type http from 'node:http';
import type { GatewayConfig } from '../config';

type Cors = GatewayConfig['cors'];

/** A browser's CORS preflight: OPTIONS with an Origin and the method it means to send. */
export function isPreflight(req: http.IncomingMessage): boolean {
  return req.method === 'OPTIONS' && typeof req.headers.origin === 'string' && typeof req.headers['access-control-request-method'] === 'string';
}

/** On an actual request from an allowed origin: whom the browser may show the answer to, and which headers. */
export function setCorsHeaders(cors: Cors, req: http.IncomingMessage, res: http.ServerResponse): void {
  // Caches must keep answers to different origins apart, whether or not this one is allowed.
  res.setHeader('vary', 'Origin');
  const origin = req.headers.origin;
  if (!origin || !cors.allowedOrigins.includes(origin)) return;
  res.setHeader('access-control-allow-origin', origin);
  if (cors.exposedHeaders.length > 0) res.setHeader('access-control-expose-headers', cors.exposedHeaders.join(', '));
}

/**
 * 204 with what an allowed origin may send (methods, headers, for how long), or 403 without any
 * Access-Control-Allow-* for any other origin, method or header, as Spring's CorsWebFilter does.
 */
export function answerPreflight(cors: Cors, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  const origin = req.headers.origin!;
  const method = String(req.headers['access-control-request-method']).toUpperCase();
  const asked = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!cors.allowedOrigins.includes(origin) || !cors.allowedMethods.includes(method) || !asked.every((h) => cors.allowedHeaders.includes(h))) {
    const text = JSON.stringify({ type: 'about:blank', title: 'CORS_REJECTED', status: 403, code: 'CORS_REJECTED', detail: 'This cross-origin request is not allowed' });
    res.writeHead(403, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  res.writeHead(204, {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': cors.allowedMethods.join(', '),
    'access-control-allow-headers': cors.allowedHeaders.join(', '),
    'access-control-max-age': String(cors.maxAgeSeconds),
  });
  res.end();
}
