import fs from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';

export type ClaimResult = 'ACCEPTED' | 'ALREADY_ISSUED' | 'SOLD_OUT';

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
const script = (name: string) => fs.readFileSync(path.join(SCRIPT_DIR, `${name}.lua`), 'utf8');

interface ClaimCommands {
  couponClaim(claims: string, revoked: string, pending: string, userId: string, total: number): Promise<number>;
  couponRevoke(claims: string, revoked: string, confirmed: string, pending: string, userId: string): Promise<number>;
  couponConfirm(revoked: string, confirmed: string, pending: string, ...userIds: string[]): Promise<number[]>;
  couponMarkPublished(claims: string, pending: string, ...userIds: string[]): Promise<number[]>;
  couponReleaseStranded(claims: string, revoked: string, pending: string, userId: string, olderThanMs: number): Promise<number>;
}

/**
 * The per-coupon claim sets in Redis. Keys share a hash tag so one coupon's sets live on one
 * node if Redis is ever clustered. Scripts are registered once and run by SHA (ioredis falls back
 * to EVAL once when a freshly promoted master has not seen them).
 */
export class ClaimLedger {
  private readonly redis: Redis & ClaimCommands;

  // WAIT covers every write this connection sent before it, and blocks the connection while it
  // waits: writes sent meanwhile run after it and share the next WAIT (a group commit).
  private waitInFlight?: Promise<number>;
  private waitQueued?: Promise<number>;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly durability: LedgerDurability = { replicas: 0, timeoutMs: 0 },
  ) {
    this.redis = redis as Redis & ClaimCommands;
    const commands = this.redis as unknown as { couponClaim?: unknown };
    if (!commands.couponClaim) {
      redis.defineCommand('couponClaim', { numberOfKeys: 3, lua: script('claim') });
      redis.defineCommand('couponRevoke', { numberOfKeys: 4, lua: script('revoke') });
      redis.defineCommand('couponConfirm', { numberOfKeys: 3, lua: script('confirm') });
      redis.defineCommand('couponMarkPublished', { numberOfKeys: 2, lua: script('mark-published') });
      redis.defineCommand('couponReleaseStranded', { numberOfKeys: 3, lua: script('release-stranded') });
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
    return `${this.prefix}coupon:{${couponId}}:claims`;
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

  /** An accepted claim is returned only once it is replicated (else ClaimNotReplicated). */
  async claim(couponId: number, userId: number, totalQuantity: number | null): Promise<ClaimResult> {
    const r = await this.redis.couponClaim(this.claimsKey(couponId), this.revokedKey(couponId), this.pendingKey(couponId), String(userId), totalQuantity ?? -1);
    if (r !== 1) return r === -1 ? 'ALREADY_ISSUED' : 'SOLD_OUT';
    await this.replicated();
    return 'ACCEPTED';
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
   * Releases a claim unless the consumer already confirmed its event; true when released. Either
   * answer is returned only once replicated: the tombstone is what keeps a late record out.
   */
  async revoke(couponId: number, userId: number): Promise<boolean> {
    const r = await this.redis.couponRevoke(this.claimsKey(couponId), this.revokedKey(couponId), this.confirmedKey(couponId), this.pendingKey(couponId), String(userId));
    await this.replicated();
    return r === 1;
  }

  /**
   * For the consumer: which users of one coupon may be persisted (true) or were revoked (false),
   * returned once replicated, so no failover can later let a revocation win over a persisted row.
   */
  async confirm(couponId: number, userIds: number[]): Promise<boolean[]> {
    if (userIds.length === 0) return [];
    const r = await this.redis.couponConfirm(this.revokedKey(couponId), this.confirmedKey(couponId), this.pendingKey(couponId), ...userIds.map(String));
    await this.replicated();
    return r.map((v) => v === 1);
  }

  /**
   * Marks a claim whose event Kafka acknowledged; true when marked (and replicated), false when
   * the claim was released meanwhile. A 202 is answered only for a marked claim.
   */
  async markPublished(couponId: number, userId: number): Promise<boolean> {
    const [marked] = await this.redis.couponMarkPublished(this.claimsKey(couponId), this.pendingKey(couponId), String(userId));
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
      .filter(([, at]) => at !== 'published' && Number(at) < cutoff)
      .map(([user]) => Number(user));
  }

  /**
   * For the sweep: releases one stranded claim (unmarked, pending longer than `olderThanMs` by the
   * server's clock) and tombstones it, checked and done in one script; true when released, once
   * replicated. A claim marked published or confirmed in the meantime is kept.
   */
  async releaseStranded(couponId: number, userId: number, olderThanMs: number): Promise<boolean> {
    const r = await this.redis.couponReleaseStranded(this.claimsKey(couponId), this.revokedKey(couponId), this.pendingKey(couponId), String(userId), olderThanMs);
    await this.replicated();
    return r === 1;
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
        if (at === 'published') return { userId: Number(user), state: 'published' as const };
        return { userId: Number(user), state: 'unpublished' as const, unpublishedForMs: Math.max(0, now - Number(at)) };
      });
    } while (cursor !== '0');
  }
}
