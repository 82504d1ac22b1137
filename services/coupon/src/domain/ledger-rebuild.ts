import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { probeReplicationFence, untraced, type KafkaProbe, type Logger, type RedisSettings } from '@coupon-rush/platform';
import type { ClaimLedger } from '@coupon-rush/issue-contract';
import { holdersOf } from '../data/issued-coupon-repository';

export interface LedgerRebuildSettings {
  /**
   * How long after the old timeline was fenced a claim made on it may still be answered 202:
   * issue-coupon's answer bound (issue.answer.withinMs) and a margin. Its record is in Kafka by then.
   */
  settleMs: number;
  /** A rebuild that has not drained the consumer within this gives up; the next request asks again. */
  drainTimeoutMs: number;
}

export interface LedgerRebuildDeps {
  redis: Redis;
  ledger: ClaimLedger;
  db: Knex;
  kafka: KafkaProbe;
  redisSettings: RedisSettings;
  topic: string;
  groupId: string;
  settings: () => LedgerRebuildSettings;
  logger: Logger;
  rebuilt: (couponId: number, holders: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Rebuilds a coupon's claim sets on a new Redis timeline from what is durable, before they decide
 * anything again (SPEC §4.9). A promoted replica may lack claims the old master acknowledged after
 * the promotion, and each of those users may have been told 202, their record acknowledged by
 * Kafka. So, per timeline once: wait until no node of the old timeline can acknowledge a write
 * (the fence) and then until every request that claimed there has been answered (settle); per
 * coupon: wait until the consumer has persisted every record in the log at that moment (drain),
 * and add every user holding a row as a confirmed claim. Until then issue-coupon answers 503 with
 * Retry-After for that coupon, and revocations wait: a lost confirmation would otherwise let a
 * revocation release a persisted claim.
 */
export class LedgerRebuild {
  private readonly running = new Map<number, Promise<void>>();
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  private stopped = false;

  constructor(private readonly d: LedgerRebuildDeps) {}

  /** Starts a rebuild of the coupon's sets unless one runs here already; never rejects. */
  request(couponId: number): void {
    if (this.stopped || this.running.has(couponId)) return;
    const run = untraced(() => this.rebuild(couponId))
      .then(
        () => undefined,
        (err) => void this.d.logger.warn('claim rebuild failed, the next request asks again', { couponId, err: String(err) }),
      )
      .finally(() => this.running.delete(couponId));
    this.running.set(couponId, run);
  }

  /** Rebuilds the coupon's sets if they are not valid on the current timeline; true when they are valid now. */
  async rebuild(couponId: number): Promise<boolean> {
    const { redis, ledger, logger } = this.d;
    if (await ledger.isOnTimeline(couponId)) return true;
    // One rebuild per coupon across coupon-service instances.
    const lock = `${this.d.redisSettings.keyPrefix}coupon:{${couponId}}:rebuilding`;
    const { settleMs, drainTimeoutMs } = this.d.settings();
    if ((await redis.set(lock, this.owner, 'PX', settleMs + drainTimeoutMs + 10_000, 'NX')) !== 'OK') return false;
    try {
      const timeline = await this.fencedTimeline();
      if (!timeline) return false;
      await this.drained();
      if (this.stopped) return false;
      let holders = 0;
      const counted = async function* (chunks: AsyncIterable<number[]>) {
        for await (const users of chunks) yield ((holders += users.length), users);
      };
      const opened = await ledger.rebuild(couponId, timeline, counted(holdersOf(this.d.db, couponId)));
      if (opened) {
        logger.info('claims rebuilt on a new Redis timeline', { couponId, timeline, holders });
        this.d.rebuilt(couponId, holders);
      }
      return opened;
    } finally {
      if ((await redis.get(lock).catch(() => null)) === this.owner) await redis.del(lock).catch(() => 0);
    }
  }

  /**
   * The current timeline once it is fenced and settled: when the fence was first seen is kept in
   * Redis per timeline, so only the first rebuild after a failover waits for it.
   */
  private async fencedTimeline(): Promise<string | undefined> {
    const { redis, ledger, logger } = this.d;
    const { settleMs, drainTimeoutMs } = this.d.settings();
    const timeline = await ledger.currentTimeline();
    const seenKey = `${this.d.redisSettings.keyPrefix}ledger:fenced:${timeline}`;
    let fencedAt = Number(await redis.get(seenKey));
    if (!fencedAt) {
      const giveUp = Date.now() + drainTimeoutMs;
      for (;;) {
        const fence = await probeReplicationFence(this.d.redisSettings);
        // This connection must talk to the master the Sentinels name, on its timeline.
        if (fence && fence.timeline !== timeline) return undefined;
        if (fence?.fenced) break;
        if (this.stopped || Date.now() > giveUp) {
          logger.warn('the old Redis timeline is not fenced yet', { timeline, why: fence?.why ?? 'no Sentinel named a master' });
          return undefined;
        }
        await sleep(200);
      }
      await redis.set(seenKey, String(Date.now()), 'PX', 86_400_000, 'NX');
      fencedAt = Number(await redis.get(seenKey));
    }
    const settled = fencedAt + settleMs - Date.now();
    if (settled > 0) await sleep(settled);
    return (await ledger.currentTimeline()) === timeline ? timeline : undefined;
  }

  /** Waits until the consumer group has committed everything in the log now. */
  private async drained(): Promise<void> {
    const { kafka, topic, groupId } = this.d;
    const ends = await kafka.logEnds(topic);
    const giveUp = Date.now() + this.d.settings().drainTimeoutMs;
    while (!(await kafka.committedUpTo(groupId, topic, ends))) {
      if (this.stopped || Date.now() > giveUp) throw new Error(`the consumer did not reach the log end ${JSON.stringify([...ends])} in time`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.running.values()]);
  }
}
