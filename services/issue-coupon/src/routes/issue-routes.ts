import type http from 'node:http';
import { callerOf, labelRoute, logFailure, positiveId, problemFor, sendProblem, type Logger } from '@coupon-rush/platform';
import { issueCoupon, type IssueDependencies } from '../domain/issue-coupon';

const ISSUE_PATH = /^\/coupons\/([^/?]*)\/issues\/?(?:\?.*)?$/;

/**
 * POST /coupons/:id/issues, served before Express: the flash-crowd route. The request carries no
 * body; any that is sent is drained and ignored.
 */
export function issueHotRoute(deps: IssueDependencies, logger: Logger) {
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (req.method !== 'POST') return false;
    const match = ISSUE_PATH.exec(req.url ?? '');
    if (!match) return false;
    labelRoute(res, '/coupons/:id/issues');
    req.resume();
    void answer(deps, logger, req, res, match[1]);
    return true;
  };
}

async function answer(deps: IssueDependencies, logger: Logger, req: http.IncomingMessage, res: http.ServerResponse, rawId: string) {
  try {
    const { userId } = callerOf(req);
    const accepted = await issueCoupon(deps, positiveId(rawId), userId);
    const text = JSON.stringify(accepted);
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } catch (err) {
    const { status, body } = problemFor(err);
    logFailure(logger, err, req.method, req.url ?? '', status);
    sendProblem(res, status, body);
  }
}
