import { Router } from 'express';
import type { Knex } from 'knex';
import { positiveId, requireAdmin } from '@coupon-rush/platform';
import { createCoupon, getCoupon, pageCoupons } from '../domain/coupon-policies';

export function couponRoutes(db: Knex): Router {
  const router = Router();
  router.post('/coupons', async (req, res) => {
    requireAdmin(req);
    res.status(201).json(await createCoupon(db, req.body));
  });
  router.get('/coupons/:id', async (req, res) => {
    res.json(await getCoupon(db, positiveId(req.params.id)));
  });
  router.get('/coupons', async (req, res) => {
    res.json(await pageCoupons(db, req.query.page, req.query.size));
  });
  return router;
}
