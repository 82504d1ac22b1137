import fs from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import { claimsKeyOf, passesKeyOf } from './coupon-keys';

/**
 * ACCEPTED: claimed; ALREADY_ISSUED: the user holds an acknowledged or persisted claim; SOLD_OUT;
 * IN_FLIGHT: another request of the user is still being decided; REBUILDING: the coupon's sets are
 * being rebuilt after a Redis failover and decide nothing until then; PASS_INVALID: a queued
 * coupon's waiting-room pass is not out for this user with this expiry (used, lapsed, replaced).
 */
export type ClaimResult = 'ACCEPTED' | 'ALREADY_ISSUED' | 'SOLD_OUT' | 'IN_FLIGHT' | 'REBUILDING' | 'PASS_INVALID';

/** Whether a user holds a claim, asked without claiming: HELD, NONE, IN_FLIGHT or REBUILDING. */
export type Holding = 'HELD' | 'NONE' | 'IN_FLIGHT' | 'REBUILDING';

/**
 * A revocation asked of sets that await a rebuild after a failover: whether the consumer already
 * persisted the claim's record cannot be told yet, so the caller must promise neither outcome.
 */
export class LedgerRebuilding extends Error {
  constructor(readonly couponId: number) {
    super(`the claims of coupon ${couponId} are being rebuilt after a Redis failover`);
  }
}

/** How many replicas must hold a ledger write before it counts, and for how long to wait. */
export interface LedgerDurability {
  replicas: number;
  timeoutMs: number;
}

/**
 * A ledger write the master applied but fewer replicas than required acknowledged in time: a
 * failover now could lose it, so the caller must not act on it (a claim is released and refused).
 */
export class ClaimNotReplicated extends Error {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
  ) {
    super(`ledger write held by ${acknowledged} of ${required} required replicas`);
  }
}

// The scripts ship as .lua sources next to this module's source; tsc does not copy them to dist.
const SCRIPT_DIR = path.resolve(__dirname, '../../src');
const read = (name: string) => fs.readFileSync(path.join(SCRIPT_DIR, `${name}.lua`), 'utf8');
// Every script starts with the shared functions (Lua scripts cannot include one another).
const script = (name: string) => `${read('ledger-common')}\n${read(name)}`;

interface ClaimCommands {
  couponClaim(
    claims: string,
    revoked: string,
    pending: string,
    timeline: string,
    passes: string,
    userId: string,
    total: number,
    claimId: string,
    decidedWithinMs: number,
    passExpiresAt: number,
  ): Promise<number>;
  couponHolding(claims: string, revoked: string, pending: string, timeline: string, decidedWithinMs: number, ...userIds: string[]): Promise<number[]>;
  couponRevoke(claims: string, revoked: string, confirmed: string, pending: string, timeline: string, userId: string, claimId: string): Promise<number>;
  couponConfirm(revoked: string, confirmed: string, pending: string, ...userIds: string[]): Promise<number[]>;
  couponMarkPublished(claims: string, pending: string, userId: string, claimId: string): Promise<number>;
  couponReleaseStranded(claims: string, revoked: string, pending: string, timeline: string, userId: string, olderThanMs: number): Promise<number>;
  couponRebuild(claims: string, revoked: string, confirmed: string, pending: string, timeline: string, replid: string, last: '0' | '1', ...userIds: string[]): Promise<number>;
  couponOpen(timeline: string): Promise<string>;
}

/** When the last answer to a request may come: a claim unmarked past it was never answered 202. */
const DEFAULT_DECIDED_WITHIN_MS = 10_000;

const CLAIM_REFUSALS: Record<number, ClaimResult> = { [-1]: 'ALREADY_ISSUED', [-2]: 'SOLD_OUT', [-3]: 'REBUILDING', [-4]: 'IN_FLIGHT', [-5]: 'PASS_INVALID' };
const HOLDINGS: Record<number, Holding> = { [-1]: 'HELD', 0: 'NONE', 1: 'NONE', [-3]: 'REBUILDING', [-4]: 'IN_FLIGHT' };

interface HoldingQuestion {
  userId: number;
  resolve(holding: Holding): void;
  reject(err: unknown): void;
}

const unexpectedReply = (reply: unknown) => new Error(`unexpected ledger script reply ${String(reply)}`);

function unexpected(reply: unknown): never {
  throw unexpectedReply(reply);
}

