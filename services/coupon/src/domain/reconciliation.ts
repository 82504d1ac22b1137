import type { Knex } from 'knex';
import { compareMembers, membersAgree, type ClaimLedger } from '@coupon-rush/issue-contract';
import { issuedUserIds } from '../data/issued-coupon-repository';
import { getCoupon } from './coupon-policies';

/**
 * Compares the Redis claims of a coupon with its MySQL rows, user by user: counts alone agreed
 * after a failover that lost 38 claims while 38 others were taken without a row. Unpublished
 * claims younger than `inFlightMs` (the age at which the sweep deems one stranded) are in flight
 * and no divergence; published ones without a row are expected while the consumer catches up and a
 * divergence once it has, so `consistent` is false until then.
 */
export async function reconcile(db: Knex, ledger: ClaimLedger, couponId: number, inFlightMs: number) {
  const coupon = await getCoupon(db, couponId);
  // Rows before claims: a row's claim was made before it and is never released once confirmed,
  // so it is in the later scan. Read the other way round, a row written during the scan would
  // count as a row without a claim.
  const rowUsers = await issuedUserIds(db, couponId);
  const [members, redis] = await Promise.all([compareMembers(rowUsers, ledger.claimMembers(couponId), inFlightMs), ledger.counts(couponId)]);
  const rows = rowUsers.length;
  return {
    couponId,
    totalQuantity: coupon.totalQuantity,
    issuedQuantity: coupon.issuedQuantity,
    redisClaims: redis.claims,
    redisConfirmed: redis.confirmed,
    redisRevoked: redis.revoked,
    rows,
    divergence: redis.claims - rows,
    consistent: membersAgree(members) && coupon.issuedQuantity === rows,
    ...members,
  };
}
