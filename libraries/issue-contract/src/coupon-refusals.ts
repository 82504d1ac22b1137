import { AppError } from '@coupon-rush/platform';

/**
 * The answers about coupons that more than one service gives (coupon-service for its policies,
 * issue-coupon for a claim, the console for a watch), so a client reads the same code and text
 * from each. Each service's own refusals are in its domain/refusals.ts.
 */
export const couponNotFound = (couponId: number) => new AppError('COUPON_NOT_FOUND', 404, `Coupon ${couponId} does not exist`);
