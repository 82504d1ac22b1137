import type { Knex } from 'knex';
import { issuedToUser, type IssuedCoupon } from '../data/issued-coupon-repository';

export type HeldCouponState = 'USABLE' | 'USED' | 'EXPIRED';

/** A coupon as its holder sees it: what it is worth, until when it may be used, and whether it still may. */
export interface HeldCoupon {
  couponId: number;
  title: string;
  discountAmount: number;
  minOrderAmount: number;
  issuedAt: string;
  usableUntil: string | null;
  usedAt: string | null;
  /** The order it was used for, when USED. */
  orderId: string | null;
  state: HeldCouponState;
}

export const DAY_MS = 86_400_000;

/** The end of an issued coupon's use: its policy's instant, or that many days after its issue; null: no end. */
export function usableUntilOf(issued: Pick<IssuedCoupon, 'issuedAt' | 'usableUntil' | 'usableDays'>): string | null {
  if (issued.usableUntil !== null) return issued.usableUntil;
  if (issued.usableDays !== null) return new Date(Date.parse(issued.issuedAt) + issued.usableDays * DAY_MS).toISOString();
  return null;
}

/**
 * The state at `now`, from the rows alone: a used coupon stays USED; an unused one past its end is
 * EXPIRED whether or not any job has marked it yet.
 */
export function stateAt(usedAt: string | null, usableUntil: string | null, now: number): HeldCouponState {
  if (usedAt !== null) return 'USED';
  return usableUntil !== null && Date.parse(usableUntil) <= now ? 'EXPIRED' : 'USABLE';
}

/** The caller's persisted coupons, newest first (at most 1,000), each with its state now. */
export async function heldCoupons(db: Knex, userId: number, now = Date.now()): Promise<HeldCoupon[]> {
  return (await issuedToUser(db, userId)).map((issued) => {
    const usableUntil = usableUntilOf(issued);
    return {
      couponId: issued.couponId,
      title: issued.title,
      discountAmount: issued.discountAmount,
      minOrderAmount: issued.minOrderAmount,
      issuedAt: issued.issuedAt,
      usableUntil,
      usedAt: issued.usedAt,
      orderId: issued.usedOrderId,
      state: stateAt(issued.usedAt, usableUntil, now),
    };
  });
}
