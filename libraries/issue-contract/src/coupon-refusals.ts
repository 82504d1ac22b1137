import { AppError } from '@coupon-rush/platform';

/**
 * The answers about coupons that more than one service gives (coupon-service for its policies,
 * issue-coupon for a claim, the console for a watch, the gateway's waiting-room door for a turn),
 * so a client reads the same code and text from each. Each service's own refusals are in its domain/refusals.ts.
 */
export const couponNotFound = (couponId: number) => new AppError('COUPON_NOT_FOUND', 404, `Coupon ${couponId} does not exist`);
export const windowClosed = () => new AppError('ISSUE_WINDOW_CLOSED', 409, 'The coupon is not being issued at this time');
export const soldOut = () => new AppError('SOLD_OUT', 409, 'All coupons have been issued');
