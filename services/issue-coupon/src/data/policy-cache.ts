import type Redis from 'ioredis';
import type { CouponPolicy } from './coupon-policy-source';

/** Where a policy came from: this process, Redis, or the coupon service (a miss of both). */
export type CacheTier = 'local' | 'redis' | 'origin';

interface Entry {
  policy: CouponPolicy | undefined;
  until: number;
}

/**
 * Look-aside cache of coupon policies: this process (seconds), then Redis (minutes), then the
 * loader (the coupon service). Concurrent misses for one coupon share a single load, so a cold
 * cache under a flash crowd reads the coupon service once.
 */
export class PolicyCache {
  private readonly local = new Map<number, Entry>();
  private readonly loading = new Map<number, Promise<CouponPolicy | undefined>>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttl: () => { localTtlMs: number; redisTtlSeconds: number },
    private readonly loader: (id: number) => Promise<CouponPolicy | undefined>,
    private readonly served: (tier: CacheTier) => void = () => {},
  ) {}

  /** Limited coupons this process served within `withinMs`, for the stock gauge. */
  recentlyServed(withinMs: number): CouponPolicy[] {
    const since = Date.now() - withinMs;
    return [...this.local.values()].filter((e) => e.until >= since && e.policy?.totalQuantity != null).map((e) => e.policy!);
  }

  private key(id: number): string {
    return `${this.keyPrefix}coupon:{${id}}:policy`;
  }

  get(id: number): Promise<CouponPolicy | undefined> | CouponPolicy | undefined {
    const hit = this.local.get(id);
    if (hit && hit.until > Date.now()) {
      this.served('local');
      return hit.policy;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async load(id: number): Promise<CouponPolicy | undefined> {
    const cached = await this.redis.get(this.key(id));
    let policy: CouponPolicy | undefined;
    if (cached) {
      this.served('redis');
      policy = JSON.parse(cached) as CouponPolicy;
    } else {
      this.served('origin');
      policy = await this.loader(id);
      // Unknown coupons are not cached in Redis: a coupon created a moment later must be found.
      if (policy) await this.redis.set(this.key(id), JSON.stringify(policy), 'EX', this.ttl().redisTtlSeconds);
    }
    if (policy) this.local.set(id, { policy, until: Date.now() + this.ttl().localTtlMs });
    return policy;
  }
}
