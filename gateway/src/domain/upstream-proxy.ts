import http from 'node:http';
import type { ServiceDirectory, ServiceInstance } from '@coupon-rush/platform';

export type ProxyOutcome = 'ok' | 'timeout' | 'refused' | 'reset' | 'failed';

/** Methods a client may repeat safely (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the identity headers only the gateway may set. */
const DROPPED_REQUEST_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'x-user-id', 'x-user-role', 'host', 'content-length']);
const DROPPED_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade']);

export interface UpstreamRequest {
  service: string;
  path: string;
  timeoutMs: number;
  identity?: { userId: string; role: string };
  requestId: string;
}

/**
 * Sends a request to one passing instance over a keep-alive pool. Bodies are small and already
 * read (the gateway enforces the size limit), so a refused connection — the request never reached
 * a service — can be retried on the next instance; any later failure is not retried.
 */
export class UpstreamProxy {
  private readonly agent: http.Agent;

  constructor(private readonly directory: ServiceDirectory, maxSockets: number, private readonly serviceSuffix = '') {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo', keepAliveMsecs: 30_000 });
  }

  forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, up: UpstreamRequest): Promise<ProxyOutcome | 'no-instance'> {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!DROPPED_REQUEST_HEADERS.has(name) && value !== undefined) headers[name] = value;
    }
    headers['content-length'] = String(body.length);
    headers['x-request-id'] = up.requestId;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
    if (up.identity) {
      headers['x-user-id'] = up.identity.userId;
      headers['x-user-role'] = up.identity.role;
    }
    const attempts = Math.max(1, this.directory.known(up.service + this.serviceSuffix).length);
    return this.attempt(req.method ?? 'GET', body, res, up, headers, attempts);
  }

  private async attempt(method: string, body: Buffer, res: http.ServerResponse, up: UpstreamRequest, headers: http.OutgoingHttpHeaders, left: number): Promise<ProxyOutcome | 'no-instance'> {
    const instance = this.directory.pick(up.service + this.serviceSuffix);
    if (!instance) return 'no-instance';
    const outcome = await this.send(method, body, res, up, headers, instance);
    if (outcome === 'refused') {
      this.directory.bench(instance);
      if (left > 1) return this.attempt(method, body, res, up, headers, left - 1);
    }
    // A pooled connection the instance closed as we reused it: the documented keep-alive race.
    if (outcome === 'reset' && IDEMPOTENT.has(method) && left > 1) return this.attempt(method, body, res, up, headers, left - 1);
    return outcome === 'reset' ? 'failed' : outcome;
  }

  private send(method: string, body: Buffer, res: http.ServerResponse, up: UpstreamRequest, headers: http.OutgoingHttpHeaders, instance: ServiceInstance): Promise<ProxyOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (o: ProxyOutcome) => {
        if (!settled) {
          settled = true;
          resolve(o);
        }
      };
      const upstream = http.request({ host: instance.address, port: instance.port, method, path: up.path, headers, agent: this.agent });
      upstream.setTimeout(up.timeoutMs, () => {
        upstream.destroy(new Error('upstream timeout'));
        settle('timeout');
      });
      upstream.on('response', (answer) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!DROPPED_RESPONSE_HEADERS.has(name) && value !== undefined) out[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.on('end', () => settle('ok'));
        answer.on('error', () => settle('failed'));
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') settle('refused');
        else if (err.code === 'ECONNRESET' && upstream.reusedSocket && !res.headersSent) settle('reset');
        else settle('failed');
      });
      upstream.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
