import fs from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';

export type ClaimResult = 'ACCEPTED' | 'ALREADY_ISSUED' | 'SOLD_OUT';

// The scripts ship as .lua sources next to this module's source; tsc does not copy them to dist.
const SCRIPT_DIR = path.resolve(__dirname, '../../../src/claims');
const script = (name: string) => fs.readFileSync(path.join(SCRIPT_DIR, `${name}.lua`), 'utf8');

interface ClaimCommands {
  couponClaim(claims: string, revoked: string, userId: string, total: number): Promise<number>;
  couponRevoke(claims: string, revoked: string, confirmed: string, userId: string): Promise<number>;
  couponConfirm(revoked: string, confirmed: string, ...userIds: string[]): Promise<number[]>;
}

/**
 * The per-coupon claim sets in Redis. Keys share a hash tag so one coupon's sets live on one
 * node if Redis is ever clustered. Scripts are registered once and run by SHA (ioredis falls back
 * to EVAL once when a freshly promoted master has not seen them).
 */
export class ClaimLedger {
  private readonly redis: Redis & ClaimCommands;

  constructor(redis: Redis, private readonly prefix: string) {
    this.redis = redis as Redis & ClaimCommands;
    const commands = this.redis as unknown as { couponClaim?: unknown };
    if (!commands.couponClaim) {
      redis.defineCommand('couponClaim', { numberOfKeys: 2, lua: script('claim') });
      redis.defineCommand('couponRevoke', { numberOfKeys: 3, lua: script('revoke') });
      redis.defineCommand('couponConfirm', { numberOfKeys: 2, lua: script('confirm') });
    }
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

  async claim(couponId: number, userId: number, totalQuantity: number | null): Promise<ClaimResult> {
    const r = await this.redis.couponClaim(this.claimsKey(couponId), this.revokedKey(couponId), String(userId), totalQuantity ?? -1);
    return r === 1 ? 'ACCEPTED' : r === -1 ? 'ALREADY_ISSUED' : 'SOLD_OUT';
  }

  /** Claims held per coupon (one round trip for all of them). */
  async claimedCounts(couponIds: number[]): Promise<number[]> {
    if (couponIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of couponIds) pipeline.scard(this.claimsKey(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, n]) => (err ? Number.NaN : Number(n)));
  }

  /** Releases a claim unless the consumer already confirmed its event; true when released. */
  async revoke(couponId: number, userId: number): Promise<boolean> {
    return (await this.redis.couponRevoke(this.claimsKey(couponId), this.revokedKey(couponId), this.confirmedKey(couponId), String(userId))) === 1;
  }

  /** For the consumer: which users of one coupon may be persisted (true) or were revoked (false). */
  async confirm(couponId: number, userIds: number[]): Promise<boolean[]> {
    if (userIds.length === 0) return [];
    const r = await this.redis.couponConfirm(this.revokedKey(couponId), this.confirmedKey(couponId), ...userIds.map(String));
    return r.map((v) => v === 1);
  }

  async counts(couponId: number): Promise<{ claims: number; confirmed: number; revoked: number }> {
    const [claims, confirmed, revoked] = await Promise.all([
      this.redis.scard(this.claimsKey(couponId)),
      this.redis.scard(this.confirmedKey(couponId)),
      this.redis.scard(this.revokedKey(couponId)),
    ]);
    return { claims, confirmed, revoked };
  }
}
