import crypto from 'node:crypto';
import { AppError } from '@coupon-rush/platform';
import { type ClaimLedger } from '@coupon-rush/issue-contract';
import type { CouponPolicy } from '../data/coupon-policy-source';
import type { IssueEventPublisher } from '../data/issue-event-publisher';
import { alreadyIssued, couponNotFound, issueUnavailable, outcomeUnknown, soldOut, windowClosed } from './refusals';

export interface IssueDependencies {
  policy(id: number): Promise<CouponPolicy | undefined> | CouponPolicy | undefined;
  soldOut: SoldOutFlags;
  ledger: ClaimLedger;
  publisher: IssueEventPublisher;
  /** Every answer's code, with the coupon's id once its policy was found (an id that names no coupon is not one). */
  outcome(code: string, couponId?: number): void;
}

/**
 * In-process "sold out" marks: a sold-out coupon is answered without a Redis round trip. The
 * instance that meets the end of stock announces it, so every instance stops asking Redis at once.
 */
export class SoldOutFlags {
  private readonly until = new Map<number, number>();

  constructor(
    private readonly ttlMs: () => number,
    private readonly announce: (id: number) => void = () => {},
  ) {}

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

function reject(deps: IssueDependencies, couponId: number | undefined, error: AppError): never {
  deps.outcome(error.code, couponId);
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
    // The policy source refuses with its own reason (the coupon service); anything else is the cache.
    reject(deps, undefined, err instanceof AppError ? err : issueUnavailable('cache'));
  }
  if (!policy) reject(deps, undefined, couponNotFound(couponId));
  const now = Date.now();
  if (now < policy.issueStartAt || now >= policy.issueEndAt) reject(deps, couponId, windowClosed());
  if (deps.soldOut.has(couponId)) reject(deps, couponId, soldOut());

  let claim;
  try {
    claim = await deps.ledger.claim(couponId, userId, policy.totalQuantity);
  } catch {
    // The claim may stand on the master without being durable (ClaimNotReplicated) or its reply
    // was lost. Nothing was published, so releasing it is safe; if that fails too, a slot stays
    // taken (an under-issue that reconciliation reports), never a coupon without a 202.
    await deps.ledger.revoke(couponId, userId).catch(() => {});
    reject(deps, couponId, issueUnavailable('claim store'));
  }
  if (claim === 'ALREADY_ISSUED') reject(deps, couponId, alreadyIssued());
  if (claim === 'SOLD_OUT') {
    deps.soldOut.declare(couponId);
    reject(deps, couponId, soldOut());
  }

  // Past this instant no 202 is answered: an unmarked claim older than it may be released as stranded.
  const deadline = Date.now() + deps.publisher.timeoutMs;
  const outcome = await deps.publisher.publish({ eventId: crypto.randomUUID(), couponId, userId, issuedAt: new Date(now).toISOString() });
  // The claim is marked published before the 202, so no sweep can release it from then on. An
  // ack or a mark that comes after the deadline (a process frozen past it) counts as a timeout.
  const marked = outcome === 'ACKED' && Date.now() <= deadline && (await deps.ledger.markPublished(couponId, userId).catch(() => false));
  const late = Date.now() > deadline;
  if (!marked || late) {
    // The record may be in Kafka or may still reach it: only a durable tombstone keeps it from
    // becoming a row.
    const released = await releaseDurably(deps.ledger, couponId, userId);
    if (released === undefined) reject(deps, couponId, outcomeUnknown());
    // Not released means the consumer already persisted the event: the coupon is issued.
    if (released) reject(deps, couponId, issueUnavailable(outcome === 'FAILED' ? 'event log failed' : outcome === 'TIMED_OUT' || late ? 'event log timed out' : 'claim store'));
  }
  deps.outcome('ACCEPTED', couponId);
  return { couponId, userId, status: 'ACCEPTED' as const };
}

const RELEASE_BACKOFF_MS = [100, 200, 400, 800, 1600];

/**
 * Revokes a claim whose record may have been written, retrying through a Sentinel failover (a few
 * seconds here): true when released, false when the consumer had already confirmed it, undefined
 * when neither could be made durable, so the caller must not promise either outcome.
 */
async function releaseDurably(ledger: ClaimLedger, couponId: number, userId: number): Promise<boolean | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ledger.revoke(couponId, userId);
    } catch {
      if (attempt >= RELEASE_BACKOFF_MS.length) return undefined;
      await new Promise((r) => setTimeout(r, RELEASE_BACKOFF_MS[attempt]));
    }
  }
}
