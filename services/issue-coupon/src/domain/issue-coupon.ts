import crypto from 'node:crypto';
import { AppError } from '@coupon-rush/platform';
import { LedgerRebuilding, type ClaimLedger } from '@coupon-rush/issue-contract';
import type { CouponPolicy } from '../data/coupon-policy-source';
import type { IssueEventPublisher } from '../data/issue-event-publisher';
import { passExpiry, type WaitingRoom } from './waiting-room';
import { alreadyIssued, claimsRebuilding, couponNotFound, earlierRequestPending, issueUnavailable, outcomeUnknown, passInvalid, policyUnavailable, soldOut, windowClosed } from './refusals';

export interface IssueDependencies {
  policy(id: number): Promise<CouponPolicy | undefined> | CouponPolicy | undefined;
  soldOut: SoldOutFlags;
  ledger: ClaimLedger;
  publisher: IssueEventPublisher;
  /** Every answer's code, with the coupon's id once its policy was found (an id that names no coupon is not one). */
  outcome(code: string, couponId?: number): void;
  /** The coupon's claim sets await a rebuild after a Redis failover: ask coupon-service for it. */
  rebuildNeeded(couponId: number): void;
  /** Every request is answered within this (the service's own bound, below the route's timeout). */
  answerWithinMs: number;
  /** The claim step's share of it (a replicated claim takes at most the replica wait). */
  claimTimeoutMs: number;
  /** Kept after the publish deadline for the mark or the release. */
  releaseReserveMs: number;
  /** Redis failovers begun (Sentinel's events): a release made during one may be lost with the old master. */
  failovers: { mark(): number; quietSince(mark: number): boolean };
  /** The waiting room that queued coupons are claimed through. */
  room: WaitingRoom;
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

/** Settles with `work`, or rejects with DeadlinePassed at `deadline` (the work may still complete later). */
class DeadlinePassed extends Error {}
function within<T>(deadline: number, work: Promise<T>): Promise<T> {
  const left = deadline - Date.now();
  if (left <= 0) return Promise.reject(new DeadlinePassed());
  let timer: NodeJS.Timeout;
  const expiry = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new DeadlinePassed()), left)));
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

/**
 * A "no" (sold out, window closed) is said only to a user who holds nothing: a holder is told
 * ALREADY_ISSUED whatever the in-process flag or the clock says.
 */
export async function refuseUnlessHeld(deps: IssueDependencies, couponId: number, userId: number, refusal: AppError, deadline: number): Promise<never> {
  await holdsNothing(deps, couponId, userId, deadline);
  reject(deps, couponId, refusal);
}

/** Returns only when the user holds nothing: a holder is answered ALREADY_ISSUED, an undecided holding 503. */
async function holdsNothing(deps: IssueDependencies, couponId: number, userId: number, deadline: number): Promise<void> {
  let holding;
  try {
    holding = await within(deadline, deps.ledger.holding(couponId, userId));
  } catch {
    reject(deps, couponId, issueUnavailable('claim store'));
  }
  if (holding === 'HELD') reject(deps, couponId, alreadyIssued());
  if (holding === 'IN_FLIGHT' || holding === 'REBUILDING') refuseUndecided(deps, couponId, holding);
}

/**
 * Whether the user holds the coupon cannot be told yet: another request of theirs is still being
 * decided, or the sets await a rebuild after a failover (which coupon-service is asked for).
 */
function refuseUndecided(deps: IssueDependencies, couponId: number, why: 'IN_FLIGHT' | 'REBUILDING'): never {
  if (why === 'IN_FLIGHT') reject(deps, couponId, earlierRequestPending());
  deps.rebuildNeeded(couponId);
  reject(deps, couponId, claimsRebuilding());
}

/**
 * The FCFS issue: find the policy, check the window, claim atomically in Redis, publish the event
 * and only then accept. A claim whose event cannot be confirmed is revoked and answered 503. Every
 * request is answered within `deps.answerWithinMs` (below the gateway's route timeout), so only a
 * dead connection leaves a caller without an answer that states the outcome or that nothing was kept.
 */
export async function issueCoupon(deps: IssueDependencies, couponId: number, userId: number, pass?: string) {
  const deadline = Date.now() + deps.answerWithinMs;
  let policy: CouponPolicy | undefined;
  try {
    policy = await within(deadline, Promise.resolve(deps.policy(couponId)));
  } catch (err) {
    reject(deps, undefined, policyUnavailable(err));
  }
  if (!policy) reject(deps, undefined, couponNotFound(couponId));
  const now = Date.now();
  // Before the window opens nobody can hold the coupon (a coupon's window never changes).
  if (now < policy.issueStartAt) reject(deps, couponId, windowClosed());
  if (now >= policy.issueEndAt) await refuseUnlessHeld(deps, couponId, userId, windowClosed(), deadline);
  if (deps.soldOut.has(couponId)) await refuseUnlessHeld(deps, couponId, userId, soldOut(), deadline);
  if (!policy.admissionPerSecond) return claimFor(deps, couponId, userId, policy, now, deadline);

  // A queued coupon: the pass's signature is checked here and the claim script takes the pass
  // after its holder check (one round trip); a holder is told so before any refusal of the pass.
  let passExpiresAt: number;
  try {
    passExpiresAt = passExpiry(deps.room, couponId, userId, pass);
  } catch (err) {
    await holdsNothing(deps, couponId, userId, deadline);
    reject(deps, couponId, err as AppError);
  }
  return claimFor(deps, couponId, userId, policy, now, deadline, passExpiresAt);
}

