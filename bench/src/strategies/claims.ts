import { Mutex as ProcessMutex } from 'async-mutex';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { Mutex as RedisMutex } from 'redis-semaphore';
import { MysqlError, isMysqlError } from '@coupon-rush/platform';
import { ClaimLedger, type LedgerDurability } from '@coupon-rush/issue-contract';
import { findCoupon, recordIssue, type LabCoupon } from './lab-store';

/**
 * The same FCFS claim (inside the window, one per user, at most the quantity) made the ways the
 * seeds made it. Every strategy answers what the platform answers; only how it guards the stock and
 * the one-per-user rule differs. They run in the lab server (bench/src/strategies/lab-server.ts),
 * never on the platform's path; "lua-kafka", the platform's own path, is the real issue-coupon and
 * coupon services and has no entry here.
 */
export type ClaimAnswer = 'ISSUED' | 'ALREADY_ISSUED' | 'SOLD_OUT' | 'ISSUE_WINDOW_CLOSED' | 'COUPON_NOT_FOUND';
export type Claim = (couponId: number, userId: number) => Promise<ClaimAnswer>;

export interface LabContext {
  db: Knex;
  redis: Redis;
  /** Every Redis key a strategy writes starts with it (the run's and the strategy's own). */
  prefix: string;
  /** The platform's replica acknowledgement for ledger writes (the same WAIT as issue-coupon). */
  durability: LedgerDurability;
}

function windowAnswer(coupon: LabCoupon | undefined, now = Date.now()): ClaimAnswer | undefined {
  if (!coupon) return 'COUPON_NOT_FOUND';
  if (now < coupon.issueStartAt.getTime() || now >= coupon.issueEndAt.getTime()) return 'ISSUE_WINDOW_CLOSED';
  return undefined;
}

/** A refusal decided inside a transaction that must roll it back. */
class Refused extends Error {
  constructor(readonly answer: ClaimAnswer) {
    super(answer);
  }
}

/** Runs a claim transaction, again after a deadlock (InnoDB picked it as the victim and rolled it back). */
async function inTransaction(db: Knex, work: (trx: Knex.Transaction) => Promise<ClaimAnswer>): Promise<ClaimAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (err) {
      if (err instanceof Refused) return err.answer;
      if (!isMysqlError(err, MysqlError.DEADLOCK) || attempt >= 3) throw err;
    }
  }
}

/**
 * The seeds' JPA-style claim (read the coupon and the user's coupon, check, insert, save the
 * counter as read + 1) in one transaction. Reads are snapshot reads, so two overlapping claims
 * read the same count and the second write loses the first one's increment: the counter falls
 * behind the rows and the stock never looks spent. Correct only when nothing else runs at once.
 */
function readCheckWrite(db: Knex, couponId: number, userId: number): Promise<ClaimAnswer> {
  return inTransaction(db, async (trx) => {
    const coupon = await findCoupon(trx, couponId);
    const refused = windowAnswer(coupon);
    if (refused) return refused;
    if (await trx('issued_coupons').where({ coupon_id: couponId, user_id: userId }).first('id')) return 'ALREADY_ISSUED';
    if (coupon!.issuedQuantity >= coupon!.totalQuantity) return 'SOLD_OUT';
    await recordIssue(trx, couponId, userId);
    await trx('coupons')
      .where('id', couponId)
      .update({ issued_quantity: coupon!.issuedQuantity + 1 });
    return 'ISSUED';
  });
}

/** The race itself: nothing stops two claims from reading the same count. */
function noLock({ db }: LabContext): Claim {
  return (couponId, userId) => readCheckWrite(db, couponId, userId);
}

/**
 * One claim at a time per coupon in this process (a `synchronized` method, a ReentrantLock): the
 * read-check-write is safe inside one instance and races with every other instance.
 */
function processMutex({ db }: LabContext): Claim {
  const locks = new Map<number, ProcessMutex>();
  return (couponId, userId) => {
    let lock = locks.get(couponId);
    if (!lock) locks.set(couponId, (lock = new ProcessMutex()));
    return lock.runExclusive(() => readCheckWrite(db, couponId, userId));
  };
}

/**
 * A pessimistic lock: the coupon row is locked (SELECT … FOR UPDATE) until the claim commits, so
 * claims on one coupon are serialized by the database whichever instance sends them. The user's
 * row is read with a locking read too: it must see the latest commit, not the snapshot.
 */
function dbForUpdate({ db }: LabContext): Claim {
  return (couponId, userId) =>
    inTransaction(db, async (trx) => {
      const coupon = await findCoupon(trx, couponId, 'for update');
      const refused = windowAnswer(coupon);
      if (refused) return refused;
      if (await trx('issued_coupons').where({ coupon_id: couponId, user_id: userId }).forShare().first('id')) return 'ALREADY_ISSUED';
      if (coupon!.issuedQuantity >= coupon!.totalQuantity) return 'SOLD_OUT';
      await recordIssue(trx, couponId, userId);
      await trx('coupons').where('id', couponId).increment('issued_quantity', 1);
      return 'ISSUED';
    });
}

/**
 * An atomic conditional UPDATE: the row is inserted first (the unique (coupon, user) key refuses a
 * second one: ALREADY_ISSUED before SOLD_OUT, as the platform answers), then the counter moves
 * only while it is below the quantity and the window is open; no row moved rolls the insert back.
 */
