import fs from 'node:fs';
import path from 'node:path';
import { RedisScript, type connectRedis } from '@coupon-rush/platform';

// The script ships as a .lua source next to this module's source; tsc does not copy it to dist.
const SOURCE = fs.readFileSync(path.resolve(__dirname, '../../../src/data/token-bucket.lua'), 'utf8');

export interface BucketAnswer {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: milliseconds until the bucket holds the cost. */
  waitMs: number;
}

/** Token buckets in Redis, one hash per key under `prefix`, taken from atomically by one script. */
export class TokenBuckets {
  private readonly script: RedisScript;

  constructor(
    redis: ReturnType<typeof connectRedis>,
    private readonly prefix: string,
  ) {
    this.script = new RedisScript(redis, SOURCE);
  }

  async take(bucket: string, rate: number, burst: number, cost: number): Promise<BucketAnswer> {
    const [allowed, remaining, waitMs] = (await this.script.run([`${this.prefix}${bucket}`], [rate, burst, cost])) as [number, number, number];
    return { allowed: allowed === 1, remaining, waitMs };
  }
}
