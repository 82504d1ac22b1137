import type { Knex } from 'knex';
import type { ClaimLedger, IssueEvent } from '@coupon-rush/issue-contract';
import { countIssued, insertIssued, lockCouponQuantity, usersAlreadyIssued } from '../data/issued-coupon-repository';

export interface Rejected {
  event: IssueEvent;
  reason: 'COUPON_NOT_FOUND' | 'QUANTITY_EXCEEDED';
}

export interface PersistResult {
  persisted: number;
  duplicates: number;
  revoked: number;
  rejected: Rejected[];
  touchedCoupons: number[];
}

/**
 * Persists a batch of issue events idempotently: per coupon, events of revoked claims are dropped,
 * users that already hold the coupon are skipped, and the quantity guard runs under the coupon's
 * row lock, so rows never exceed the total whatever the event log delivers.
 */
export async function persistIssued(db: Knex, ledger: ClaimLedger, events: IssueEvent[]): Promise<PersistResult> {
  const result: PersistResult = { persisted: 0, duplicates: 0, revoked: 0, rejected: [], touchedCoupons: [] };
  // Per coupon, the batch's events by user: a redelivered event of the same user is a duplicate.
  const byCoupon = new Map<number, Map<number, IssueEvent>>();
  for (const e of events) {
    let users = byCoupon.get(e.couponId);
    if (!users) byCoupon.set(e.couponId, (users = new Map()));
    if (users.has(e.userId)) result.duplicates++;
    else users.set(e.userId, e);
  }
  for (const [couponId, users] of byCoupon) {
    const list = [...users.values()];
    const allowed = await ledger.confirm(
      couponId,
      list.map((e) => e.userId),
    );
    const confirmed = list.filter((_, i) => allowed[i]);
    result.revoked += list.length - confirmed.length;
    if (confirmed.length === 0) continue;
    await db.transaction(async (trx) => {
      const coupon = await lockCouponQuantity(trx, couponId);
      if (!coupon) {
        result.rejected.push(...confirmed.map((event) => ({ event, reason: 'COUPON_NOT_FOUND' as const })));
        return;
      }
      const existing = await usersAlreadyIssued(
        trx,
        couponId,
        confirmed.map((e) => e.userId),
      );
      let fresh = confirmed.filter((e) => !existing.has(e.userId));
      result.duplicates += confirmed.length - fresh.length;
      if (coupon.totalQuantity !== null) {
        const room = Math.max(0, coupon.totalQuantity - (await countIssued(trx, couponId)));
        result.rejected.push(...fresh.slice(room).map((event) => ({ event, reason: 'QUANTITY_EXCEEDED' as const })));
        fresh = fresh.slice(0, room);
      }
      await insertIssued(trx, fresh);
      result.persisted += fresh.length;
    });
    result.touchedCoupons.push(couponId);
  }
  return result;
}
