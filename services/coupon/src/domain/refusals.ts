import { AppError } from '@coupon-rush/platform';

// Every refusal of coupon-service's use-cases, in one place (the codes openapi.yaml documents);
// a bad field is platform's badRequest (400 VALIDATION_FAILED).
export { couponNotFound } from '@coupon-rush/issue-contract';
export const campaignNotFound = (id: number) => new AppError('CAMPAIGN_NOT_FOUND', 404, `Campaign ${id} does not exist`);

/** Using a held coupon on an order, and giving it back. */
export const couponNotHeld = (couponId: number) => new AppError('COUPON_NOT_HELD', 404, `You hold no coupon ${couponId} (a new one shows once it is persisted)`);
export const couponAlreadyUsed = (couponId: number) => new AppError('COUPON_ALREADY_USED', 409, `Coupon ${couponId} is used by another order`);
export const couponExpired = (couponId: number, usableUntil: string) => new AppError('COUPON_EXPIRED', 409, `Coupon ${couponId} could be used until ${usableUntil}`);
export const orderBelowMinimum = (couponId: number, minOrderAmount: number) => new AppError('ORDER_BELOW_MINIMUM', 409, `Coupon ${couponId} needs an order of at least ${minOrderAmount}`);
/** Nothing was written: uses and cancels of this very coupon kept crossing this one. */
export const couponUseContended = () => new AppError('COUPON_USE_CONTENDED', 503, 'The coupon is being used or given back right now: try again', undefined, { retryAfterSeconds: 1 });
export const couponUsedByAnotherOrder = (couponId: number) => new AppError('COUPON_USED_BY_ANOTHER_ORDER', 409, `Coupon ${couponId} is used by another order`);

/** Redeeming a campaign's code. */
export const codeNotFound = (code: string) => new AppError('CODE_NOT_FOUND', 404, `Code ${code} does not exist`);
export const codeAlreadyRedeemed = (code: string) => new AppError('CODE_ALREADY_REDEEMED', 409, `Code ${code} has already been redeemed`);
export const codeSuspended = (code: string) => new AppError('CODE_SUSPENDED', 409, `Code ${code} is suspended`);
export const codeExpired = (code: string, expiresAt: Date) => new AppError('CODE_EXPIRED', 409, `Code ${code} expired at ${expiresAt.toISOString()}`);
export const codeBusy = (code: string) => new AppError('CODE_BUSY', 409, `Code ${code} is changing state, try again`);
