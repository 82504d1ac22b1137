import { Router } from 'express';
import { callerOf, positiveId } from '@coupon-rush/platform';
import { issueCoupon, type IssueDependencies } from '../domain/issue-coupon';

export function issueRoutes(deps: IssueDependencies): Router {
  const router = Router();
  router.post('/coupons/:id/issues', async (req, res) => {
    const { userId } = callerOf(req);
    res.status(202).json(await issueCoupon(deps, positiveId(req.params.id), userId));
  });
  return router;
}
