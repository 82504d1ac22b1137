import { AppError } from '@coupon-rush/platform';
import { PolicySourceUnavailable } from '../data/coupon-policy-source';

/** Every answer but ACCEPTED an issue request can get, in one place (the codes SPEC §3 and openapi.yaml document). */
export { couponNotFound, soldOut, windowClosed } from '@coupon-rush/issue-contract';
export const alreadyIssued = () => new AppError('ALREADY_ISSUED', 409, 'This user already holds this coupon');
/** A dependency is down; `why` names which, never its internals. */
export const issueUnavailable = (why: string) => new AppError('ISSUE_UNAVAILABLE', 503, `Issuing is unavailable right now, try again (${why})`, undefined, { retryAfterSeconds: 1 });
export const outcomeUnknown = () => new AppError('ISSUE_OUTCOME_UNKNOWN', 504, 'The issue could be neither confirmed nor undone; asking again answers ALREADY_ISSUED if it was issued');
/** Both are 503 with Retry-After: this request kept nothing, and asking again soon is the way to learn more. */
export const earlierRequestPending = () => new AppError('ISSUE_UNAVAILABLE', 503, 'An earlier request of yours for this coupon is still being decided, try again', undefined, { retryAfterSeconds: 1 });
export const claimsRebuilding = () => new AppError('ISSUE_UNAVAILABLE', 503, 'Issuing is paused while claims are rebuilt after a failover, try again', undefined, { retryAfterSeconds: 2 });
/** A policy lookup failed: the coupon service could not answer, or else the cache (Redis) failed. */
export const policyUnavailable = (err: unknown) => issueUnavailable(err instanceof PolicySourceUnavailable ? 'coupon service' : 'cache');
/** The waiting room's answers. */
export const queueNotUsed = (couponId: number) => new AppError('QUEUE_NOT_USED', 409, `Coupon ${couponId} is claimed directly, without a waiting room`);
export const notInQueue = (couponId: number) => new AppError('NOT_IN_QUEUE', 404, `You have no place in the waiting room of coupon ${couponId}: join it first`);
export const queueRequired = (couponId: number) => new AppError('QUEUE_REQUIRED', 409, `Coupon ${couponId} is claimed through its waiting room: join it and claim with the pass it gives`);
export const passInvalid = () => new AppError('QUEUE_PASS_INVALID', 403, 'The waiting-room pass is not valid for you and this coupon (forged, expired, used or someone else’s)');
