import Redis from 'ioredis';
import knex, { type Knex } from 'knex';
import { KafkaProbe } from '@coupon-rush/platform';
import { issueTopics } from '@coupon-rush/issue-contract';
import { RUN_ID, appRedisCredentials, tally, tokenFor } from '@coupon-rush/testkit';
import { FAULTS, type Fault } from './catalogue';
import { OwnComponents } from './own-components';
import { PlatformUnderTest } from './platform-under-test';
import { LIKE_AN_APP, rush, type UserAnswers } from './rush';
import { check, type Verdict } from './set-checker';

export { FAULTS } from './catalogue';
export type { Verdict } from './set-checker';

export interface FaultRunOptions {
  quantity: number;
  users: number;
  /** Base rush length; each fault scales it so load stays on through the fault. */
  rushSeconds: number;
  concurrency: number;
  /** Fault names to run (all when empty). */
  only: string[];
  /** Times the selected faults run, one after another, on the same components. */
  rounds: number;
  /** Seconds-long variants of each fault, for npm test. */
  short: boolean;
  log(line: string): void;
}

export interface FaultRow extends Verdict {
  fault: string;
  /** From the end of the injection until every service is ready and a fresh claim is accepted. */
  recoverySeconds: number;
  restarts: number;
  /** A coupon created after the fault: exactly its quantity accepted and persisted. */
  freshCoupon: string;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gateway answer that was not 2xx, with the problem's code when it sent one. */
class ApiRefusal extends Error {
  readonly code?: string;

  constructor(
    method: string,
    path: string,
    readonly status: number,
    body: { code?: unknown },
  ) {
    super(`${method} ${path} -> ${status} ${JSON.stringify(body)}`);
    this.code = typeof body.code === 'string' ? body.code : undefined;
  }
}

/**
 * Names of this run's database, topics, keys and Consul services: apart from every test's (the
 * fault test runs in the same mocha process), so no other test's instance is ever routed to.
 */
const ISOLATION = {
  mysql: { database: `coupon_rush_faults_${RUN_ID}` },
  kafka: { topicPrefix: `faults-${RUN_ID}.` },
  redis: { keyPrefix: `faults:${RUN_ID}:` },
  consul: { serviceSuffix: `-faults-${RUN_ID}` },
};

class Run {
  /** Signed per call: a run of many rounds outlives any one token (tokenFor's 10 minutes). */
  private get admin(): string {
    return tokenFor(1, 'ADMIN');
  }
  private readonly topics = issueTopics(ISOLATION.kafka.topicPrefix);
  private readonly groupId = `${ISOLATION.kafka.topicPrefix}coupon-service`;
  private nextUser = 1_000_000;

  constructor(
    private readonly components: OwnComponents,
    private readonly platform: PlatformUnderTest,
    private readonly db: Knex,
    private readonly opts: FaultRunOptions,
  ) {}

  private async api(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.platform.gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new ApiRefusal(method, path, res.status, json);
    return json;
  }

  /**
   * A coupon created through the gateway. A coupon-service that was just restarted answers ready
   * before it is registered again and the gateway has heard of it from Consul (the old instance
   * is critical or refused, the new one not yet known): 503 SERVICE_UNAVAILABLE for a few seconds,
   * asked again until `withinMs`.
   */
  private async newCoupon(title: string, quantity: number, { withinMs = 60_000, admissionPerSecond }: { withinMs?: number; admissionPerSecond?: number } = {}): Promise<number> {
    const deadline = Date.now() + withinMs;
    for (;;) {
      const now = Date.now();
      try {
        const c = await this.api('POST', '/api/coupons', {
          title,
          totalQuantity: quantity,
          discountAmount: 1000,
          issueStartAt: new Date(now - 60_000).toISOString(),
          issueEndAt: new Date(now + 3_600_000).toISOString(),
          ...(admissionPerSecond ? { admission: { perSecond: admissionPerSecond } } : {}),
        });
        return c.id as number;
      } catch (err) {
        if (!(err instanceof ApiRefusal && err.status === 503 && err.code === 'SERVICE_UNAVAILABLE') || Date.now() > deadline) throw err;
        await sleep(250);
      }
    }
  }

