import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Knex } from 'knex';
import { callerOf, identityOf, positiveId, requireAdmin, requireService } from '@coupon-rush/platform';
import { type ClaimLedger } from '@coupon-rush/issue-contract';
import { cancelCouponUse, useHeldCoupon } from '../domain/coupon-use';
import { couponUsage, EXPORT_MEDIA_TYPES, exportFormatOf, exportHolders } from '../domain/coupon-holders';
import { heldCoupons } from '../domain/held-coupons';
import { createCoupon, getCoupon, pageCoupons } from '../domain/coupon-policies';
import { reconcile } from '../domain/reconciliation';

/** Who may read a policy on the internal path: the issue path's look-aside cache, on a miss. */
const POLICY_READERS = ['issue-coupon-service'];
/** Who may count a coupon's uses besides an administrator: the live console, for its view. */
const USAGE_READERS = ['console-service'];

/** `inFlightMs`: how long an unpublished claim without a row is in flight, not a divergence. */
export function couponRoutes(db: Knex, ledger: ClaimLedger, inFlightMs: () => number): Router {
  const router = Router();
  router.post('/coupons', async (req, res) => {
    requireAdmin(req);
    res.status(201).json(await createCoupon(db, ledger, req.body));
  });
  router.get('/coupons/:id', async (req, res) => {
    res.json(await getCoupon(db, positiveId(req.params.id)));
  });
  // Not behind any gateway route (those are under /api/): for other services, with their own identity.
  router.get('/internal/coupon-policies/:id', async (req, res) => {
    requireService(req, POLICY_READERS);
    res.json(await getCoupon(db, positiveId(req.params.id)));
  });
  router.get('/coupons', async (req, res) => {
    res.json(await pageCoupons(db, req.query.page, req.query.size));
  });
  router.get('/coupons/:id/reconciliation', async (req, res) => {
    requireAdmin(req);
    res.json(await reconcile(db, ledger, positiveId(req.params.id), inFlightMs()));
  });
  router.get('/coupons/:id/usage', async (req, res) => {
    if (identityOf(req)?.kind === 'service') requireService(req, USAGE_READERS);
    else requireAdmin(req);
    res.json(await couponUsage(db, positiveId(req.params.id)));
  });
  // Who holds a coupon, streamed a page of rows at a time as the client reads (100,000 rows or more).
  router.get('/coupons/:id/issued', async (req, res) => {
    requireAdmin(req);
    const id = positiveId(req.params.id);
    const format = exportFormatOf(req.query.format);
    const chunks = await exportHolders(db, id, format);
    res.writeHead(200, {
      'content-type': EXPORT_MEDIA_TYPES[format],
      'content-disposition': `attachment; filename="coupon-${id}-issued.${format}"`,
      'cache-control': 'no-store',
    });
    try {
      await pipeline(Readable.from(chunks), res);
    } catch (err) {
      // A client that hangs up mid-export is not a failure of ours; anything else is, and its
      // client sees a broken stream (never a short file that looks whole).
      if (!res.writableEnded && (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw err;
    }
  });
  // The persisted coupons of the caller; the gateway routes /api/users/me/coupons here.
  router.get('/users/me/coupons', async (req, res) => {
    res.json({ items: await heldCoupons(db, callerOf(req).userId) });
  });
  // A shop's checkout uses the caller's coupon for an order, and gives it back when the order is cancelled.
  router.post('/users/me/coupons/:couponId/redemptions', async (req, res) => {
    const { userId } = callerOf(req);
    res.status(201).json(await useHeldCoupon(db, userId, positiveId(req.params.couponId, 'couponId'), req.body));
  });
  router.delete('/users/me/coupons/:couponId/redemptions/:orderId', async (req, res) => {
    const { userId } = callerOf(req);
    await cancelCouponUse(db, userId, positiveId(req.params.couponId, 'couponId'), req.params.orderId);
    res.status(204).end();
  });
  return router;
}
