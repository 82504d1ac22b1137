import fs from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import { TickBatches } from '@coupon-rush/platform';
import { claimsKeyOf } from './coupon-keys';

// The scripts ship as .lua sources next to this module's source; tsc does not copy them to dist.
const read = (name: string) => fs.readFileSync(path.resolve(__dirname, '../../src', `${name}.lua`), 'utf8');

/** Where a user stands in a coupon's waiting room, as the line script answers. */
export type Turn =
  /** placesLeft: passes still to be handed out before the stock is gone (null: unlimited). */
  | { kind: 'WAITING'; position: number; waiting: number; perSecond: number; placesLeft: number | null }
  | { kind: 'ADMITTED'; passExpiresAt: number }
  | { kind: 'PRE_QUEUE'; size: number }
  | { kind: 'PASS_EXPIRED' }
  /** neverAdmitted: no pass out and no place in the admitted part of the line, so no claim (a queued coupon's takes a pass). */
  | { kind: 'SOLD_OUT' | 'WINDOW_CLOSED'; neverAdmitted: boolean }
  | { kind: 'NOT_IN_QUEUE' | 'CLAIMED' };

interface LineCommands {
  queueTurns(line: string, pre: string, state: string, passes: string, claims: string, ...args: Array<string | number>): Promise<number[]>;
  queuePass(passes: string, userId: number, expiresAt: number): Promise<number>;
}

const REFUSED: Record<number, 'NOT_IN_QUEUE' | 'PASS_EXPIRED' | 'CLAIMED'> = { [-1]: 'NOT_IN_QUEUE', [-5]: 'PASS_EXPIRED', [-6]: 'CLAIMED' };

/** What a turn needs of the coupon and of the room's settings. */
export interface LineTerms {
  issueStartAt: number;
  issueEndAt: number;
  totalQuantity: number | null;
  /** Admissions a second, or 'auto': the rate the governor keeps in the room's state (autoStartPerSecond until it has set one). */
  perSecond: number | 'auto';
  autoStartPerSecond: number;
  margin: number;
  passTtlMs: number;
  /** The poll interval the server sets is within these bounds (far back in the line asks less often). */
  minPollMs: number;
  maxPollMs: number;
}

/** What an answer to a turn needs of the terms, whoever made the turn. */
export type AnswerTerms = Pick<LineTerms, 'issueStartAt' | 'minPollMs' | 'maxPollMs'>;

/** The turns of a batch of users, in the order they were given, and the terms they were taken under. */
export interface Turns {
  turns: Turn[];
  terms: AnswerTerms;
}

function turnOf(code: number, a: number, b: number, rate: number, placesLeft: number): Turn {
  if (code === 1) return { kind: 'WAITING', position: a, waiting: b, perSecond: rate, placesLeft: placesLeft < 0 ? null : placesLeft };
  if (code === 2) return { kind: 'ADMITTED', passExpiresAt: a };
  if (code === 3) return { kind: 'PRE_QUEUE', size: a };
  if (code === -2 || code === -3) return { kind: code === -2 ? 'SOLD_OUT' : 'WINDOW_CLOSED', neverAdmitted: b === 1 };
  const kind = REFUSED[code];
  if (!kind) throw new Error(`waiting-line script answered ${code}`);
  return { kind } as Turn;
}

/** The room's counters, for the console and the metrics. */
export interface LineState {
  joined: number;
  admitted: number;
  waiting: number;
  preQueue: number;
  passesOut: number;
  abandoned: number;
  /** The rate an automatic room admits at, as its governor set it; null until set (or a fixed rate). */
  autoPerSecond: number | null;
}

/**
 * A coupon's waiting room in Redis, under the coupon's hash slot: the line (a sorted set of users
 * by join sequence), the pre-queue before the window opens, the admission state (sequence, served,
 * the admission clock), and the passes out (user → expiry). Every step is one script, so any number
 * of issue-coupon instances admit together at one rate, on Redis's clock.
 */
