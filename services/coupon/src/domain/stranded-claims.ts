import type { Knex } from 'knex';
import { repeatEvery, type Logger, type Repeating } from '@coupon-rush/platform';
import { type ClaimLedger } from '@coupon-rush/issue-contract';
import { couponsIssuing } from '../data/issued-coupon-repository';

export interface StrandedClaimSettings {
  intervalMs: number;
  /** An unmarked claim pending longer than this is stranded; far beyond the publisher's timeout. */
  staleAfterMs: number;
}

/**
 * Releases claims stranded by an issue-coupon process that died between its Redis claim and the
 * 202: the user got a broken connection, yet the claim held a slot for ever and the coupon
 * under-issued. Before it answers 202, the issue service marks the claim published (after Kafka's
 * acknowledgement, within its publish deadline); only unmarked claims pending far longer than that
 * deadline are released, so no user told 202 is ever released. A record of a released claim that
 * is in the log or reaches it late meets the tombstone. The release checks again, in the same
 * script, that the claim is still unmarked and stale, so a claim marked (or confirmed) between the
 * sweep's read and its release is kept: without that, a claim whose publish finished just inside its
 * deadline was released after its user was told 202 and its slot went to another (seen under load
 * in .ci/run: 102 answers of 202 for 100 coupons).
 *
 * The consumer's lag is no guide here: while a partition's in-sync replicas are short, its high
 * watermark stalls below acknowledged records, and a consumer "caught up" to it has not read them
 * (the fault suite's broker kills showed a 202 released that way).
 */
export class StrandedClaimSweep {
  private job?: Repeating;

  constructor(
    private readonly db: Knex,
    private readonly ledger: ClaimLedger,
    private readonly settings: () => StrandedClaimSettings,
    private readonly logger: Logger,
    private readonly released: (count: number) => void,
  ) {}

  start(): void {
    this.job = repeatEvery(
      () => this.settings().intervalMs,
      () => this.sweep().catch((err: unknown) => this.logger.warn('stranded-claim sweep failed, will retry', { err: String(err) })),
    );
  }

  /** One pass; returns the claims released. */
  async sweep(): Promise<number> {
    const { staleAfterMs } = this.settings();
    const stale: Array<{ couponId: number; users: number[] }> = [];
    for (const couponId of await couponsIssuing(this.db, new Date(), staleAfterMs * 2)) {
      const users = await this.ledger.stalePending(couponId, staleAfterMs);
      if (users.length > 0) stale.push({ couponId, users });
    }
    let count = 0;
    for (const { couponId, users } of stale) {
      // Released only if still stranded when the script runs: one marked published since the read is kept.
      for (const user of users) if (await this.ledger.releaseStranded(couponId, user, staleAfterMs)) count++;
    }
    if (count > 0) {
      this.released(count);
      this.logger.warn('released stranded claims', { count, coupons: stale.map((s) => s.couponId) });
    }
    return count;
  }

  /** A pass stuck on an unreachable Redis is not waited for: it releases nothing it has not checked. */
  async stop(): Promise<void> {
    await this.job?.stop(2000);
  }
}
