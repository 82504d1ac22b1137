import type { FaultName } from './command-line';
import type { OwnComponents } from './own-components';
import type { PlatformUnderTest } from './platform-under-test';

export interface FaultContext {
  components: OwnComponents;
  platform: PlatformUnderTest;
  /** The issue topic and the record key of the coupon being rushed. */
  topic: string;
  couponKey: string;
  /** Short variants (npm test) keep pauses to the minimum that still makes the fault real. */
  short: boolean;
  log(line: string): void;
}

export interface Fault {
  name: FaultName;
  what: string;
  /** The rush lasts this many times the base duration, so load stays on through the whole fault. */
  rushScale: number;
  /** The rushed coupon is queued: the crowd goes through its waiting room, and the fault lands mid-queue. */
  queued?: boolean;
  /** Injects the fault and brings the faulted part back the documented way; resolves when done. */
  inject(ctx: FaultContext): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** The Redis master the Sentinels name once they have promoted another than `old`. */
async function promotedAfter(ctx: FaultContext, old: number, what: string): Promise<number> {
  let elected = old;
  await until(what, async () => (elected = await ctx.components.redisMaster()) !== old, 30_000);
  ctx.log(`Sentinels promoted ${elected}`);
  return elected;
}

/** Every Sentinel names `elected`, and the old master follows it beside the other replica. */
async function rejoined(ctx: FaultContext, old: number, elected: number): Promise<void> {
  const c = ctx.components;
  await until('old master rejoined as a replica', async () => (await c.everySentinelNames(elected)) && (await c.connectedReplicas(elected)) === 2, 30_000);
  ctx.log(`every Sentinel names ${elected}; ${old} is its replica`);
}

/** Every partition of the topic back to three in-sync replicas: the cluster is whole again. */
/** The Redis master SIGKILLed; Sentinel promotes a replica; the old master comes back as its replica. */
async function killRedisMaster(ctx: FaultContext, when: string): Promise<void> {
  const c = ctx.components;
  const old = await c.redisMaster();
  c.signal(`redis-${old}`, 'SIGKILL');
  await c.gone(`redis-${old}`);
  ctx.log(`redis master ${old} SIGKILLed${when}`);
  const elected = await promotedAfter(ctx, old, 'Sentinel failover');
  await c.infra('up', 'redis');
  await rejoined(ctx, old, elected);
}

const kafkaWhole = (ctx: FaultContext) => until('all Kafka replicas in sync', async () => (await ctx.components.minInSync(ctx.topic)) === 3, 60_000);

export const FAULTS: Fault[] = [
  {
    name: 'consumer-kill',
    what: 'coupon-service (the consumer) SIGKILLed mid-rush; restarted by its supervisor, resumes from committed offsets',
    rushScale: 1,
    async inject(ctx) {
      ctx.platform.coupon.kill('SIGKILL');
      ctx.log('coupon-service SIGKILLed');
    },
  },
  {
    name: 'broker-kill-x5',
    what: "the Kafka broker leading the coupon's partition SIGKILLed and restarted, five times",
    rushScale: 4,
    async inject(ctx) {
      for (let round = 1; round <= 5; round++) {
        const leader = await ctx.components.kafkaLeader(ctx.topic, ctx.couponKey);
        const name = `kafka-${leader}`;
        ctx.components.signal(name, 'SIGKILL');
        await ctx.components.gone(name);
        ctx.log(`round ${round}: leader broker ${leader} SIGKILLed`);
        // Down long enough to be fenced (broker.session.timeout.ms 3 s) and lose leadership.
        await sleep(ctx.short ? 3500 : 5000);
        await ctx.components.infra('up', 'kafka');
        await kafkaWhole(ctx);
        ctx.log(`round ${round}: broker ${leader} back, replicas in sync`);
      }
    },
  },
  {
    name: 'redis-failover',
    what: 'the Redis master SIGKILLed; Sentinel promotes a replica; the old master comes back as a replica',
    rushScale: 2,
    inject: (ctx) => killRedisMaster(ctx, ''),
  },
  {
    name: 'redis-failover-queued',
    what: "the Redis master SIGKILLed while a queued coupon's crowd waits in its waiting room; Sentinel promotes a replica; the old master comes back as a replica",
    rushScale: 2,
    queued: true,
    inject: (ctx) => killRedisMaster(ctx, ' mid-queue'),
  },
  {
    name: 'redis-planned-failover',
    what: "an operator's SENTINEL FAILOVER mid-rush: a replica promoted while the master still runs; the old master becomes its replica",
    rushScale: 1.5,
    async inject(ctx) {
      const c = ctx.components;
      const old = await c.redisMaster();
      const sentinel = await c.plannedFailover();
      ctx.log(`SENTINEL FAILOVER sent to the Sentinel on ${sentinel}, master ${old}`);
      await rejoined(ctx, old, await promotedAfter(ctx, old, 'planned failover'));
    },
  },
  {
    name: 'redis-freeze',
    what: "the Redis master SIGSTOPped for 12 s, past Sentinel's down-after (2 s): Sentinel promotes a replica; the old master, resumed, becomes its replica",
    rushScale: 2,
    async inject(ctx) {
      const c = ctx.components;
      const old = await c.redisMaster();
      const frozenMs = ctx.short ? 5000 : 12_000;
      const frozenAt = Date.now();
      c.signal(`redis-${old}`, 'SIGSTOP');
      ctx.log(`redis master ${old} frozen`);
      let elected: number;
      try {
        // Kept frozen until a replica is promoted, however long that takes: resumed earlier, it was a mere pause.
        elected = await promotedAfter(ctx, old, 'Sentinel failover');
        await sleep(frozenAt + frozenMs - Date.now());
      } finally {
        c.signal(`redis-${old}`, 'SIGCONT');
      }
      ctx.log(`${old} resumed after ${((Date.now() - frozenAt) / 1000).toFixed(1)} s`);
      await rejoined(ctx, old, elected);
    },
  },
  {
    name: 'mariadb-kill',
    what: 'MariaDB SIGKILLed mid-rush and started again (crash recovery of committed rows)',
    rushScale: 1.5,
    async inject(ctx) {
      ctx.components.signal('mariadb', 'SIGKILL');
      await ctx.components.gone('mariadb');
      ctx.log('mariadb SIGKILLed');
      await sleep(ctx.short ? 500 : 2000);
      await ctx.components.infra('up', 'mariadb');
      ctx.log('mariadb back');
    },
  },
  {
    name: 'kafka-freeze',
    what: 'every Kafka broker SIGSTOPped for 10 s, then resumed (publishes time out; their claims are revoked)',
    rushScale: 2,
    async inject(ctx) {
      const nodes = ctx.components.kafkaPorts.map((_, i) => `kafka-${i + 1}`);
      for (const n of nodes) ctx.components.signal(n, 'SIGSTOP');
      ctx.log('all brokers frozen');
      try {
        await sleep(ctx.short ? 5000 : 10_000);
      } finally {
        for (const n of nodes) ctx.components.signal(n, 'SIGCONT');
      }
      ctx.log('brokers resumed');
      await kafkaWhole(ctx);
    },
  },
  {
    name: 'network-delay',
    what: "issue-coupon's links to Redis, its Sentinels and Kafka slowed by 150 ms ± 50 each way for 10 s",
    rushScale: 2,
    async inject(ctx) {
      const links = ctx.components.network;
      await links.delay(['redis', 'sentinel', 'kafka'], 150, 50);
      ctx.log('links slowed');
      try {
        await sleep(ctx.short ? 4000 : 10_000);
      } finally {
        await links.undelay(['redis', 'sentinel', 'kafka']);
      }
      ctx.log('links back to full speed');
    },
  },
  {
    name: 'network-cut',
    what: "issue-coupon's links cut (bytes dropped, connections left open): to Kafka, then to Redis and its Sentinels, then to both, 8 s each",
    rushScale: 4,
    async inject(ctx) {
      const links = ctx.components.network;
      const phases: Array<Array<'redis' | 'sentinel' | 'kafka'>> = [['kafka'], ['redis', 'sentinel'], ['redis', 'sentinel', 'kafka']];
      for (const kinds of phases) {
        await links.cut(kinds);
        ctx.log(`cut: ${kinds.join(', ')}`);
        try {
          // Longer than the publish deadline (3 s) even in the short variant: publishes time out.
          await sleep(ctx.short ? 5000 : 8000);
        } finally {
          await links.heal(kinds);
        }
        ctx.log(`healed: ${kinds.join(', ')}`);
        await sleep(ctx.short ? 1000 : 2000);
      }
    },
  },
  {
    name: 'issue-coupon-kill',
    what: 'one of two issue-coupon instances SIGKILLed with requests in flight; restarted by its supervisor',
    rushScale: 1,
    async inject(ctx) {
      ctx.platform.issue[0].kill('SIGKILL');
      ctx.log('issue-coupon-1 SIGKILLed');
    },
  },
];
