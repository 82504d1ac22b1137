import { bodilessPostRoute, callerOf, positiveId, type Logger } from '@coupon-rush/platform';
import { issueCoupon, type IssueDependencies } from '../domain/issue-coupon';

/** POST /coupons/:id/issues, served before Express: the flash-crowd route. */
export function issueHotRoute(deps: IssueDependencies, logger: Logger) {
  return bodilessPostRoute(/^\/coupons\/([^/?]*)\/issues\/?(?:\?.*)?$/, '/coupons/:id/issues', logger, async (req, rawId) => {
    const { userId } = callerOf(req);
    return { status: 202, body: await issueCoupon(deps, positiveId(rawId), userId) };
  });
}
