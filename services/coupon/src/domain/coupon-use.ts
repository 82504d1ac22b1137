import type { Knex } from 'knex';
import { badRequest, objectBody } from '@coupon-rush/platform';
import { findHeld, markUsed, releaseUse, type IssuedCoupon } from '../data/issued-coupon-repository';
import { integerIn } from './fields';
import { usableUntilOf } from './held-coupons';
import { couponAlreadyUsed, couponExpired, couponNotHeld, couponUseContended, couponUsedByAnotherOrder, orderBelowMinimum } from './refusals';

/** What a use of a coupon gave an order: the answer to the shop, the same for every retry of that order. */
export interface CouponUse {
  couponId: number;
  orderId: string;
  orderAmount: number;
  discountAmount: number;
  payableAmount: number;
  usedAt: string;
}

const MAX_AMOUNT = 2_147_483_647;
/** A shop's own order reference: no spaces or punctuation a URL path would need escaped. */
const ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function orderIdOf(v: unknown): string {
  if (typeof v !== 'string' || !ORDER_ID.test(v)) throw badRequest('orderId must be 1 to 64 letters, digits or . _ : -');
  return v;
}

function useOf(held: IssuedCoupon): CouponUse {
  return {
    couponId: held.couponId,
    orderId: held.usedOrderId!,
    orderAmount: held.usedOrderAmount!,
    discountAmount: held.usedDiscount!,
    payableAmount: held.usedOrderAmount! - held.usedDiscount!,
    usedAt: held.usedAt!,
  };
}

/**
 * Uses a held coupon for an order at checkout. The same order again gets the first answer (a
 * shop's retry never spends twice); another order while it is used is refused; then its end of
 * use and the order's minimum. Concurrent uses race on one conditional UPDATE: one order wins,
 * and the losers, reading the row again, answer from what won.
 */
export async function useHeldCoupon(db: Knex, userId: number, couponId: number, body: unknown, now = () => Date.now()): Promise<CouponUse> {
  const b = objectBody(body, ['orderId', 'orderAmount']);
  const orderId = orderIdOf(b.orderId);
  const orderAmount = integerIn(b.orderAmount, 'orderAmount', 1, MAX_AMOUNT);
  for (let attempt = 0; attempt < 5; attempt++) {
    const held = await findHeld(db, couponId, userId);
    if (!held) throw couponNotHeld(couponId);
    if (held.usedOrderId === orderId) return useOf(held);
    if (held.usedAt !== null) throw couponAlreadyUsed(couponId);
    const at = now();
    const usableUntil = usableUntilOf(held);
    if (usableUntil !== null && Date.parse(usableUntil) <= at) throw couponExpired(couponId, usableUntil);
    if (orderAmount < held.minOrderAmount) throw orderBelowMinimum(couponId, held.minOrderAmount);
    const discount = Math.min(held.discountAmount, orderAmount);
    if (await markUsed(db, couponId, userId, { orderId, orderAmount, discount, at: new Date(at) })) {
      return { couponId, orderId, orderAmount, discountAmount: discount, payableAmount: orderAmount - discount, usedAt: new Date(at).toISOString() };
    }
    // Another use (or a cancel) changed the row between the read and the update: read it again.
  }
  throw couponUseContended();
}

/**
 * Gives a coupon back when its order is cancelled: usable again (while still valid). Cancelling an
 * order that does not hold it is refused; cancelling twice, or a coupon not in use, changes nothing.
 */
export async function cancelCouponUse(db: Knex, userId: number, couponId: number, orderIdParam: unknown): Promise<void> {
  const orderId = orderIdOf(orderIdParam);
  if (await releaseUse(db, couponId, userId, orderId)) return;
  const held = await findHeld(db, couponId, userId);
  if (!held) throw couponNotHeld(couponId);
  if (held.usedAt !== null && held.usedOrderId !== orderId) throw couponUsedByAnotherOrder(couponId);
}
