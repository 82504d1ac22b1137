import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RedisScript, type connectRedis } from '@coupon-rush/platform';

// The script ships as a .lua source next to this module's source; tsc does not copy it to dist.
const SOURCE = fs.readFileSync(path.resolve(__dirname, '../../../src/data/login-failure.lua'), 'utf8');

export interface LockoutPolicy {
  /** Failures within `failureWindowMs` that lock the account. */
  maxFailures: number;
  failureWindowMs: number;
  /** The n-th lock lasts the n-th of these (the last repeats), counted over `lockMemoryMs`. */
  lockWaitsMs: number[];
  lockMemoryMs: number;
}

/**
 * Failed logins and locks per account, in Redis so every user-service instance counts the same.
 * Keyed by a hash of the email, known or not, so the keys tell nothing about who has an account.
 */
export class LoginFailures {
  private readonly script: RedisScript;

  constructor(
    private readonly redis: ReturnType<typeof connectRedis>,
    private readonly prefix: string,
  ) {
    this.script = new RedisScript(redis, SOURCE);
  }

  private keys(email: string): [string, string, string] {
    const account = crypto.createHash('sha256').update(email).digest('base64url').slice(0, 22);
    return [`${this.prefix}failures:${account}`, `${this.prefix}locks:${account}`, `${this.prefix}locked:${account}`];
  }

  /** Milliseconds the account stays locked, 0 when it is not. */
  async lockedForMs(email: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys(email)[2]));
  }

  /** Counts a failure; returns the lock it started in ms, or 0. */
  async failed(email: string, policy: LockoutPolicy): Promise<number> {
    return Number(await this.script.run(this.keys(email), [policy.maxFailures, policy.failureWindowMs, policy.lockMemoryMs, ...policy.lockWaitsMs]));
  }

  /** A successful login forgets the account's failures and locks. */
  async succeeded(email: string): Promise<void> {
    const [failures, locks] = this.keys(email);
    await this.redis.del(failures, locks);
  }
}
