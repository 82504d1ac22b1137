import type http from 'node:http';
import { sendError } from './errors';
import { labelRoute } from './http-metrics';
import type { Logger } from './logger';

/**
 * A POST without a body served straight from node's HTTP server, before Express (a ServiceParts
 * hotRoute): `path` captures the path parameter, `label` names the route in metrics, `handle`
 * answers with a status and a JSON body or throws, and what it throws is answered by sendError as
 * on every other path. Any body sent is drained and ignored. Express costs several times this per
 * request (measured on the issue path).
 */
export function bodilessPostRoute(path: RegExp, label: string, logger: Logger, handle: (req: http.IncomingMessage, param: string) => Promise<{ status: number; body: unknown }>) {
  return bodilessRoute(['POST'], path, label, logger, handle);
}

/** As bodilessPostRoute, for any of `methods` (the handler reads req.method when they differ). */
export function bodilessRoute(
  methods: readonly string[],
  path: RegExp,
  label: string,
  logger: Logger,
  handle: (req: http.IncomingMessage, param: string) => Promise<{ status: number; body: unknown }>,
) {
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse, param: string) => {
    try {
      const { status, body } = await handle(req, param);
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } catch (err) {
      sendError(logger, req, res, err);
    }
  };
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (!methods.includes(req.method ?? '')) return false;
    const match = path.exec(req.url ?? '');
    if (!match) return false;
    labelRoute(res, label);
    req.resume();
    void answer(req, res, match[1]);
    return true;
  };
}