/**
 * The per-coupon claim sets in Redis. Keys share a hash tag so one coupon's sets live on one
 * node if Redis is ever clustered. Scripts are registered once and run by SHA (ioredis falls back
 * to EVAL once when a freshly promoted master has not seen them).
 *
 * Each coupon's sets are valid on one replication timeline (`timeline` key): a new coupon opens
 * them on the current one, and after a failover `rebuild` validates them again from the rows.
 */
export class ClaimLedger {
  private readonly redis: Redis & ClaimCommands;

  // WAIT covers every write this connection sent before it, and blocks the connection while it
  // waits: writes sent meanwhile run after it and share the next WAIT (a group commit).
  private waitInFlight?: Promise<number>;
  private waitQueued?: Promise<number>;
  private readonly holdingBatches = new Map<number, HoldingQuestion[]>();

  /**
   * `decidedWithinMs`: every issue request is answered within this time (issue-coupon's own bound),
   * so a claim still unmarked after it was never answered 202 and may be released by whoever meets it.
   */
  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly durability: LedgerDurability = { replicas: 0, timeoutMs: 0 },
    private readonly decidedWithinMs = DEFAULT_DECIDED_WITHIN_MS,
  ) {
    this.redis = redis as Redis & ClaimCommands;
    const commands = this.redis as unknown as { couponClaim?: unknown };
    if (!commands.couponClaim) {
      redis.defineCommand('couponClaim', { numberOfKeys: 5, lua: script('claim') });
      redis.defineCommand('couponHolding', { numberOfKeys: 4, lua: script('holding') });
      redis.defineCommand('couponRevoke', { numberOfKeys: 5, lua: script('revoke') });
      redis.defineCommand('couponConfirm', { numberOfKeys: 3, lua: script('confirm') });
      redis.defineCommand('couponMarkPublished', { numberOfKeys: 2, lua: script('mark-published') });
      redis.defineCommand('couponReleaseStranded', { numberOfKeys: 4, lua: script('release-stranded') });
      redis.defineCommand('couponRebuild', { numberOfKeys: 5, lua: script('rebuild') });
      redis.defineCommand('couponOpen', { numberOfKeys: 1, lua: script('open') });
    }
  }

  private replicated(): Promise<void> {
    const { replicas, timeoutMs } = this.durability;
    if (replicas === 0) return Promise.resolve();
    let acked: Promise<number>;
    if (!this.waitInFlight) {
      acked = this.waitInFlight = this.sendWait(replicas, timeoutMs);
    } else {
      acked = this.waitQueued ??= this.waitInFlight
        .catch(() => 0)
        .then(() => {
          this.waitQueued = undefined;
          return (this.waitInFlight = this.sendWait(replicas, timeoutMs));
        });
    }
    return acked.then((n) => {
      if (n < replicas) throw new ClaimNotReplicated(n, replicas);
    });
  }

  private sendWait(replicas: number, timeoutMs: number): Promise<number> {
    const sent = this.redis.call('WAIT', replicas, timeoutMs) as Promise<number>;
    const done = () => {
      if (this.waitInFlight === sent) this.waitInFlight = undefined;
    };
    sent.then(done, done);
    return sent;
  }

  claimsKey(couponId: number): string {
    return claimsKeyOf(this.prefix, couponId);
  }

  private revokedKey(couponId: number): string {
    return `${this.prefix}coupon:{${couponId}}:revoked`;
  }

  private confirmedKey(couponId: number): string {
    return `${this.prefix}coupon:{${couponId}}:confirmed`;
  }

  private pendingKey(couponId: number): string {
    return `${this.prefix}coupon:{${couponId}}:pending`;
  }

  private timelineKey(couponId: number): string {
    return `${this.prefix}coupon:{${couponId}}:timeline`;
  }

  private keys(couponId: number) {
    return {
      claims: this.claimsKey(couponId),
      revoked: this.revokedKey(couponId),
      confirmed: this.confirmedKey(couponId),
      pending: this.pendingKey(couponId),
      timeline: this.timelineKey(couponId),
    };
  }

  /**
   * An accepted claim is returned only once it is replicated (else ClaimNotReplicated). `claimId`
   * (the event's id) ties the later mark or revocation to this claim, not to a newer one of the user.
   */
  /**
   * Claims for the user. A queued coupon's claim names the user's waiting-room pass by its expiry:
   * the script takes it out with the claim (after the holder check, before the stock), so a pass is
   * spent only by a claim that stands, in the same round trip.
   */
  async claim(couponId: number, userId: number, totalQuantity: number | null, claimId = '', passExpiresAt = 0): Promise<ClaimResult> {
    const k = this.keys(couponId);
    const r = await this.redis.couponClaim(
      k.claims,
      k.revoked,
      k.pending,
      k.timeline,
      passesKeyOf(this.prefix, couponId),
      String(userId),
      totalQuantity ?? -1,
      claimId,
      this.decidedWithinMs,
      passExpiresAt,
    );
    if (r !== 1) return CLAIM_REFUSALS[r] ?? unexpected(r);
    await this.replicated();
    return 'ACCEPTED';
  }

  /**
   * Whether the user holds a claim, for answers that refuse without claiming. The checks of one
   * coupon that arrive in the same turn of the event loop go to Redis as one script call: a crowd
   * refused behind the sold-out flag costs one round trip per turn, not one per request.
   */
  holding(couponId: number, userId: number): Promise<Holding> {
    let batch = this.holdingBatches.get(couponId);
    if (!batch) {
      batch = [];
      this.holdingBatches.set(couponId, batch);
      const users = batch;
      setImmediate(() => {
        this.holdingBatches.delete(couponId);
        this.holdingOf(couponId, users);
      });
    }
    return new Promise((resolve, reject) => batch.push({ userId, resolve, reject }));
  }

  private holdingOf(couponId: number, asked: HoldingQuestion[]): void {
    const k = this.keys(couponId);
    this.redis
      .couponHolding(k.claims, k.revoked, k.pending, k.timeline, this.decidedWithinMs, ...asked.map((q) => String(q.userId)))
      // 1: a stranded claim was released on the way, which must be durable before anyone hears "no".
      .then(async (replies) => (replies.includes(1) && (await this.replicated()), replies))
      .then(
        (replies) => asked.forEach((q, i) => (HOLDINGS[replies[i]] ? q.resolve(HOLDINGS[replies[i]]) : q.reject(unexpectedReply(replies[i])))),
        (err) => asked.forEach((q) => q.reject(err)),
      );
  }

  /** Claims held per coupon (one round trip for all of them). */
  async claimedCounts(couponIds: number[]): Promise<number[]> {
    if (couponIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of couponIds) pipeline.scard(this.claimsKey(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, n]) => (err ? Number.NaN : Number(n)));
  }

  /**
   * Releases a claim unless the consumer already confirmed its event; true when released (or when
   * the user's pending claim is another request's, which this one must leave alone). Either answer
   * is returned only once replicated: the tombstone is what keeps a late record out. Throws
   * LedgerRebuilding while the sets await a rebuild.
   */
  async revoke(couponId: number, userId: number, claimId = ''): Promise<boolean> {
    const k = this.keys(couponId);
    const r = await this.redis.couponRevoke(k.claims, k.revoked, k.confirmed, k.pending, k.timeline, String(userId), claimId);
    if (r === -3) throw new LedgerRebuilding(couponId);
    await this.replicated();
    return r !== 0;
  }

  /**
   * For the consumer: which users of one coupon may be persisted (true) or were revoked (false),
   * returned once replicated, so no failover can later let a revocation win over a persisted row.
   * Not bound to a timeline: the consumer goes on while the sets are rebuilt, which waits for it.
   */
  async confirm(couponId: number, userIds: number[]): Promise<boolean[]> {
    if (userIds.length === 0) return [];
    const k = this.keys(couponId);
    const r = await this.redis.couponConfirm(k.revoked, k.confirmed, k.pending, ...userIds.map(String));
    await this.replicated();
    return r.map((v) => v === 1);
  }

  /**
   * Marks a claim whose event Kafka acknowledged; true when marked (and replicated), false when
   * the claim was released meanwhile. A 202 is answered only for a marked claim.
   */
  async markPublished(couponId: number, userId: number, claimId = ''): Promise<boolean> {
    const k = this.keys(couponId);
    const marked = await this.redis.couponMarkPublished(k.claims, k.pending, String(userId), claimId);
    await this.replicated();
    return marked === 1;
  }

  /**
   * Users of one coupon whose claim is unmarked (no acknowledged event) and neither confirmed nor
   * revoked for `olderThanMs` (by the Redis server's clock): the process that made it died before
   * its event was acknowledged, so its user was never told 202.
   */
  async stalePending(couponId: number, olderThanMs: number): Promise<number[]> {
    const [[seconds, micros], pending] = await Promise.all([this.redis.time(), this.redis.hgetall(this.pendingKey(couponId))]);
    const cutoff = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - olderThanMs;
    return Object.entries(pending)
      .filter(([, at]) => !at.startsWith('published') && Number.parseInt(at, 10) < cutoff)
      .map(([user]) => Number(user));
  }

  /**
   * For the sweep: releases one stranded claim (unmarked, pending longer than `olderThanMs` by the
   * server's clock) and tombstones it, checked and done in one script; true when released, once
   * replicated. A claim marked published or confirmed in the meantime is kept, and nothing is
   * released while the sets await a rebuild.
   */
  async releaseStranded(couponId: number, userId: number, olderThanMs: number): Promise<boolean> {
    const k = this.keys(couponId);
    const r = await this.redis.couponReleaseStranded(k.claims, k.revoked, k.pending, k.timeline, String(userId), olderThanMs);
    await this.replicated();
    return r === 1;
  }

  /** A new coupon: its sets are valid on the current timeline (it has no history on another). */
  async open(couponId: number): Promise<void> {
    await this.redis.couponOpen(this.timelineKey(couponId));
    await this.replicated();
  }

  /** The replication timeline of the master this ledger talks to (its master_replid). */
  async currentTimeline(): Promise<string> {
    const info = await this.redis.info('replication');
    const replid = /^master_replid:(\w+)/m.exec(info)?.[1];
    if (!replid) throw new Error('INFO replication named no master_replid');
    return replid;
  }

  /** Whether the coupon's sets are valid on the master's current timeline. */
  async isOnTimeline(couponId: number): Promise<boolean> {
    const [timeline, current] = await Promise.all([this.redis.get(this.timelineKey(couponId)), this.currentTimeline()]);
    return timeline === current;
  }

  /**
   * Validates the coupon's sets on `timeline` from the users holding a row: each holds a confirmed
   * claim, and the last chunk opens the sets. False when the master moved to another timeline
   * meanwhile (nothing was opened; the caller starts again).
   */
  async rebuild(couponId: number, timeline: string, holders: AsyncIterable<number[]>): Promise<boolean> {
    const k = this.keys(couponId);
    const chunk = (last: '0' | '1', users: number[]) => this.redis.couponRebuild(k.claims, k.revoked, k.confirmed, k.pending, k.timeline, timeline, last, ...users.map(String));
    for await (const users of holders) {
      if (users.length > 0 && (await chunk('0', users)) !== 1) return false;
    }
    const opened = (await chunk('1', [])) === 1;
    await this.replicated();
    return opened;
  }

  async counts(couponId: number): Promise<{ claims: number; confirmed: number; revoked: number }> {
    const [claims, confirmed, revoked] = await Promise.all([this.redis.scard(this.claimsKey(couponId)), this.redis.scard(this.confirmedKey(couponId)), this.redis.scard(this.revokedKey(couponId))]);
    return { claims, confirmed, revoked };
  }

  /**
   * The claims of one coupon, a batch at a time, each with its state in the pending hash:
   * `unpublished` while no event of it is acknowledged (with its age by the server's clock as the
   * scan began), `published` once one is, `confirmed` once the consumer confirmed it (no pending
   * entry: a claim never pending reads the same). SSCAN with COUNT, not SMEMBERS: each step holds
   * Redis for about `batchSize` members however large the set. A member held throughout the scan
   * comes at least once (SSCAN may return one twice); one added or released meanwhile may not.
   */
  async *claimMembers(couponId: number, batchSize = 1000): AsyncGenerator<Array<{ userId: number; state: 'unpublished' | 'published' | 'confirmed'; unpublishedForMs?: number }>> {
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    let cursor = '0';
    do {
      const [next, users] = await this.redis.sscan(this.claimsKey(couponId), cursor, 'COUNT', batchSize);
      cursor = next;
      if (users.length === 0) continue;
      const pending = await this.redis.hmget(this.pendingKey(couponId), ...users);
      yield users.map((user, i) => {
        const at = pending[i];
        if (at === null) return { userId: Number(user), state: 'confirmed' as const };
        // 'published <claim id>' once its event was acknowledged, '<ms> <claim id>' before (ledger-common.lua).
        if (at.startsWith('published')) return { userId: Number(user), state: 'published' as const };
        return { userId: Number(user), state: 'unpublished' as const, unpublishedForMs: Math.max(0, now - Number.parseInt(at, 10)) };
      });
    } while (cursor !== '0');
  }
}
