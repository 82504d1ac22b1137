import type { Knex } from 'knex';
import { repeatEvery, type Logger, type Repeating } from '@coupon-rush/platform';
import { couponsOutOfSync, writeBackIssuedQuantity } from '../data/issued-coupon-repository';

/**
 * Syncs coupons.issued_quantity from the persisted rows on an interval: the consumer marks the
 * coupons it touched, the timer writes them back in one statement. A first pass after start
 * repairs whatever a crash left behind.
 */
export class IssuedQuantityWriteBack {
  private readonly dirty = new Set<number>();
  private job?: Repeating;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
  ) {}

  mark(couponIds: number[]): void {
    for (const id of couponIds) this.dirty.add(id);
  }

  async start(intervalMs: () => number): Promise<void> {
    this.mark(await couponsOutOfSync(this.db));
    this.job = repeatEvery(intervalMs, () => this.flush());
  }

  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      await writeBackIssuedQuantity(this.db, ids);
    } catch (err) {
      this.mark(ids);
      this.logger.warn('issued quantity write-back failed, will retry', { err: String(err) });
    }
  }

  async stop(): Promise<void> {
    await this.job?.stop();
    await this.flush();
  }
}
