import path from 'node:path';
import type { Knex } from 'knex';
import { openDatabase, type MysqlSettings } from '@coupon-rush/platform';

/**
 * The lab's MariaDB side: one database per strategy and run (`coupon_rush_lab_<run>_<strategy>`,
 * inside the account's `coupon_rush%` grant), its coupon, the rows strategies write, and the
 * count that judges them afterwards.
 */
export interface LabCoupon {
  id: number;
  totalQuantity: number;
  issuedQuantity: number;
  issueStartAt: Date;
  issueEndAt: Date;
}

export function labDatabaseName(runId: string, strategy: string): string {
  const name = `coupon_rush_lab_${runId}_${strategy.replace(/-/g, '_')}`;
  if (!/^[a-z0-9_]{1,64}$/.test(name)) throw new Error(`bad lab database name ${name}`);
  return name;
}

/** Opens (creating and migrating when missing) a lab database. */
export function openLabDatabase(mysql: MysqlSettings, database: string): Promise<Knex> {
  return openDatabase({ ...mysql, database }, { directory: path.join(__dirname, 'migrations'), ledger: 'knex_migrations_lab' });
}

/** For the strategies that rest on it: at most one row per (coupon, user), enforced by the database. */
export async function requireUniquePair(db: Knex): Promise<void> {
  await db.raw('ALTER TABLE issued_coupons ADD UNIQUE KEY issued_coupons_pair_unique (coupon_id, user_id)');
}

/** A coupon of `quantity`, open from a minute ago for an hour (as loadkit's createCoupon). */
export async function createLabCoupon(db: Knex, quantity: number): Promise<number> {
  const now = Date.now();
  const [id] = await db('coupons').insert({ total_quantity: quantity, issue_start_at: new Date(now - 60_000), issue_end_at: new Date(now + 3_600_000) });
  return Number(id);
}

export async function findCoupon(db: Knex, couponId: number, lock?: 'for update'): Promise<LabCoupon | undefined> {
  const query = db('coupons').where('id', couponId).first('total_quantity', 'issued_quantity', 'issue_start_at', 'issue_end_at');
  const row = await (lock ? query.forUpdate() : query);
  if (!row) return undefined;
  return { id: couponId, totalQuantity: row.total_quantity, issuedQuantity: row.issued_quantity, issueStartAt: row.issue_start_at, issueEndAt: row.issue_end_at };
}

export function recordIssue(db: Knex, couponId: number, userId: number): Promise<unknown> {
  return db('issued_coupons').insert({ coupon_id: couponId, user_id: userId, issued_at: new Date() });
}

/** What the database holds for one coupon against what the users were told. */
export interface IssueCount {
  rows: number;
  /** rows − quantity, when positive. */
  overIssued: number;
  /** (coupon, user) pairs with more than one row. */
  duplicatePairs: number;
  /** Users answered 202 who hold no row. */
  toldWithoutRow: number;
  /** Users who hold a row but were never answered 202. */
  rowWithoutTold: number;
}

/** Counts a coupon's rows in `issued_coupons` (the lab's or coupon-service's: the same columns). */
export async function countIssues(db: Knex, couponId: number, quantity: number, told: ReadonlySet<number>): Promise<IssueCount> {
  const holders: Array<{ user_id: number; n: number }> = await db('issued_coupons').where('coupon_id', couponId).groupBy('user_id').select('user_id').count({ n: '*' });
  const held = new Set(holders.map((h) => Number(h.user_id)));
  const rows = holders.reduce((sum, h) => sum + Number(h.n), 0);
  return {
    rows,
    overIssued: Math.max(0, rows - quantity),
    duplicatePairs: holders.filter((h) => Number(h.n) > 1).length,
    toldWithoutRow: [...told].filter((u) => !held.has(u)).length,
    rowWithoutTold: [...held].filter((u) => !told.has(u)).length,
  };
}

/** Rows of a coupon so far (to wait for writes still in flight to settle). */
export async function rowCount(db: Knex, couponId: number): Promise<number> {
  const [{ n }] = await db('issued_coupons').where('coupon_id', couponId).count({ n: '*' });
  return Number(n);
}

/** Drops a lab database (through a connection to it) and closes the pool. */
export async function dropLabDatabase(db: Knex, database: string): Promise<void> {
  try {
    await db.raw('DROP DATABASE IF EXISTS ??', [database]);
  } finally {
    await db.destroy();
  }
}
