import crypto from 'node:crypto';
import { AppError, type ClaimLedger } from '@coupon-rush/platform';
import { CouponServiceUnavailable, type CouponPolicy } from '../data/coupon-policy-source';
import type { IssueEventPublisher } from '../data/issue-event-publisher';

export interface IssueDependencies {
  policy(id: number): Promise<CouponPolicy | undefined> | CouponPolicy | undefined;
  soldOut: SoldOutFlags;
  ledger: ClaimLedger;
  publisher: IssueEventPublisher;
  outcome(code: string): void;
}

/**
 * In-process "sold out" marks: a sold-out coupon is answered without a Redis round trip. The
 * instance that meets the end of stock announces it, so every instance stops asking Redis at once.
 */
export class SoldOutFlags {
  private readonly until = new Map<number, number>();

  constructor(private readonly ttlMs: () => number, private readonly announce: (id: number) => void = () => {}) {}

  has(id: number): boolean {
    const t = this.until.get(id);
    return t !== undefined && t > Date.now();
  }

  // Marks expire so that slots freed by revoked claims are offered again.
  mark(id: number): void {
    this.until.set(id, Date.now() + Math.max(1000, this.ttlMs()));
  }

  declare(id: number): void {
    if (!this.has(id)) this.announce(id);
    this.mark(id);
  }
}

const unavailable = (why: string) => new AppError('ISSUE_UNAVAILABLE', 503, `Issuing is unavailable right now, try again (${why})`);

function reject(deps: IssueDependencies, error: AppError): never {
  deps.outcome(error.code);
  throw error;
}

/**
 * The FCFS issue: find the policy, check the window, claim atomically in Redis, publish the event
 * and only then accept. A claim whose event cannot be confirmed is revoked and answered 503.
 */
export async function issueCoupon(deps: IssueDependencies, couponId: number, userId: number) {
  let policy: CouponPolicy | undefined;
  try {
    policy = await deps.policy(couponId);
  } catch (err) {
    if (err instanceof CouponServiceUnavailable) reject(deps, unavailable('coupon service'));
    reject(deps, unavailable('cache'));
  }
  if (!policy) reject(deps, new AppError('COUPON_NOT_FOUND', 404, `Coupon ${couponId} does not exist`));
  const now = Date.now();
  if (now < policy.issueStartAt || now >= policy.issueEndAt) reject(deps, new AppError('ISSUE_WINDOW_CLOSED', 409, 'The coupon is not being issued at this time'));
  if (deps.soldOut.has(couponId)) reject(deps, new AppError('SOLD_OUT', 409, 'All coupons have been issued'));

  let claim;
  try {
    claim = await deps.ledger.claim(couponId, userId, policy.totalQuantity);
  } catch {
    reject(deps, unavailable('claim store'));
  }
  if (claim === 'ALREADY_ISSUED') reject(deps, new AppError('ALREADY_ISSUED', 409, 'This user already holds this coupon'));
  if (claim === 'SOLD_OUT') {
    deps.soldOut.declare(couponId);
    reject(deps, new AppError('SOLD_OUT', 409, 'All coupons have been issued'));
  }

  const outcome = await deps.publisher.publish({ eventId: crypto.randomUUID(), couponId, userId, issuedAt: new Date(now).toISOString() });
  if (outcome !== 'ACKED') {
    let released = true;
    try {
      released = await deps.ledger.revoke(couponId, userId);
    } catch {
      // The claim could not be released; reconciliation reports it. The answer stays 503.
    }
    // Not released means the consumer already persisted the event: the coupon is issued.
    if (released) reject(deps, unavailable(outcome === 'TIMED_OUT' ? 'event log timed out' : 'event log failed'));
  }
  deps.outcome('ACCEPTED');
  return { couponId, userId, status: 'ACCEPTED' as const };
}
