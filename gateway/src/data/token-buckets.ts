import fs from 'node:fs';
import path from 'node:path';
import { RedisScript, TickBatches, type connectRedis } from '@coupon-rush/platform';

// The script ships as a .lua source next to this module's source; tsc does not copy it to dist.
const SOURCE = fs.readFileSync(path.resolve(__dirname, '../../../src/data/token-bucket.lua'), 'utf8');

export interface BucketAnswer {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When refused: milliseconds until the bucket holds the cost. */
  waitMs: number;
}

interface Take {
  key: string;
  rate: number;
  burst: number;
  cost: number;
}

/**
 * Token buckets in Redis, one hash per key under `prefix`, taken from atomically by one script:
 * the takes of one event-loop turn in one call, in order (a crowd's requests were one call each).
 */
export class TokenBuckets {
  private readonly batches: TickBatches<Take, BucketAnswer>;

  constructor(
    redis: ReturnType<typeof connectRedis>,
    private readonly prefix: string,
  ) {
    const script = new RedisScript(redis, SOURCE);
    this.batches = new TickBatches(async (takes) => {
      const out = (await script.run(
        takes.map((t) => t.key),
        takes.flatMap((t) => [t.rate, t.burst, t.cost]),
      )) as number[];
      return takes.map((_, i) => ({ allowed: out[3 * i] === 1, remaining: out[3 * i + 1], waitMs: out[3 * i + 2] }));
    });
  }

  take(bucket: string, rate: number, burst: number, cost: number): Promise<BucketAnswer> {
    return this.batches.take({ key: `${this.prefix}${bucket}`, rate, burst, cost });
  }
}
