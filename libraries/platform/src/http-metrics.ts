import type http from 'node:http';
import { Histogram, type Registry } from 'prom-client';

const ROUTE = Symbol('metrics-route');

/** Names the route of a request answered outside Express (hot routes, the gateway's table). */
export function labelRoute(res: http.ServerResponse, route: string): void {
  (res as unknown as Record<symbol, string>)[ROUTE] = route;
}

/** The route pattern (or gateway route id) a request was served by, 'unmatched' when none. */
export function routeOf(req: http.IncomingMessage, res: http.ServerResponse): string {
  const named = (res as unknown as Record<symbol, string | undefined>)[ROUTE];
  if (named) return named;
  // Express leaves the matched route on the request: its pattern, not the raw path, keeps the
  // label set small (/coupons/:id, not one series per coupon).
  const matched = req as http.IncomingMessage & { route?: { path?: string }; baseUrl?: string };
  return matched.route?.path ? `${matched.baseUrl ?? ''}${matched.route.path}` : 'unmatched';
}

/** Times every request by method, route pattern and status into one histogram. */
export function httpRequestTimer(registry: Registry): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'HTTP requests served, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (req, res) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      duration.observe({ method: req.method ?? '', route: routeOf(req, res), status: res.statusCode }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  };
}
