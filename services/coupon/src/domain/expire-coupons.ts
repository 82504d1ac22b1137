import type { Knex } from 'knex';
import type { Counter } from 'prom-client';
import { repeatEvery, type Logger, type Repeating } from '@coupon-rush/platform';
import { markExpired } from '../data/issued-coupon-repository';

export interface ExpirySettings {
  intervalMs: number;
  /** Rows marked per statement: a large backlog is worked off in short transactions. */
  batch: number;
}

/**
 * Marks issued coupons that passed their end of use unused, on an interval, for operators' counts
 * (coupon_issued_expired_total, the exports). No answer waits for it: a coupon's state comes from
 * the clock. Several instances may run it at once: a row is marked by one statement only.
 */
export class CouponExpiry {
  private job?: Repeating;

  constructor(
    private readonly db: Knex,
    private readonly expired: Counter,
    private readonly logger: Logger,
  ) {}

  start(settings: () => ExpirySettings): void {
    this.job = repeatEvery(
      () => settings().intervalMs,
      () => this.run(settings().batch),
    );
  }

  /** One pass: batches until none is left; how many it marked. */
  async run(batch: number, at = new Date()): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const marked = await markExpired(this.db, at, batch);
        total += marked;
        this.expired.inc(marked);
        if (marked < batch) break;
      }
    } catch (err) {
      this.logger.warn('coupon expiry pass failed, will retry', { err: String(err) });
    }
    return total;
  }

  async stop(): Promise<void> {
    await this.job?.stop();
  }
}
