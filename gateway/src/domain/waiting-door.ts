import { QueuePasses, TurnBatches, WaitingLine, isTicketTurn, soldOut, ticketOf, windowClosed, type Ticket } from '@coupon-rush/issue-contract';
import type { AppError } from '@coupon-rush/platform';
import type Redis from 'ioredis';

/**
 * Why a turn goes on to issue-coupon: its Redis call failed or timed out, the user is among the
 * claimants or was let in (the holder check is due), or has no place in line.
 */
export type SendOn = 'redis' | 'claimant' | 'let-in' | 'not-in-line';

/** The upstream path of a turn in a coupon's waiting room, as issue-coupon serves it. */
const TURN_PATH = /^\/coupons\/([1-9]\d{0,15})\/queue\/?(?:\?.*)?$/;

/**
 * The waiting room's door at the gateway. A crowd's joins and polls are most of a queued rush's
 * requests, and most of them only learn a place in line: the gateway answers those itself, from the
 * room's state in Redis and with the terms issue-coupon left there (the window, the stock, the
 * rate, for as long as issue-coupon trusts its own copy of the policy), with one script call per
 * batch of users read together. It also says SOLD_OUT and ISSUE_WINDOW_CLOSED to those the room
 * never let in: a queued coupon's claim takes a pass, so they hold nothing (the claims set, the
 * passes out and the admitted part of the line are read in the same script). Everything else — a
 * room without terms here, anyone who was let in, a user not in line, a Redis that does not
 * answer — goes on to issue-coupon, which has the coupon's policy and the holder check.
 */
export class WaitingDoor {
  private readonly batches: TurnBatches;
  private readonly passes: QueuePasses;
  /** Rooms whose terms a turn sent to issue-coupon is fetching, settled when its answer is written. */
  private readonly fetching = new Map<number, Promise<void>>();

  constructor(redis: Redis, keyPrefix: string, internalSecret: string) {
    this.batches = new TurnBatches(new WaitingLine(redis, keyPrefix));
    this.passes = new QueuePasses(internalSecret);
  }

  /** The coupon of a turn's upstream path, or undefined when the path is not a turn. */
  couponOf(upstreamPath: string): number | undefined {
    const m = TURN_PATH.exec(upstreamPath);
    return m ? Number(m[1]) : undefined;
  }

  /**
   * The user's ticket, or a refusal, when the gateway can answer; NO_TERMS when the room holds no
   * terms (issue-coupon leaves them with any turn it answers); otherwise why issue-coupon must.
   */
  async ticket(couponId: number, userId: number, join: boolean): Promise<Ticket | AppError | 'NO_TERMS' | SendOn> {
    let answer;
    try {
      answer = await this.batches.take(couponId, userId, join);
    } catch {
      return 'redis';
    }
    if (!answer) return 'NO_TERMS';
    const { turn } = answer;
    if (turn.kind === 'SOLD_OUT' || turn.kind === 'WINDOW_CLOSED') {
      if (!turn.neverAdmitted) return 'let-in';
      return turn.kind === 'SOLD_OUT' ? soldOut() : windowClosed();
    }
    if (isTicketTurn(turn)) return ticketOf(couponId, userId, turn, answer.terms, this.passes);
    return turn.kind === 'CLAIMED' ? 'claimant' : 'not-in-line';
  }

  /** The fetch of a room's terms under way, if any. */
  termsAsked(couponId: number): Promise<void> | undefined {
    return this.fetching.get(couponId);
  }

  /** Marks a room's terms as being fetched by the caller's turn; call the result once it is answered. */
  askForTerms(couponId: number): () => void {
    let settle!: () => void;
    this.fetching.set(couponId, new Promise<void>((resolve) => (settle = resolve)));
    return () => {
      this.fetching.delete(couponId);
      settle();
    };
  }
}