  private users(n: number) {
    return Array.from({ length: n }, () => {
      const id = this.nextUser++;
      return { id, token: tokenFor(id, 'USER', 3600) };
    });
  }

  async fault(fault: Fault): Promise<FaultRow> {
    const started = Date.now();
    const { quantity, users: userCount, rushSeconds, concurrency } = this.opts;
    const durationMs = rushSeconds * 1000 * fault.rushScale;
    // Queued: admitted at a rate that hands out the stock over most of the rush, so the crowd is
    // still waiting (and claiming) when the fault lands.
    const admissionPerSecond = fault.queued ? Math.max(1, Math.ceil(quantity / ((durationMs * 0.6) / 1000))) : undefined;
    const couponId = await this.newCoupon(`faults ${fault.name}`, quantity, { admissionPerSecond });
    const restartsBefore = this.restarts();
    const rushing = rush({
      gateway: this.platform.gateway.url,
      couponId,
      quantity,
      users: this.users(userCount),
      durationMs,
      concurrency,
      requestTimeoutMs: 10_000,
      askingAgain: LIKE_AN_APP,
      queued: fault.queued,
    });
    // The fault lands once the rush is well under way and stock is still left.
    await sleep(Math.min(durationMs * 0.2, 3000));
    await fault.inject({
      components: this.components,
      platform: this.platform,
      topic: this.topics.issued,
      couponKey: String(couponId),
      short: this.opts.short,
      log: (l) => this.opts.log(`  ${fault.name}: ${l}`),
    });
    const injected = Date.now();
    // Probed while the rush goes on: the time from the end of the injection, not of the rush.
    const recovery = this.recovered(injected);
    const answers = await rushing;
    const recoverySeconds = (await recovery) / 1000;
    const freshCoupon = await this.freshCoupon(fault.name);
    const held = await this.settle(couponId, quantity);
    const verdict = check(answers, held);
    this.report(answers);
    if (verdict.lies > 0) await this.diagnoseLies(couponId, verdict);
    return { fault: fault.name, ...verdict, recoverySeconds, restarts: this.restarts() - restartsBefore, freshCoupon, seconds: Math.round((Date.now() - started) / 1000) };
  }

  private restarts(): number {
    return this.platform.services.reduce((n, s) => n + s.restarts, 0);
  }

  /** Every answer of the rush by code, and how many users asked how many times. */
  private report(users: UserAnswers[]): void {
    const line = (by: Record<string, number>) =>
      Object.entries(by)
        .map(([k, n]) => `${k}=${n}`)
        .join(' ');
    this.opts.log(`  answers: ${line(tally(users.flatMap((u) => u.answers.map((a) => a.code ?? String(a.status)))))}`);
    this.opts.log(`  requests per user: ${line(tally(users.map((u) => String(u.answers.length))))}`);
  }

