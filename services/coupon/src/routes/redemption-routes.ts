import type http from 'node:http';
import type { Knex } from 'knex';
import { callerOf, labelRoute, logFailure, problemFor, sendProblem, type Logger } from '@coupon-rush/platform';
import { redeemCode } from '../domain/redeem-code';

const REDEEM_PATH = /^\/codes\/([^/?]*)\/redemptions\/?(?:\?.*)?$/;

/**
 * POST /codes/:code/redemptions, served before Express like the issue route: the path a crowd of
 * code holders takes. The request carries no body; any that is sent is drained and ignored.
 */
export function redemptionHotRoute(db: Knex, outcome: (code: string) => void, logger: Logger) {
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (req.method !== 'POST') return false;
    const match = REDEEM_PATH.exec(req.url ?? '');
    if (!match) return false;
    labelRoute(res, '/codes/:code/redemptions');
    req.resume();
    void answer(db, outcome, logger, req, res, match[1]);
    return true;
  };
}

async function answer(db: Knex, outcome: (code: string) => void, logger: Logger, req: http.IncomingMessage, res: http.ServerResponse, rawCode: string) {
  try {
    const { userId } = callerOf(req);
    // Not decoded: a code is 16 characters of A-Z and 0-9, anything else is refused with a 400.
    const redeemed = await redeemCode(db, rawCode, userId);
    outcome('REDEEMED');
    const text = JSON.stringify(redeemed);
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } catch (err: any) {
    outcome(typeof err?.code === 'string' ? err.code : 'ERROR');
    const { status, body } = problemFor(err);
    logFailure(logger, err, req.method, req.url ?? '', status);
    sendProblem(res, status, body);
  }
}
