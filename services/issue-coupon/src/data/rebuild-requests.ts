import type Redis from 'ioredis';
import { ledgerRebuildChannel } from '@coupon-rush/issue-contract';

/**
 * Asks coupon-service, over Redis pub/sub, to rebuild a coupon's claim sets after a failover. A
 * crowd on one coupon would ask thousands of times a second: each coupon is asked for at most
 * twice a second per instance. A lost ask is asked again by the next request that meets the sets.
 */
export class RebuildRequests {
  private readonly asked = new Map<number, number>();
  private readonly channel: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.channel = ledgerRebuildChannel(keyPrefix);
  }

  ask(couponId: number): void {
    const now = Date.now();
    if (now - (this.asked.get(couponId) ?? 0) < 500) return;
    if (this.asked.size > 10_000) this.asked.clear();
    this.asked.set(couponId, now);
    void this.redis.publish(this.channel, String(couponId)).catch(() => {});
  }
}