  /** Milliseconds from `since` until every service is ready and a fresh user's claim is accepted. */
  private async recovered(since: number): Promise<number> {
    await this.platform.allReady(90_000);
    const probe = await this.newCoupon('faults probe', 1_000_000);
    const deadline = Date.now() + 90_000;
    for (const user of this.users(10_000)) {
      const res = await fetch(`${this.platform.gateway.url}/api/coupons/${probe}/issues`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}` },
        signal: AbortSignal.timeout(5000),
      }).catch(() => undefined);
      if (res?.status === 202) return Date.now() - since;
      if (Date.now() > deadline) break;
      await sleep(200);
    }
    throw new Error('no claim was accepted within 90 s after the fault');
  }

  /** After the fault, a new coupon of 10 among 20 users: exactly 10 accepted and 10 rows. */
  private async freshCoupon(fault: string): Promise<string> {
    const id = await this.newCoupon(`faults after ${fault}`, 10);
    const answers = await rush({ gateway: this.platform.gateway.url, couponId: id, users: this.users(20), durationMs: 500, concurrency: 20, requestTimeoutMs: 10_000, askingAgain: LIKE_AN_APP });
    const finals = answers.map((u) => u.answers[u.answers.length - 1]);
    const accepted = finals.filter((a) => a.status === 202).length;
    const soldOut = finals.filter((a) => a.code === 'SOLD_OUT').length;
    const held = await this.settle(id, 10);
    const verdict = check(answers, held);
    if (accepted !== 10 || soldOut !== 10 || verdict.rows !== 10 || verdict.violations.length > 0)
      return `FAILED (202=${accepted} SOLD_OUT=${soldOut} rows=${verdict.rows} ${verdict.violations.join('; ')})`;
    return 'ok';
  }

  /**
   * Waits until the consumer has caught up, rows and issuedQuantity hold still and reconciliation
   * agrees (or 120 s have passed: then the verdict reports what disagrees), then reads them.
   */
  private async settle(couponId: number, quantity: number) {
    const probe = new KafkaProbe(this.components.kafka('faults-settle'));
    try {
      const deadline = Date.now() + 120_000;
      let last = '';
      let stableSince = Date.now();
      for (;;) {
        const rec = await this.api('GET', `/api/coupons/${couponId}/reconciliation`).catch(() => undefined);
        const lag = await probe
          .lag(this.groupId, this.topics.issued)
          .then((parts) => parts.reduce((n, p) => n + p.lag, 0))
          .catch(() => Number.NaN);
        const state = rec ? `${rec.rows}/${rec.issuedQuantity}/${rec.redisClaims}` : '?';
        if (state !== last) ((last = state), (stableSince = Date.now()));
        // Consistent too: a claim stranded by a killed issue-coupon holds a slot until the sweep
        // releases it (coupon.strandedClaims.staleAfterMs after the claim), which may be after
        // rows and issuedQuantity have held still.
        const settled = rec && lag === 0 && rec.issuedQuantity === rec.rows && rec.consistent && Date.now() - stableSince >= 2000;
        if (settled || Date.now() > deadline) {
          const rows = new Map<number, number>();
          const counted: Array<{ user_id: number; n: number }> = await this.db('issued_coupons').select('user_id').count({ n: '*' }).where('coupon_id', couponId).groupBy('user_id');
          for (const r of counted) rows.set(Number(r.user_id), Number(r.n));
          return { quantity, rows, deadLettered: await this.deadLettered(couponId), issuedQuantity: rec?.issuedQuantity ?? -1, reconciliationConsistent: Boolean(rec?.consistent) };
        }
        await sleep(500);
      }
    } finally {
      await probe.close();
    }
  }

  /** For a violation's post-mortem: what each lying user was told, and where their record and claim state are. */
  private async diagnoseLies(couponId: number, verdict: Verdict): Promise<void> {
    const liars = verdict.liars.slice(0, 20);
    for (const l of liars) this.opts.log(`  lying to user ${l.userId}: told ${l.answers}; holds ${l.rows} rows${l.deadLettered ? ', dead-lettered' : ''}`);
    if (verdict.liars.length > liars.length) this.opts.log(`  … and ${verdict.liars.length - liars.length} more lied-to users`);
    const users = liars.map((l) => l.userId);
    const found = await this.recordsOf(this.topics.issued, couponId);
    const redis = new Redis({ sentinels: this.components.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: this.components.masterName, ...appRedisCredentials() });
    try {
      for (const user of users) {
        const key = (k: string) => `${ISOLATION.redis.keyPrefix}coupon:{${couponId}}:${k}`;
        const [claimed, revoked, confirmed, pending] = await Promise.all([
          redis.sismember(key('claims'), String(user)),
          redis.sismember(key('revoked'), String(user)),
          redis.sismember(key('confirmed'), String(user)),
          redis.hget(key('pending'), String(user)),
        ]);
        this.opts.log(`  user ${user}: records ${JSON.stringify(found.get(user) ?? [])}; claimed=${claimed} revoked=${revoked} confirmed=${confirmed} pending=${pending}`);
      }
    } finally {
      redis.disconnect();
    }
  }

  /**
   * Every record of `couponId` in `topic`, by user ("partition@offset"), read from the beginning
   * up to the high watermarks of the moment.
   */
  private async recordsOf(topic: string, couponId: number): Promise<Map<number, string[]>> {
    const kafka = this.components.kafka('faults-records');
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const byUser = new Map<number, string[]>();
    const remaining = new Map(ends.filter((e) => Number(e.high) > Number(e.low)).map((e) => [e.partition, Number(e.high)]));
    if (remaining.size === 0) return byUser;
    const consumer = kafka.consumer({ groupId: `faults-records-${RUN_ID}-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${topic} not read within 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          try {
            const e = JSON.parse(String(message.value)) as { couponId?: number; userId?: number };
            if (e.couponId === couponId && typeof e.userId === 'number') byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), `${partition}@${message.offset}`]);
          } catch {
            /* a poison record: not one of this rush's users */
          }
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) (clearTimeout(timer), resolve());
        },
      });
    }).finally(() => consumer.disconnect());
    return byUser;
  }

  /** Users of `couponId` whose events sit in the dead-letter topic. */
  private async deadLettered(couponId: number): Promise<Set<number>> {
    return new Set((await this.recordsOf(this.topics.deadLetter, couponId)).keys());
  }
}

