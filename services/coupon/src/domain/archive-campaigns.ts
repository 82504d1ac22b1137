import type { Knex } from 'knex';
import { repeatEvery, type Logger, type Repeating } from '@coupon-rush/platform';
import type { ArchiveSettings } from '../config';
import { archiveBatch, type ArchivedCounts } from '../data/campaign-archive-repository';

export type ArchiveTrigger = 'schedule' | 'request';

/**
 * Moves campaigns soft-deleted more than `olderThanHours` ago, with their codes and redemptions,
 * into the archive tables, batch after batch until nothing is left. Idempotent: what has moved is
 * no longer a candidate, so a second run right after moves nothing.
 */
export async function archiveDeletedCampaigns(db: Knex, settings: ArchiveSettings, now = new Date()): Promise<ArchivedCounts> {
  const cutoff = new Date(now.getTime() - settings.olderThanHours * 3600_000);
  const total: ArchivedCounts = { campaigns: 0, codes: 0, redemptions: 0 };
  for (;;) {
    const batch = await archiveBatch(db, cutoff, settings, now);
    if (batch.campaigns === 0 && batch.codes === 0) return total;
    total.campaigns += batch.campaigns;
    total.codes += batch.codes;
    total.redemptions += batch.redemptions;
  }
}

/**
 * Runs the archive every `intervalMs` and on demand; runs in this process never overlap (an
 * on-demand run waits for a scheduled one and then does its own), and other instances skip the
 * campaigns this one has locked.
 */
export class CampaignArchiveSchedule {
  private job?: Repeating;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Knex,
    private readonly settings: () => ArchiveSettings,
    private readonly logger: Logger,
    private readonly observe: (trigger: ArchiveTrigger, outcome: 'ok' | 'failed', counts?: ArchivedCounts) => void,
  ) {}

  start(): void {
    this.job = repeatEvery(
      () => this.settings().intervalMs,
      () => this.run('schedule'),
    );
  }

  run(trigger: ArchiveTrigger): Promise<ArchivedCounts> {
    const next = this.queue.then(() => this.archive(trigger));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async archive(trigger: ArchiveTrigger): Promise<ArchivedCounts> {
    const started = Date.now();
    try {
      const counts = await archiveDeletedCampaigns(this.db, this.settings());
      this.observe(trigger, 'ok', counts);
      this.logger.info('campaign archive run', { trigger, ...counts, ms: Date.now() - started });
      return counts;
    } catch (err) {
      this.observe(trigger, 'failed');
      this.logger.warn('campaign archive run failed', { trigger, err: String(err) });
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.job?.stop();
    await this.queue;
  }
}
