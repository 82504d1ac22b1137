import type { Knex } from 'knex';
import type { ClaimLedger } from '@coupon-rush/issue-contract';
import { countIssued } from '../data/issued-coupon-repository';
import { getCoupon } from './coupon-policies';

/**
 * Compares the Redis claims of a coupon with its MySQL rows. While events are in flight claims
 * run ahead of rows; once the consumer has caught up, any difference is a divergence to look at.
 */
export async function reconcile(db: Knex, ledger: ClaimLedger, couponId: number) {
  const coupon = await getCoupon(db, couponId);
  const [redis, rows] = await Promise.all([ledger.counts(couponId), countIssued(db, couponId)]);
  return {
    couponId,
    totalQuantity: coupon.totalQuantity,
    issuedQuantity: coupon.issuedQuantity,
    redisClaims: redis.claims,
    redisConfirmed: redis.confirmed,
    redisRevoked: redis.revoked,
    rows,
    divergence: redis.claims - rows,
    consistent: redis.claims === rows && coupon.issuedQuantity === rows,
  };
}
