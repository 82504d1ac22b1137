import fs from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { ClaimLedger } from './claim-ledger';

// The scripts ship as .lua sources next to this module's source; tsc does not copy them to dist.
const read = (name: string) => fs.readFileSync(path.resolve(__dirname, '../../src', `${name}.lua`), 'utf8');

/** Where a user stands in a coupon's waiting room, as the line script answers. */
export type Turn =
  | { kind: 'WAITING'; position: number; waiting: number; perSecond: number }
  | { kind: 'ADMITTED'; passExpiresAt: number }
  | { kind: 'PRE_QUEUE'; size: number }
  | { kind: 'NOT_IN_QUEUE' | 'SOLD_OUT' | 'WINDOW_CLOSED' | 'PASS_EXPIRED' | 'CLAIMED' };

interface LineCommands {
  queueTurn(line: string, pre: string, state: string, passes: string, claims: string, ...args: Array<string | number>): Promise<[number, number, number, number]>;
  queuePass(passes: string, mode: 'use' | 'restore', userId: number, expiresAt: number): Promise<number>;
}

const REFUSED: Record<number, Turn['kind']> = { [-1]: 'NOT_IN_QUEUE', [-2]: 'SOLD_OUT', [-3]: 'WINDOW_CLOSED', [-5]: 'PASS_EXPIRED', [-6]: 'CLAIMED' };

/** What one turn needs of the coupon and of the room's settings. */
export interface LineTerms {
  issueStartAt: number;
  issueEndAt: number;
  totalQuantity: number | null;
  /** Admissions a second, or 'auto': the rate the governor keeps in the room's state (autoStartPerSecond until it has set one). */
  perSecond: number | 'auto';
  autoStartPerSecond: number;
  margin: number;
  passTtlMs: number;
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
    private readonly ledger: ClaimLedger,
  ) {
    this.redis = redis as Redis & LineCommands;
    if (!(redis as unknown as { queueTurn?: unknown }).queueTurn) {
      redis.defineCommand('queueTurn', { numberOfKeys: 5, lua: read('waiting-line') });
      redis.defineCommand('queuePass', { numberOfKeys: 1, lua: read('waiting-pass') });
    }
  }

  private keys(couponId: number) {
    const base = `${this.prefix}coupon:{${couponId}}:queue`;
    return { line: `${base}:line`, pre: `${base}:pre`, state: `${base}:state`, passes: `${base}:passes` };
  }

  /** Joins (or asks again: the place is kept) and admits whoever the rate allows by now. */
  async turn(couponId: number, userId: number, join: boolean, terms: LineTerms): Promise<Turn> {
    const k = this.keys(couponId);
    const [code, a, b, rate] = await this.redis.queueTurn(
      k.line,
      k.pre,
      k.state,
      k.passes,
      this.ledger.claimsKey(couponId),
      userId,
      join ? 1 : 0,
      terms.issueStartAt,
      terms.issueEndAt,
      terms.totalQuantity ?? -1,
      terms.perSecond === 'auto' ? 0 : terms.perSecond,
      terms.margin,
      terms.passTtlMs,
      terms.autoStartPerSecond,
    );
    if (code === 1) return { kind: 'WAITING', position: a, waiting: b, perSecond: rate };
    if (code === 2) return { kind: 'ADMITTED', passExpiresAt: a };
    if (code === 3) return { kind: 'PRE_QUEUE', size: a };
    const kind = REFUSED[code];
    if (!kind) throw new Error(`waiting-line script answered ${code}`);
    return { kind } as Turn;
  }

  /** Takes the user's pass out (single use): true only for the pass admitted with this expiry, before it. */
  async usePass(couponId: number, userId: number, expiresAt: number): Promise<boolean> {
    return (await this.redis.queuePass(this.keys(couponId).passes, 'use', userId, expiresAt)) === 1;
  }

  /** Puts a used pass back (its claim kept nothing), if it has not expired meanwhile. */
  async restorePass(couponId: number, userId: number, expiresAt: number): Promise<void> {
    await this.redis.queuePass(this.keys(couponId).passes, 'restore', userId, expiresAt);
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
