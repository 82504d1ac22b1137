import { Counter, Gauge, type Registry } from 'prom-client';
import type { ArchivedCounts } from './data/campaign-archive-repository';
import type { ArchiveTrigger } from './domain/archive-campaigns';

/** Per partition of the issue topic: the log end minus the consumer group's committed offset. */
export type ConsumerLag = () => Promise<Array<{ partition: number; lag: number }>>;

/** coupon-service's own metrics, registered in the service's registry (served on /metrics). */
export function couponServiceMetrics(registry: Registry, consumerLag: ConsumerLag) {
  const registers = [registry];
  // Read from the broker when Prometheus scrapes, not kept up to date in between.
  new Gauge({
    name: 'coupon_consumer_lag',
    help: 'Issue events not yet persisted (log end minus committed offset), per partition',
    labelNames: ['partition'],
    registers,
    async collect() {
      this.reset();
      const lag = await consumerLag().catch(() => []);
      for (const p of lag) this.set({ partition: String(p.partition) }, p.lag);
    },
  });
  const archiveRuns = new Counter({
    name: 'coupon_campaign_archive_runs_total',
    help: 'Campaign archive runs by trigger and outcome',
    labelNames: ['trigger', 'outcome'],
    registers,
  });
  const archivedRows = new Counter({ name: 'coupon_campaign_archived_rows_total', help: 'Rows moved to the archive tables', labelNames: ['table'], registers });
  return {
    expired: new Counter({ name: 'coupon_issued_expired_total', help: 'Issued coupons marked expired: unused past their end of use', registers }),
    rowsPersisted: new Counter({ name: 'coupon_rows_persisted_total', help: 'Issued-coupon rows inserted by the consumer', registers }),
    deadLettered: new Counter({ name: 'coupon_events_dead_lettered_total', help: 'Issue events sent to the dead-letter topic', registers }),
    persistRetries: new Counter({
      name: 'coupon_event_batch_retries_total',
      help: 'Attempts to persist a batch of issue events that failed and were retried (MySQL or Redis unavailable)',
      registers,
    }),
    strandedReleased: new Counter({ name: 'coupon_stranded_claims_released_total', help: 'Claims released because their process died before publishing them', registers }),
    rebuilds: new Counter({
      name: 'coupon_claim_rebuilds_total',
      help: 'Coupons whose claim sets were rebuilt from the rows on a new Redis timeline (after a failover)',
      registers,
    }),
    redemptions: new Counter({ name: 'coupon_code_redemptions_total', help: 'Code redemption answers by outcome code', labelNames: ['code'], registers }),
    archiveRun(trigger: ArchiveTrigger, outcome: 'ok' | 'failed', counts?: ArchivedCounts): void {
      archiveRuns.inc({ trigger, outcome });
      if (counts) {
        archivedRows.inc({ table: 'campaigns' }, counts.campaigns);
        archivedRows.inc({ table: 'coupon_codes' }, counts.codes);
        archivedRows.inc({ table: 'code_redemptions' }, counts.redemptions);
      }
    },
  };
}

export type CouponServiceMetrics = ReturnType<typeof couponServiceMetrics>;
