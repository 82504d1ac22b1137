import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { connectRedis, createLogger, kafkaClient, resolveServiceConfig, REPO_ROOT, type RunningService } from '@coupon-rush/platform';
import { issueTopics } from '@coupon-rush/issue-contract';
import { CONFIG as COUPON_SERVICE, start as startCouponService } from '@coupon-rush/coupon-service';
import { acceptedByServers, mintInternalToken, platformDb } from '@coupon-rush/loadkit';
import { deleteRedisKeys } from '@coupon-rush/testkit';
import { loadSummary, runWrk, startBenchServer, type BenchServer, type LoadShape } from '../load';
import { LAB_CLAIMS, type LabStrategy } from './claims';
import { countIssues, createLabCoupon, dropLabDatabase, labDatabaseName, openLabDatabase, requireUniquePair, rowCount, type IssueCount } from './lab-store';

/** The platform's own path (two issue-coupon instances, coupon-service's consumer) after the lab's. */
export const STRATEGIES = [...(Object.keys(LAB_CLAIMS) as LabStrategy[]), 'lua-kafka'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The strategies whose claim rests on the database's unique (coupon, user) key, as the platform's rows do. */
const UNIQUE_PAIR: readonly Strategy[] = ['db-conditional-update', 'redis-lua'];

export interface LabLoad extends LoadShape {
  users: number;
  quantity: number;
  /** After the claims stop, wrk keeps receiving this long (lab-claims.lua's delay()), so answers in flight are seen; 3 s by default. */
  graceSeconds?: number;
}

export interface StrategyResult extends IssueCount {
  strategy: Strategy;
  instances: number;
  quantity: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Distinct users answered 202. */
  told: number;
  outcomes: Record<string, number>;
  socketErrors: number;
}

const INSTANCES = 2;
const logger = createLogger('strategy-lab', 'warn');

/** A strategy's own database, Redis prefix, topics and Consul names for one run. */
function isolation(runId: string, strategy: Strategy) {
  const database = labDatabaseName(runId, strategy);
  const keyPrefix = `lab:${runId}:${strategy}:`;
  return {
    database,
    keyPrefix,
    serviceSuffix: `-lab-${runId}`,
    overrides: {
      mysql: { database },
      redis: { keyPrefix },
      kafka: { topicPrefix: `lab-${runId}.` },
      consul: { serviceSuffix: `-lab-${runId}` },
      // Rows are counted once written back and drained; the bench waits for them, not a timer.
      coupon: { writeBack: { intervalMs: 200 } },
    },
  };
}

/** Deletes every key of the run's strategy (its claims, counters, sets; redis-semaphore's lock keys are `mutex:<key>`). */
async function deleteKeys(keyPrefix: string): Promise<void> {
  const { config } = await resolveServiceConfig(COUPON_SERVICE, { configServerUrl: null }, logger);
  const redis = connectRedis(config.redis);
  try {
    for (const pattern of [`${keyPrefix}*`, `mutex:${keyPrefix}*`]) await deleteRedisKeys(redis, pattern);
  } finally {
    redis.disconnect();
  }
}

/** The lab's Kafka topics and consumer group for the platform's path, once its services stopped. */
async function deleteTopics(config: { kafka: Parameters<typeof kafkaClient>[0]; consumer: { groupId: string } }): Promise<void> {
  const admin = kafkaClient(config.kafka, 'strategy-lab').admin();
  await admin.connect();
  try {
    await admin.deleteGroups([config.consumer.groupId]).catch(() => {});
    await admin.deleteTopics({ topics: issueTopics(config.kafka.topicPrefix).specs.map((s) => s.topic), timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Waits, bounded, until `probe` gives the same answer twice 250 ms apart (writes still in flight have landed). */
async function settled(probe: () => Promise<number>, done: (n: number) => boolean, timeoutMs: number): Promise<void> {
  let last = -1;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    const n = await probe();
    if (n === last && done(n)) return;
    last = n;
  }
}

interface Prepared {
  db: Knex;
  couponId: number;
  instances: BenchServer[];
  /** Rows are final (sync strategies: writes in flight have landed; lua-kafka: every 202 is a row). */
  drained: () => Promise<void>;
  close: () => Promise<void>;
}

const startInstances = (strategy: Strategy, overrides: object, startTimeoutMs: number) =>
  Promise.all(
    Array.from({ length: INSTANCES }, () => startBenchServer('strategies/lab-server.js', 'LAB_LISTENING', { LAB_STRATEGY: strategy, LAB_OVERRIDES: JSON.stringify(overrides) }, startTimeoutMs)),
  );

async function prepareLabStrategy(strategy: LabStrategy, runId: string, quantity: number): Promise<Prepared> {
  const { database, keyPrefix, overrides } = isolation(runId, strategy);
  const { config } = await resolveServiceConfig(COUPON_SERVICE, { configServerUrl: null }, logger);
  const db = await openLabDatabase(config.mysql, database);
  const instances: BenchServer[] = [];
  const close = async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await deleteKeys(keyPrefix);
    await dropLabDatabase(db, database);
  };
  try {
    if (UNIQUE_PAIR.includes(strategy)) await requireUniquePair(db);
    const couponId = await createLabCoupon(db, quantity);
    instances.push(...(await startInstances(strategy, overrides, 15_000)));
    const drained = () =>
      settled(
        () => rowCount(db, couponId),
        () => true,
        10_000,
      );
    return { db, couponId, instances, drained, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The platform's path as it runs: one coupon-service (its consumer writes the rows) in this
 * process and two issue-coupon processes, on the run's own database, topics, key prefix and
 * Consul names. The coupon is created through coupon-service's API, as an admin would.
 */
async function preparePlatformPath(runId: string, quantity: number): Promise<Prepared> {
  const { database, keyPrefix, serviceSuffix, overrides } = isolation(runId, 'lua-kafka');
  let couponService: RunningService<unknown> | undefined;
  let db: Knex | undefined;
  const instances: BenchServer[] = [];
  const close = async () => {
    await Promise.all(instances.map((i) => i.stop()));
    const config = couponService?.config() as Parameters<typeof deleteTopics>[0] | undefined;
    await couponService?.stop();
    if (config) await deleteTopics(config);
    await deleteKeys(keyPrefix);
    if (db) await dropLabDatabase(db, database);
  };
  try {
    couponService = await startCouponService({ port: 0, configServerUrl: null, overrides });
    db = platformDb(database);
    const now = Date.now();
    const res = await fetch(`${couponService.url}/coupons`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${mintInternalToken(`coupon-service${serviceSuffix}`, { userId: 1, role: 'ADMIN' })}` },
      body: JSON.stringify({
        title: `strategy lab ${runId}`,
        totalQuantity: quantity,
        discountAmount: 1000,
        minOrderAmount: 0,
        issueStartAt: new Date(now - 60_000).toISOString(),
        issueEndAt: new Date(now + 3_600_000).toISOString(),
      }),
    });
    if (res.status !== 201) throw new Error(`lab coupon: ${res.status} ${await res.text()}`);
    const couponId = ((await res.json()) as { id: number }).id;
    instances.push(...(await startInstances('lua-kafka', overrides, 60_000)));
    const counts = db;
    const drained = async () => {
      // Every 202 the instances answered (their own count: wrk drops answers in flight at its
      // deadline) must become a row once the consumer catches up.
      const accepted = await acceptedByServers(`issue-coupon-service${serviceSuffix}`);
      await settled(
        () => rowCount(counts, couponId),
        (rows) => rows >= accepted,
        60_000,
      );
    };
    return { db, couponId, instances, drained, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One strategy under the lab's load, counted from its database afterwards, then cleaned up. */
export async function runStrategy(strategy: Strategy, load: LabLoad, runId: string): Promise<StrategyResult> {
  const lab = strategy === 'lua-kafka' ? await preparePlatformPath(runId, load.quantity) : await prepareLabStrategy(strategy, runId, load.quantity);
  const toldFile = path.join(REPO_ROOT, 'bench/results', `lab-told-${runId}-${strategy}.txt`);
  const tokenFile = path.join(REPO_ROOT, 'bench/results', `lab-tokens-${runId}-${strategy}.txt`);
  fs.mkdirSync(path.dirname(toldFile), { recursive: true });
  // Each lab user's internal token, as the gateway would relay it to the run's issue instances.
  const audience = `issue-coupon-service${isolation(runId, strategy).serviceSuffix}`;
  fs.writeFileSync(tokenFile, Array.from({ length: load.users }, (_, i) => mintInternalToken(audience, { userId: i + 1, role: 'USER' }, { ttlSeconds: 3600 })).join('\n') + '\n');
  try {
    const result = await runWrk({ ...load, duration: load.duration + (load.graceSeconds ?? 3) }, strategy, lab.instances[0].url, 'lab-claims.lua', {
      LAB_INSTANCES: lab.instances.map((i) => `127.0.0.1:${i.port}`).join(','),
      LAB_COUPON: String(lab.couponId),
      LAB_USERS: String(load.users),
      LAB_FIRST_USER: '1',
      LAB_TOKENS: tokenFile,
      LAB_TOLD_FILE: toldFile,
      LAB_CLAIM_SECONDS: String(load.duration),
    });
    await lab.drained();
    const told = new Set(fs.readFileSync(toldFile, 'utf8').split('\n').filter(Boolean).map(Number));
    const count = await countIssues(lab.db, lab.couponId, load.quantity, told);
    const { p50Ms, p99Ms, requests, outcomes, socketErrors } = loadSummary(result);
    // Every request was sent within the claim seconds (none in the grace period).
    const reqPerSec = Math.round(requests / load.duration);
    return { strategy, instances: lab.instances.length, quantity: load.quantity, reqPerSec, p50Ms, p99Ms, requests, told: told.size, ...count, outcomes, socketErrors };
  } finally {
    fs.rmSync(toldFile, { force: true });
    fs.rmSync(tokenFile, { force: true });
    await lab.close();
  }
}

/** Every strategy once per round, the order reversed every other round (whatever runs first meets the box's wake). */
export async function runStrategies(load: LabLoad, runId: string, strategies: readonly Strategy[] = STRATEGIES, rounds = 1): Promise<Array<StrategyResult & { round: number }>> {
  const results: Array<StrategyResult & { round: number }> = [];
  for (let round = 1; round <= rounds; round++) {
    for (const strategy of round % 2 === 1 ? strategies : [...strategies].reverse()) results.push({ round, ...(await runStrategy(strategy, load, runId)) });
  }
  return results;
}

/** The columns of the printed table. */
export function strategyRow(r: StrategyResult & { round?: number }) {
  return {
    ...(r.round === undefined ? {} : { round: r.round }),
    strategy: r.strategy,
    'req/s': r.reqPerSec,
    'p50 ms': r.p50Ms,
    'p99 ms': r.p99Ms,
    told: r.told,
    rows: r.rows,
    'over-issued': r.overIssued,
    'dup pairs': r.duplicatePairs,
    'told, no row': r.toldWithoutRow,
    'row, not told': r.rowWithoutTold,
    unavailable: r.outcomes.ISSUE_UNAVAILABLE ?? 0,
    'socket errors': r.socketErrors,
  };
}

/**
 * The strategies the platform stands on (the database's locks and keys, its Lua claim, its real
 * path) and what each must never do; the others are there to show what they do.
 */
export const MUST_BE_EXACT: readonly Strategy[] = ['db-for-update', 'db-conditional-update', 'redis-lua', 'lua-kafka'];

/** What a strategy that must be exact got wrong (nothing for the others). */
export function violations(r: StrategyResult): string[] {
  if (!MUST_BE_EXACT.includes(r.strategy)) return [];
  const wrong = [
    r.overIssued > 0 && `over-issued ${r.overIssued}`,
    r.duplicatePairs > 0 && `${r.duplicatePairs} duplicate (coupon, user) pairs`,
    r.toldWithoutRow > 0 && `${r.toldWithoutRow} users told 202 without a row`,
  ].filter((w): w is string => Boolean(w));
  return wrong.map((w) => `${r.strategy}: ${w}`);
}
