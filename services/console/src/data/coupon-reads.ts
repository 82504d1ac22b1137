import type { Knex } from 'knex';

/** What the console shows of a coupon: coupon-service owns the table, the console only reads it. */
export interface WatchedCoupon {
  id: number;
  title: string;
  totalQuantity: number | null;
  issueStartAt: string;
  issueEndAt: string;
  /** Users admitted a second from its waiting room, or 'auto' (the room sets it); null: a direct coupon. */
  admissionPerSecond: number | 'auto' | null;
}

const COLUMNS = ['id', 'title', 'total_quantity', 'issue_start_at', 'issue_end_at', 'admission_per_second', 'admission_auto'];

function toCoupon(row: Record<string, unknown>): WatchedCoupon {
  return {
    id: Number(row.id),
    title: String(row.title),
    totalQuantity: row.total_quantity === null ? null : Number(row.total_quantity),
    issueStartAt: new Date(row.issue_start_at as Date).toISOString(),
    issueEndAt: new Date(row.issue_end_at as Date).toISOString(),
    admissionPerSecond: row.admission_auto ? 'auto' : row.admission_per_second === null ? null : Number(row.admission_per_second),
  };
}

/** The newest coupons first. */
export async function recentCoupons(db: Knex, limit: number): Promise<WatchedCoupon[]> {
  const rows = await db('coupons').select(COLUMNS).orderBy('id', 'desc').limit(limit);
  return rows.map(toCoupon);
}

export async function findCoupon(db: Knex, id: number): Promise<WatchedCoupon | undefined> {
  const row = await db('coupons').select(COLUMNS).where({ id }).first();
  return row ? toCoupon(row) : undefined;
}

/** Issued-coupon rows per coupon (the unique (coupon_id, user_id) index answers it). */
export async function rowsPerCoupon(db: Knex, ids: number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows: Array<{ coupon_id: number; n: number }> = await db('issued_coupons').select('coupon_id').count({ n: '*' }).whereIn('coupon_id', ids).groupBy('coupon_id');
  return new Map(rows.map((r) => [Number(r.coupon_id), Number(r.n)]));
}

/**
 * The users holding a row of one coupon, ascending, a page at a time along the unique
 * (coupon_id, user_id) index (coupon-service's issuedUserIds reads them the same way).
 */
export async function issuedUserIds(db: Knex, couponId: number, pageSize = 10_000): Promise<number[]> {
  const users: number[] = [];
  for (;;) {
    const page: Array<number | string> = await db('issued_coupons')
      .where({ coupon_id: couponId })
      .andWhere('user_id', '>', users.at(-1) ?? 0)
      .orderBy('user_id')
      .limit(pageSize)
      .pluck('user_id');
    for (const user of page) users.push(Number(user));
    if (page.length < pageSize) return users;
  }
}
