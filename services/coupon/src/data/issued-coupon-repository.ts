import type { Knex } from 'knex';
import type { IssueEvent } from '@coupon-rush/issue-contract';
import { isoTime } from './columns';

/** One coupon a user holds, with what its policy says of using it. */
export interface IssuedCoupon {
  couponId: number;
  title: string;
  discountAmount: number;
  minOrderAmount: number;
  issuedAt: string;
  usedAt: string | null;
  usableUntil: string | null;
  usableDays: number | null;
  /** The use, when used: the order, its amount and the discount it got. */
  usedOrderId: string | null;
  usedOrderAmount: number | null;
  usedDiscount: number | null;
}

const HELD_COLUMNS = [
  'i.coupon_id',
  'i.issued_at',
  'i.used_at',
  'i.used_order_id',
  'i.used_order_amount',
  'i.used_discount',
  'c.title',
  'c.discount_amount',
  'c.min_order_amount',
  'c.usable_until',
  'c.usable_days',
];

function toIssued(r: Record<string, any>): IssuedCoupon {
  const count = (v: unknown) => (v === null ? null : Number(v));
  return {
    couponId: Number(r.coupon_id),
    title: r.title,
    discountAmount: Number(r.discount_amount),
    minOrderAmount: Number(r.min_order_amount),
    issuedAt: isoTime(r.issued_at),
    usedAt: r.used_at ? isoTime(r.used_at) : null,
    usableUntil: r.usable_until === null ? null : isoTime(r.usable_until),
    usableDays: count(r.usable_days),
    usedOrderId: r.used_order_id,
    usedOrderAmount: count(r.used_order_amount),
    usedDiscount: count(r.used_discount),
  };
}

const held = (db: Knex) => db('issued_coupons as i').join('coupons as c', 'c.id', 'i.coupon_id').select(HELD_COLUMNS);

/** One coupon a user holds (a persisted row), with its policy's terms; undefined when not held. */
export async function findHeld(db: Knex, couponId: number, userId: number): Promise<IssuedCoupon | undefined> {
  const row = await held(db).where({ 'i.coupon_id': couponId, 'i.user_id': userId }).first();
  return row ? toIssued(row) : undefined;
}

/**
 * Marks a held coupon used for an order, only if it is unused: one conditional UPDATE, so of
 * concurrent uses with different orders exactly one changes the row. Whether this one did.
 */
export async function markUsed(db: Knex, couponId: number, userId: number, use: { orderId: string; orderAmount: number; discount: number; at: Date }): Promise<boolean> {
  const changed = await db('issued_coupons')
    .where({ coupon_id: couponId, user_id: userId })
    .whereNull('used_at')
    .update({ used_at: use.at, used_order_id: use.orderId, used_order_amount: use.orderAmount, used_discount: use.discount });
  return changed === 1;
}

/** Undoes the use of a held coupon by that order (and no other); whether it was that order's. */
export async function releaseUse(db: Knex, couponId: number, userId: number, orderId: string): Promise<boolean> {
  const changed = await db('issued_coupons')
    .where({ coupon_id: couponId, user_id: userId, used_order_id: orderId })
    .update({ used_at: null, used_order_id: null, used_order_amount: null, used_discount: null });
  return changed === 1;
}

/** Locks the coupon row, so concurrent batches for one coupon apply their quantity guard in turn. */
export async function lockCouponQuantity(trx: Knex.Transaction, couponId: number): Promise<{ totalQuantity: number | null } | undefined> {
  const row = await trx('coupons').select('total_quantity').where({ id: couponId }).forUpdate().first();
  return row && { totalQuantity: row.total_quantity === null ? null : Number(row.total_quantity) };
}

export async function countIssued(trx: Knex.Transaction | Knex, couponId: number): Promise<number> {
  const [{ n }] = await trx('issued_coupons').where({ coupon_id: couponId }).count({ n: '*' });
  return Number(n);
}

/**
 * The users holding a row of one coupon, ascending, read a page at a time along the unique
 * (coupon_id, user_id) index (a coupon may have 100k rows). Pages are not one snapshot: a row
 * committed during the read, below the page already read, is left out.
 */
export async function issuedUserIds(db: Knex, couponId: number, pageSize = 10_000): Promise<number[]> {
  const users: number[] = [];
  for await (const page of holdersOf(db, couponId, pageSize)) for (const user of page) users.push(user);
  return users;
}

export async function usersAlreadyIssued(trx: Knex.Transaction, couponId: number, userIds: number[]): Promise<Set<number>> {
  const rows = await trx('issued_coupons').select('user_id').where({ coupon_id: couponId }).whereIn('user_id', userIds);
  return new Set(rows.map((r) => Number(r.user_id)));
}

export async function insertIssued(trx: Knex.Transaction, events: IssueEvent[]): Promise<void> {
  if (events.length === 0) return;
  await trx('issued_coupons').insert(events.map((e) => ({ coupon_id: e.couponId, user_id: e.userId, event_id: e.eventId, issued_at: new Date(e.issuedAt) })));
}

export async function issuedToUser(db: Knex, userId: number): Promise<IssuedCoupon[]> {
  const rows = await held(db).where('i.user_id', userId).orderBy('i.issued_at', 'desc').limit(1000);
  return rows.map(toIssued);
}

