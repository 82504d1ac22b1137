import type http from 'node:http';
import { bodilessPostRoute, bodilessRoute, callerOf, positiveId, type Logger } from '@coupon-rush/platform';
import { issueCoupon, refuseUnlessHeld, type IssueDependencies } from '../domain/issue-coupon';
import { takeTurn } from '../domain/waiting-room';

/** The header an admitted user's claim carries its waiting-room pass in. */
export const QUEUE_PASS_HEADER = 'x-queue-pass';

/** POST /coupons/:id/issues, served before Express: the flash-crowd route. */
export function issueHotRoute(deps: IssueDependencies, logger: Logger) {
  return bodilessPostRoute(/^\/coupons\/([^/?]*)\/issues\/?(?:\?.*)?$/, '/coupons/:id/issues', logger, async (req, rawId) => {
    const { userId } = callerOf(req);
    const pass = req.headers[QUEUE_PASS_HEADER];
    return { status: 202, body: await issueCoupon(deps, positiveId(rawId), userId, typeof pass === 'string' ? pass : undefined) };
  });
}

/** POST /coupons/:id/queue joins the waiting room, GET asks where one stands: a crowd polls it, so it is served before Express too. */
export function queueHotRoute(deps: IssueDependencies, logger: Logger) {
  return bodilessRoute(['POST', 'GET'], /^\/coupons\/([^/?]*)\/queue\/?(?:\?.*)?$/, '/coupons/:id/queue', logger, async (req, rawId) => {
    const { userId } = callerOf(req);
    const couponId = positiveId(rawId);
    const deadline = Date.now() + deps.answerWithinMs;
    const ticket = await takeTurn(deps.room, deps.policy, (id, user, refusal) => refuseUnlessHeld(deps, id, user, refusal, deadline), couponId, userId, req.method === 'POST');
    return { status: 200, body: ticket };
  });
}

/** Both hot routes, the issue first (the crowd's path). */
export function hotRoutes(deps: IssueDependencies, logger: Logger) {
  const routes = [issueHotRoute(deps, logger), queueHotRoute(deps, logger)];
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => routes.some((route) => route(req, res));
}
