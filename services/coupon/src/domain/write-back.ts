import type { Knex } from 'knex';
import { untraced, type Logger } from '@coupon-rush/platform';
import { couponsOutOfSync, writeBackIssuedQuantity } from '../data/issued-coupon-repository';

/**
 * Syncs coupons.issued_quantity from the persisted rows on an interval: the consumer marks the
 * coupons it touched, the timer writes them back in one statement. A first pass after start
 * repairs whatever a crash left behind.
 */
export class IssuedQuantityWriteBack {
  private readonly dirty = new Set<number>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly db: Knex,
    private readonly logger: Logger,
  ) {}

  mark(couponIds: number[]): void {
    for (const id of couponIds) this.dirty.add(id);
  }

  async start(intervalMs: () => number): Promise<void> {
    this.mark(await couponsOutOfSync(this.db));
    const tick = () => {
      // A tick is bookkeeping, not a request: it would make a one-span trace every second.
      this.timer = setTimeout(() => {
        this.running = untraced(() => this.flush()).finally(tick);
      }, intervalMs());
    };
    tick();
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
    clearTimeout(this.timer);
    await this.running;
    await this.flush();
  }
}