/** Sets issued_quantity from the persisted rows of the given coupons. */
export async function writeBackIssuedQuantity(db: Knex, couponIds: number[]): Promise<void> {
  if (couponIds.length === 0) return;
  await db.raw(
    `UPDATE coupons c SET c.issued_quantity = (SELECT COUNT(*) FROM issued_coupons i WHERE i.coupon_id = c.id), c.updated_at = CURRENT_TIMESTAMP(3)
     WHERE c.id IN (${couponIds.map(() => '?').join(',')})`,
    couponIds,
  );
}

/** Coupons whose issued_quantity disagrees with their rows (after a restart, say). */
export async function couponsOutOfSync(db: Knex): Promise<number[]> {
  const rows = await db.raw(
    `SELECT c.id FROM coupons c LEFT JOIN (SELECT coupon_id, COUNT(*) n FROM issued_coupons GROUP BY coupon_id) x ON x.coupon_id = c.id
     WHERE c.issued_quantity <> COALESCE(x.n, 0)`,
  );
  return rows[0].map((r: { id: number }) => Number(r.id));
}

/** Coupons whose issue window is open or closed less than `graceMs` ago: the ones claims can be pending for. */
export async function couponsIssuing(db: Knex, at: Date, graceMs: number): Promise<number[]> {
  const rows = await db('coupons')
    .select('id')
    .where('issue_start_at', '<=', at)
    .andWhere('issue_end_at', '>', new Date(at.getTime() - graceMs));
  return rows.map((r) => Number(r.id));
}

/**
 * The rows of one coupon (the given columns and user_id) in pages of `chunk`, by user id ascending
 * along the unique (coupon_id, user_id) index, so 100,000 rows never sit in memory at once: a page
 * is one short query, and a slow reader holds no connection or cursor between pages. Pages are not
 * one snapshot (a row committed meanwhile below the page already read is left out).
 */
async function* pagesOf(db: Knex, couponId: number, columns: string[], chunk: number): AsyncGenerator<Array<Record<string, any>>> {
  let after = 0;
  for (;;) {
    const rows = await db('issued_coupons')
      .select('user_id', ...columns)
      .where({ coupon_id: couponId })
      .andWhere('user_id', '>', after)
      .orderBy('user_id')
      .limit(chunk);
    if (rows.length === 0) return;
    yield rows;
    after = Number(rows[rows.length - 1].user_id);
    if (rows.length < chunk) return;
  }
}

/** The users holding a row of the coupon, a page at a time. */
export async function* holdersOf(db: Knex, couponId: number, chunk = 5000): AsyncGenerator<number[]> {
  for await (const rows of pagesOf(db, couponId, [], chunk)) yield rows.map((r) => Number(r.user_id));
}

/** One issued coupon as an operator's export lists it. */
export interface IssuedRow {
  userId: number;
  issuedAt: string;
  usedAt: string | null;
  usedOrderId: string | null;
}

/** The rows of one coupon as the export lists them, a page at a time. */
export async function* issuedRowsOf(db: Knex, couponId: number, chunk: number): AsyncGenerator<IssuedRow[]> {
  for await (const rows of pagesOf(db, couponId, ['issued_at', 'used_at', 'used_order_id'], chunk)) {
    yield rows.map((r) => ({ userId: Number(r.user_id), issuedAt: isoTime(r.issued_at), usedAt: r.used_at ? isoTime(r.used_at) : null, usedOrderId: r.used_order_id }));
  }
}

/**
 * One coupon's rows counted: all, used, and unused ones issued at or before `issuedBy` (the
 * caller turns the policy's end of use into that instant; null: none count).
 */
export async function countUsage(db: Knex, couponId: number, issuedBy: Date | null): Promise<{ issued: number; used: number; unusedIssuedBy: number }> {
  const [row] = await db('issued_coupons')
    .where({ coupon_id: couponId })
    .select(
      db.raw('COUNT(*) AS issued'),
      db.raw('COALESCE(SUM(used_at IS NOT NULL), 0) AS used'),
      issuedBy === null ? db.raw('0 AS unused_by') : db.raw('COALESCE(SUM(used_at IS NULL AND issued_at <= ?), 0) AS unused_by', [issuedBy]),
    );
  return { issued: Number(row.issued), used: Number(row.used), unusedIssuedBy: Number(row.unused_by) };
}

/**
 * Marks up to `batch` unused, unmarked coupons past their end of use (the policy's usable_until,
 * or usable_days after the issue) as expired at `at`; how many it marked. A coupon used before its
 * end, or given back after it, is marked on a later run; a mark is never undone by a cancel.
 */
export async function markExpired(db: Knex, at: Date, batch: number): Promise<number> {
  const ids = await db('issued_coupons as i')
    .join('coupons as c', 'c.id', 'i.coupon_id')
    .whereNull('i.used_at')
    .whereNull('i.expired_at')
    .where((q) => void q.where('c.usable_until', '<=', at).orWhereRaw('i.issued_at + INTERVAL c.usable_days DAY <= ?', [at]))
    .limit(batch)
    .pluck('i.id');
  if (ids.length === 0) return 0;
  return db('issued_coupons').whereIn('id', ids).whereNull('used_at').whereNull('expired_at').update({ expired_at: at });
}