export class WaitingLine {
  private readonly redis: Redis & LineCommands;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis = redis as Redis & LineCommands;
    if (!(redis as unknown as { queueTurns?: unknown }).queueTurns) {
      redis.defineCommand('queueTurns', { numberOfKeys: 5, lua: read('waiting-line') });
      redis.defineCommand('queuePass', { numberOfKeys: 1, lua: read('waiting-pass') });
    }
  }

  private keys(couponId: number) {
    const base = `${this.prefix}coupon:{${couponId}}:queue`;
    return { line: `${base}:line`, pre: `${base}:pre`, state: `${base}:state`, passes: `${base}:passes` };
  }

  /**
   * Joins (or asks again: the place is kept) and admits whoever the rate allows by now, for users
   * in their order of arrival. With `terms` (the coupon's, from its policy) the room keeps them for
   * `termsHoldMs`, so that a caller without the coupon's policy (the gateway) can take turns with
   * `terms` undefined: then undefined when no terms hold (ask the service that has the policy).
   */
  async turns(couponId: number, userIds: number[], join: boolean, terms?: LineTerms, termsHoldMs = 0): Promise<Turns | undefined> {
    const k = this.keys(couponId);
    const given = terms
      ? [
          terms.issueStartAt,
          terms.issueEndAt,
          terms.totalQuantity ?? -1,
          terms.perSecond === 'auto' ? 0 : terms.perSecond,
          terms.margin,
          terms.passTtlMs,
          terms.autoStartPerSecond,
          terms.minPollMs,
          terms.maxPollMs,
        ]
      : [];
    const out = await this.redis.queueTurns(
      k.line,
      k.pre,
      k.state,
      k.passes,
      claimsKeyOf(this.prefix, couponId),
      join ? 1 : 0,
      terms ? Math.max(1, termsHoldMs) : 0,
      userIds.length,
      ...userIds,
      ...given,
    );
    if (out[0] === -9) return undefined;
    const turns: Turn[] = [];
    for (let i = 4; i < out.length; i += 4) turns.push(turnOf(out[i], out[i + 1], out[i + 2], out[i + 3], out[3]));
    return { turns, terms: { issueStartAt: out[0], minPollMs: out[1], maxPollMs: out[2] } };
  }

  /** One user's turn under the coupon's own terms (kept for `termsHoldMs` for the gateway's turns). */
  async turn(couponId: number, userId: number, join: boolean, terms: LineTerms, termsHoldMs = 0): Promise<Turn> {
    return (await this.turns(couponId, [userId], join, terms, termsHoldMs))!.turns[0];
  }

  /** Puts a used pass back (its claim kept nothing), if it has not expired meanwhile. */
  async restorePass(couponId: number, userId: number, expiresAt: number): Promise<void> {
    await this.redis.queuePass(this.keys(couponId).passes, userId, expiresAt);
  }

  async state(couponId: number): Promise<LineState> {
    const k = this.keys(couponId);
    const [[, state], [, preQueue], [, passesOut]] = (await this.redis.multi().hmget(k.state, 'seq', 'served', 'abandoned', 'rate').scard(k.pre).zcard(k.passes).exec()) as [
      [unknown, Array<string | null>],
      [unknown, number],
      [unknown, number],
    ];
    const [joined, admitted, abandoned] = state.slice(0, 3).map((v) => Number(v ?? 0));
    return { joined, admitted, waiting: joined - admitted, preQueue, passesOut, abandoned, autoPerSecond: state[3] === null ? null : Number(state[3]) };
  }

  /**
   * Takes the governing of an automatic room for `forMs` (one instance adjusts its rate per period,
   * whichever gets there first); whether this caller got it.
   */
  async governs(couponId: number, forMs: number, by: string): Promise<boolean> {
    return (await this.redis.set(`${this.keys(couponId).state}:governor`, by, 'PX', forMs, 'NX')) === 'OK';
  }

  /** Sets an automatic room's rate (admissions a second). */
  async setAutoRate(couponId: number, perSecond: number): Promise<void> {
    await this.redis.hset(this.keys(couponId).state, 'rate', perSecond);
  }
}

/**
 * Turns taken without the coupon's terms (the gateway's), gathered per coupon and kind (join or
 * ask) while the event loop reads a burst, then sent as one script call in their order of arrival:
 * a crowd's joins cost Redis one call per batch, not per user, and the line's order is the order
 * the requests were read.
 */
export class TurnBatches {
  private readonly rooms = new Map<string, TickBatches<number, { turn: Turn; terms: AnswerTerms } | undefined>>();

  constructor(
    private readonly line: WaitingLine,
    private readonly maxBatch = 256,
  ) {}

  /** The user's turn under the terms the room holds; undefined when it holds none. */
  take(couponId: number, userId: number, join: boolean): Promise<{ turn: Turn; terms: AnswerTerms } | undefined> {
    const key = `${couponId}:${join ? 1 : 0}`;
    let room = this.rooms.get(key);
    if (!room) {
      room = new TickBatches(async (userIds) => {
        const answer = await this.line.turns(couponId, userIds, join);
        return userIds.map((_, i) => answer && { turn: answer.turns[i], terms: answer.terms });
      }, this.maxBatch);
      this.rooms.set(key, room);
    }
    return room.take(userId);
  }
}