function dbConditionalUpdate({ db }: LabContext): Claim {
  return (couponId, userId) =>
    inTransaction(db, async (trx) => {
      try {
        await recordIssue(trx, couponId, userId);
      } catch (err) {
        if (isMysqlError(err, MysqlError.DUPLICATE_KEY)) return 'ALREADY_ISSUED';
        throw err;
      }
      const now = new Date();
      const moved = await trx('coupons')
        .where('id', couponId)
        .andWhere('issue_start_at', '<=', now)
        .andWhere('issue_end_at', '>', now)
        .andWhere('issued_quantity', '<', trx.ref('total_quantity'))
        .increment('issued_quantity', 1);
      if (moved === 1) return 'ISSUED';
      throw new Refused(windowAnswer(await findCoupon(trx, couponId)) ?? 'SOLD_OUT');
    });
}

/**
 * A Redis lock per coupon around the read-check-write (Redisson's RLock in the seeds):
 * redis-semaphore's Mutex, a SET NX PX with a per-holder token, refreshed while held and released
 * only by its holder. Claims on one coupon queue on one key whichever instance sends them.
 */
function redisLock({ db, redis, prefix }: LabContext): Claim {
  return async (couponId, userId) => {
    // A lock held longer than lockTimeout is refreshed; one that cannot be had in acquireTimeout
    // is a 503, answered before wrk's 5 s request timeout. A lock lost while held (a refresh came
    // too late) lets a second holder in: that shows in the count, not as a crashed instance (the
    // library's default throws it unhandled).
    const lock = new RedisMutex(redis, `${prefix}coupon:${couponId}`, { lockTimeout: 5000, acquireTimeout: 4000, onLockLost: () => {} });
    await lock.acquire();
    try {
      return await readCheckWrite(db, couponId, userId);
    } finally {
      await lock.release();
    }
  };
}

/** The coupon as one instance first read it: its window and quantity do not change during a rush. */
function policyCache(db: Knex): (couponId: number) => Promise<LabCoupon | undefined> {
  const policies = new Map<number, Promise<LabCoupon | undefined>>();
  return (couponId) => {
    let policy = policies.get(couponId);
    if (!policy) policies.set(couponId, (policy = findCoupon(db, couponId)));
    return policy;
  };
}

/**
 * A Redis counter and set, each command atomic on its own, with no script (the seeds' INCR
 * version): is the user in the set, then INCR the count (over the quantity is SOLD_OUT), then
 * SADD the user and write the row. INCR keeps the count exact, but the check and the add are two
 * steps: a user's two requests in flight together both pass the check.
 */
function redisIncrSadd({ db, redis, prefix }: LabContext): Claim {
  const policy = policyCache(db);
  return async (couponId, userId) => {
    const coupon = await policy(couponId);
    const refused = windowAnswer(coupon);
    if (refused) return refused;
    const [users, count] = [`${prefix}coupon:{${couponId}}:users`, `${prefix}coupon:{${couponId}}:count`];
    if (await redis.sismember(users, String(userId))) return 'ALREADY_ISSUED';
    if ((await redis.incr(count)) > coupon!.totalQuantity) return 'SOLD_OUT';
    await redis.sadd(users, String(userId));
    await recordIssue(db, couponId, userId);
    return 'ISSUED';
  };
}

/**
 * The platform's claim (issue-contract's Lua script: duplicate check, quantity, add, in one step,
 * WAIT for a replica) with the row written before answering, instead of an event: the step the
 * platform takes to Kafka, measured without it. A row that cannot be written releases the claim.
 */
function redisLua({ db, redis, prefix, durability }: LabContext): Claim {
  const policy = policyCache(db);
  const ledger = new ClaimLedger(redis, prefix, durability);
  // The lab's coupons are its own and new: their claim sets open on first use, as coupon-service opens them at creation.
  const opened = new Map<number, Promise<void>>();
  const open = (couponId: number) => opened.get(couponId) ?? opened.set(couponId, ledger.open(couponId)).get(couponId)!;
  return async (couponId, userId) => {
    const coupon = await policy(couponId);
    const refused = windowAnswer(coupon);
    if (refused) return refused;
    await open(couponId);
    let claim;
    try {
      claim = await ledger.claim(couponId, userId, coupon!.totalQuantity);
    } catch (err) {
      // Not replicated in time, or the reply was lost: released, as issue-coupon releases it.
      await ledger.revoke(couponId, userId).catch(() => {});
      throw err;
    }
    // The lab's coupons are direct (no pass), so PASS_INVALID cannot come back either.
    if (claim === 'IN_FLIGHT' || claim === 'REBUILDING' || claim === 'PASS_INVALID') throw new Error(`claim ${claim}`);
    if (claim !== 'ACCEPTED') return claim;
    try {
      await recordIssue(db, couponId, userId);
    } catch (err) {
      await ledger.revoke(couponId, userId).catch(() => {});
      throw err;
    }
    return 'ISSUED';
  };
}

export const LAB_CLAIMS = {
  'no-lock': noLock,
  'process-mutex': processMutex,
  'db-for-update': dbForUpdate,
  'db-conditional-update': dbConditionalUpdate,
  'redis-lock': redisLock,
  'redis-incr-sadd': redisIncrSadd,
  'redis-lua': redisLua,
} satisfies Record<string, (ctx: LabContext) => Claim>;

export type LabStrategy = keyof typeof LAB_CLAIMS;