/** Own components and the platform on them, ready to take faults one after another. */
export class FaultSuite {
  private constructor(
    private readonly components: OwnComponents,
    private readonly platform: PlatformUnderTest,
    private readonly db: Knex,
    private readonly run: Run,
  ) {}

  static async start(opts: FaultRunOptions): Promise<FaultSuite> {
    const components = await OwnComponents.start(opts.log);
    let platform: PlatformUnderTest | undefined;
    try {
      platform = await PlatformUnderTest.start(components, ISOLATION);
      const db = knex({
        client: 'mysql2',
        connection: { host: '127.0.0.1', port: components.mariadbPort, user: 'coupon', password: process.env.DB_PASSWORD, database: ISOLATION.mysql.database },
        pool: { min: 0, max: 2 },
      });
      return new FaultSuite(components, platform, db, new Run(components, platform, db, opts));
    } catch (err) {
      await platform?.stop();
      await components.stop();
      throw err;
    }
  }

  async inject(fault: Fault): Promise<FaultRow> {
    try {
      return await this.run.fault(fault);
    } catch (err) {
      throw new Error(`${fault.name}: ${String(err)}\nlast service log lines:\n${this.platform.logLines.slice(-30).join('\n')}`);
    }
  }

  async stop(): Promise<void> {
    await this.db.destroy();
    await this.platform.stop();
    await this.components.stop();
  }
}

/** Each selected fault in turn on one suite; everything stopped at the end. */
export async function runFaults(opts: FaultRunOptions): Promise<FaultRow[]> {
  const unknown = opts.only.filter((n) => !FAULTS.some((f) => f.name === n));
  if (unknown.length > 0) throw new Error(`unknown fault ${unknown.join(', ')}; known: ${FAULTS.map((f) => f.name).join(', ')}`);
  const faults = opts.only.length > 0 ? FAULTS.filter((f) => opts.only.includes(f.name)) : FAULTS;
  const suite = await FaultSuite.start(opts);
  try {
    const rows: FaultRow[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      for (const fault of faults) {
        opts.log(`${fault.name}${opts.rounds > 1 ? ` (round ${round} of ${opts.rounds})` : ''}: ${fault.what}`);
        rows.push(await suite.inject(fault));
      }
    }
    return rows;
  } finally {
    await suite.stop();
  }
}

export function violationsOf(row: FaultRow): string[] {
  return [...row.violations, ...(row.freshCoupon === 'ok' ? [] : [`fresh coupon ${row.freshCoupon}`])];
}