/**
 * The claim itself: atomically in Redis, the event published, and only then accepted. A queued
 * coupon's claim takes the user's pass (`passExpiresAt`); a claim that took it and then keeps
 * nothing (503) or whose outcome is open (504) puts it back, so the retry learns: a claim still
 * standing answers ALREADY_ISSUED first. A claim refused before taking it leaves it alone.
 */
async function claimFor(deps: IssueDependencies, couponId: number, userId: number, policy: CouponPolicy, now: number, deadline: number, passExpiresAt = 0) {
  const restorePass = () => {
    if (passExpiresAt > 0) void deps.room.line.restorePass(couponId, userId, passExpiresAt).catch(() => {});
  };
  // The event's id ties this request's mark and release to its own claim, never a newer one.
  const claimId = crypto.randomUUID();
  let claim;
  try {
    claim = await within(Math.min(deadline, Date.now() + deps.claimTimeoutMs), deps.ledger.claim(couponId, userId, policy.totalQuantity, claimId, passExpiresAt));
  } catch {
    // The claim may stand on the master without being durable (ClaimNotReplicated), its reply was
    // lost, or it has not run yet. Nothing was published, so releasing it is safe; if that fails
    // too, the claim stays unmarked and is released by the user's next request or the sweep:
    // never a coupon without a 202.
    void deps.ledger.revoke(couponId, userId, claimId).catch(() => {});
    restorePass();
    reject(deps, couponId, issueUnavailable('claim store'));
  }
  if (claim === 'ALREADY_ISSUED') reject(deps, couponId, alreadyIssued());
  if (claim === 'PASS_INVALID') reject(deps, couponId, passInvalid());
  if (claim === 'IN_FLIGHT' || claim === 'REBUILDING') refuseUndecided(deps, couponId, claim);
  if (claim === 'SOLD_OUT') {
    deps.soldOut.declare(couponId);
    reject(deps, couponId, soldOut());
  }

  // Past this instant no mark is sent: an unmarked claim is never answered 202.
  const publishDeadline = Math.min(Date.now() + deps.publisher.timeoutMs, deadline - deps.releaseReserveMs);
  const outcome = await deps.publisher.publish({ eventId: claimId, couponId, userId, issuedAt: new Date(now).toISOString() }, publishDeadline);
  // The claim is marked published before the 202, so no sweep can release it from then on. A mark
  // that returns 1 was made on this request's own claim (by its id), with its record acknowledged.
  let marked = false;
  if (outcome === 'ACKED' && Date.now() <= publishDeadline) marked = await within(deadline, deps.ledger.markPublished(couponId, userId, claimId)).catch(() => false);
  if (!marked) {
    // The record may be in Kafka or may still reach it: only a durable tombstone keeps it from
    // becoming a row.
    const quiet = deps.failovers.mark();
    const released = await releaseDurably(deps, couponId, userId, claimId, deadline);
    if (released !== false) restorePass();
    // A tombstone the old master took while Sentinel was promoting a replica (its other replica
    // still acknowledging) is lost with it, and the record would then become a row: a 503 could
    // not be kept, so neither outcome is promised.
    if (released === undefined || (released && !deps.failovers.quietSince(quiet))) reject(deps, couponId, outcomeUnknown());
    // Not released means the consumer already persisted the event: the coupon is issued.
    if (released) reject(deps, couponId, issueUnavailable(outcome === 'FAILED' ? 'event log failed' : outcome === 'TIMED_OUT' ? 'event log timed out' : 'claim store'));
  }
  deps.outcome('ACCEPTED', couponId);
  return { couponId, userId, status: 'ACCEPTED' as const };
}

const RELEASE_BACKOFF_MS = [50, 100, 200, 400, 800];

/**
 * Revokes a claim whose record may have been written, retrying through a Sentinel failover until
 * the request's deadline: true when released, false when the consumer had already confirmed it,
 * undefined when neither could be made durable in time (or the sets await a rebuild that will tell),
 * so the caller must not promise either outcome.
 */
async function releaseDurably(deps: IssueDependencies, couponId: number, userId: number, claimId: string, deadline: number): Promise<boolean | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await within(deadline, deps.ledger.revoke(couponId, userId, claimId));
    } catch (err) {
      if (err instanceof DeadlinePassed) return undefined;
      if (err instanceof LedgerRebuilding) deps.rebuildNeeded(couponId);
      const pause = RELEASE_BACKOFF_MS[Math.min(attempt, RELEASE_BACKOFF_MS.length - 1)];
      if (Date.now() + pause >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
