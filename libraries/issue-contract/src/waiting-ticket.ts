import type { QueuePasses } from './queue-pass';
import type { AnswerTerms, Turn } from './waiting-line';

/** The answer to a join or a poll, whoever gives it (the gateway for those waiting, issue-coupon for the rest). */
export type Ticket =
  | { couponId: number; status: 'WAITING'; phase: 'QUEUE'; position: number; ahead: number; estimatedWaitSeconds: number; pollAfterMs: number }
  | { couponId: number; status: 'WAITING'; phase: 'PRE_QUEUE'; position: null; ahead: null; queued: number; opensAt: string; estimatedWaitSeconds: number; pollAfterMs: number }
  | { couponId: number; status: 'ADMITTED'; pass: string; passExpiresAt: string }
  | { couponId: number; status: 'EXPIRED' };

/** The turns a ticket answers; the others are refusals, said after the holder check. */
export type TicketTurn = Extract<Turn, { kind: 'WAITING' | 'PRE_QUEUE' | 'ADMITTED' | 'PASS_EXPIRED' }>;

export function isTicketTurn(turn: Turn): turn is TicketTurn {
  return turn.kind === 'WAITING' || turn.kind === 'PRE_QUEUE' || turn.kind === 'ADMITTED' || turn.kind === 'PASS_EXPIRED';
}

/** Polls are spread a little, so a line admitted in one step does not come back in one step. */
const jitter = (ms: number) => Math.round(ms * (0.9 + Math.random() * 0.2));
const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

/** A user's ticket for a turn that is not a refusal: the place, the wait and when to ask again, or the pass. */
export function ticketOf(couponId: number, userId: number, turn: TicketTurn, terms: AnswerTerms, passes: QueuePasses): Ticket {
  switch (turn.kind) {
    case 'WAITING': {
      const secondsToTurn = turn.position / turn.perSecond;
      // Asked about four times before one's turn, never more often than minPollMs. Behind the
      // places still to be handed out, the next news is the stock running out (or passes lapsing)
      // once those are handed out: not sooner, so that a crowd far back asks once or twice, not
      // throughout the admission of those ahead.
      const untilPlacesGoneMs = turn.placesLeft !== null && turn.position > turn.placesLeft ? ((turn.placesLeft + 1) * 1000) / turn.perSecond : 0;
      const pollAfterMs = jitter(clamp(Math.max((secondsToTurn * 1000) / 4, untilPlacesGoneMs), terms.minPollMs, terms.maxPollMs));
      return { couponId, status: 'WAITING', phase: 'QUEUE', position: turn.position, ahead: turn.position - 1, estimatedWaitSeconds: Math.ceil(secondsToTurn), pollAfterMs };
    }
    case 'PRE_QUEUE': {
      const untilOpen = Math.max(0, terms.issueStartAt - Date.now());
      // The place is drawn at the start: ask again then (the first ask after it draws the order).
      const pollAfterMs = jitter(clamp(untilOpen, terms.minPollMs, terms.maxPollMs));
      return {
        couponId,
        status: 'WAITING',
        phase: 'PRE_QUEUE',
        position: null,
        ahead: null,
        queued: turn.size,
        opensAt: new Date(terms.issueStartAt).toISOString(),
        estimatedWaitSeconds: Math.ceil(untilOpen / 1000),
        pollAfterMs,
      };
    }
    case 'ADMITTED':
      return { couponId, status: 'ADMITTED', pass: passes.mint(couponId, userId, turn.passExpiresAt), passExpiresAt: new Date(turn.passExpiresAt).toISOString() };
    case 'PASS_EXPIRED':
      return { couponId, status: 'EXPIRED' };
  }
}
