import { AppError } from '@coupon-rush/platform';
import type { CouponPolicy } from '../data/coupon-policy-source';
import { isTicketTurn, ticketOf, type QueuePasses, type Ticket, type WaitingLine } from '@coupon-rush/issue-contract';
import type { AdmissionGovernor, AutoAdmission } from './admission-governor';
import { couponNotFound, issueUnavailable, notInQueue, passInvalid, policyUnavailable, queueNotUsed, queueRequired, soldOut, windowClosed } from './refusals';

/** The room's settings (issue.queue in config-repo). */
export interface QueueSettings {
  /** How long an admitted user has to claim before the pass lapses and the slot goes on. */
  passTtlMs: number;
  /** Passes out beyond the unclaimed stock, as a share of the quantity (for those who leave). */
  marginRatio: number;
  /** The poll interval the server sets: far back in the line asks less often. */
  minPollMs: number;
  maxPollMs: number;
  auto: AutoAdmission;
}

export interface WaitingRoom {
  line: WaitingLine;
  passes: QueuePasses;
  /** Sets the rate of the automatic rooms it is told of. */
  governor: Pick<AdmissionGovernor, 'asking'>;
  settings(): QueueSettings;
  /**
   * How long the room keeps the terms a turn here gives it (the coupon's window, stock, rate), for
   * the gateway's turns: as long as this service itself trusts a policy it has loaded.
   */
  termsHoldMs: number;
}

/** The margin of passes beyond the unclaimed stock: a share of the quantity, at least one. */
export const marginOf = (policy: CouponPolicy, settings: QueueSettings) => (policy.totalQuantity === null ? 0 : Math.max(1, Math.ceil(policy.totalQuantity * settings.marginRatio)));

/** What the holder check says, for answers that refuse without claiming (the issue path's own). */
export type RefuseUnlessHeld = (couponId: number, userId: number, refusal: AppError) => Promise<never>;

/**
 * Joins a coupon's waiting room (`join`) or asks where one stands. A holder is told ALREADY_ISSUED
 * and a "no" (sold out, window closed) is said only after the holder check, as on the issue path.
 */
export async function takeTurn(
  room: WaitingRoom,
  policyOf: (id: number) => Promise<CouponPolicy | undefined> | CouponPolicy | undefined,
  refuseUnlessHeld: RefuseUnlessHeld,
  couponId: number,
  userId: number,
  join: boolean,
): Promise<Ticket> {
  let policy: CouponPolicy | undefined;
  try {
    policy = await policyOf(couponId);
  } catch (err) {
    throw policyUnavailable(err);
  }
  if (!policy) throw couponNotFound(couponId);
  const perSecond = policy.admissionPerSecond;
  if (!perSecond) throw queueNotUsed(couponId);
  const settings = room.settings();
  let turn;
  try {
    turn = await room.line.turn(
      couponId,
      userId,
      join,
      {
        issueStartAt: policy.issueStartAt,
        issueEndAt: policy.issueEndAt,
        totalQuantity: policy.totalQuantity,
        perSecond,
        autoStartPerSecond: settings.auto.startPerSecond,
        margin: marginOf(policy, settings),
        passTtlMs: settings.passTtlMs,
        minPollMs: settings.minPollMs,
        maxPollMs: settings.maxPollMs,
      },
      room.termsHoldMs,
    );
  } catch {
    throw issueUnavailable('waiting room');
  }
  if (perSecond === 'auto') room.governor.asking(couponId);
  if (isTicketTurn(turn)) return ticketOf(couponId, userId, turn, { issueStartAt: policy.issueStartAt, minPollMs: settings.minPollMs, maxPollMs: settings.maxPollMs }, room.passes);
  switch (turn.kind) {
    case 'NOT_IN_QUEUE':
      throw notInQueue(couponId);
    // The line found the user among the claims: the holder check tells held, in flight or rebuilding.
    case 'CLAIMED':
      return refuseUnlessHeld(couponId, userId, issueUnavailable('an earlier claim of yours is being decided'));
    case 'SOLD_OUT':
      return refuseUnlessHeld(couponId, userId, soldOut());
    case 'WINDOW_CLOSED':
      return refuseUnlessHeld(couponId, userId, windowClosed());
  }
}

/**
 * The expiry of an admitted user's pass for a claim of a queued coupon, once its signature, user
 * and coupon are checked here; the claim script takes it (single use) after its holder check. No
 * pass is QUEUE_REQUIRED; one not this user's for this coupon, expired or forged, QUEUE_PASS_INVALID.
 */
export function passExpiry(room: WaitingRoom, couponId: number, userId: number, pass: string | undefined): number {
  if (!pass) throw queueRequired(couponId);
  const expiresAt = room.passes.expiryOf(pass, couponId, userId);
  if (expiresAt === undefined || expiresAt <= Date.now()) throw passInvalid();
  return expiresAt;
}
