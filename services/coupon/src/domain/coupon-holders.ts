import type { Knex } from 'knex';
import { badRequest } from '@coupon-rush/platform';
import { countUsage, issuedRowsOf, type IssuedRow } from '../data/issued-coupon-repository';
import type { Coupon } from '../data/coupon-repository';
import { getCoupon } from './coupon-policies';
import { queryText } from './fields';
import { DAY_MS, stateAt, usableUntilOf, type HeldCouponState } from './held-coupons';

/** What became of one coupon's issued rows, counted at `at`: by the clock, not by the expiry job's marks. */
export interface CouponUsage {
  couponId: number;
  issued: number;
  used: number;
  expired: number;
  usable: number;
  at: string;
}

/** Later than any issue: with a fixed end of use already past, every unused row counts as expired. */
const END_OF_TIME = new Date('9999-12-31T00:00:00Z');

/** The instant an unused row must have been issued by to be expired at `now`; null when none is. */
function expiredIfIssuedBy(coupon: Coupon, now: number): Date | null {
  if (coupon.usableUntil !== null) return Date.parse(coupon.usableUntil) <= now ? END_OF_TIME : null;
  if (coupon.usableDays !== null) return new Date(now - coupon.usableDays * DAY_MS);
  return null;
}

export async function couponUsage(db: Knex, couponId: number, now = Date.now()): Promise<CouponUsage> {
  const coupon = await getCoupon(db, couponId);
  const counted = await countUsage(db, couponId, expiredIfIssuedBy(coupon, now));
  return {
    couponId,
    issued: counted.issued,
    used: counted.used,
    expired: counted.unusedIssuedBy,
    usable: counted.issued - counted.used - counted.unusedIssuedBy,
    at: new Date(now).toISOString(),
  };
}

export type ExportFormat = 'csv' | 'jsonl';

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson' };

export function exportFormatOf(v: unknown): ExportFormat {
  const format = queryText(v, 'format') ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw badRequest('format must be csv or jsonl');
  return format;
}

/** One exported line's fields, in the CSV's column order. */
interface Holder {
  userId: number;
  issuedAt: string;
  state: HeldCouponState;
  usableUntil: string | null;
  usedAt: string | null;
  orderId: string | null;
}

const CSV_HEADER = 'userId,issuedAt,state,usableUntil,usedAt,orderId\n';

function holderOf(coupon: Coupon, row: IssuedRow, now: number): Holder {
  const usableUntil = usableUntilOf({ issuedAt: row.issuedAt, usableUntil: coupon.usableUntil, usableDays: coupon.usableDays });
  return { userId: row.userId, issuedAt: row.issuedAt, state: stateAt(row.usedAt, usableUntil, now), usableUntil, usedAt: row.usedAt, orderId: row.usedOrderId };
}

// No field needs CSV quoting: numbers, ISO instants, states, and order ids of letters, digits and . _ : -.
const csvLine = (h: Holder) => `${h.userId},${h.issuedAt},${h.state},${h.usableUntil ?? ''},${h.usedAt ?? ''},${h.orderId ?? ''}\n`;
const jsonLine = (h: Holder) => `${JSON.stringify(h)}\n`;

/**
 * Who holds a coupon, as text chunks of one page of rows each (states at `now`). The coupon is
 * read before the first chunk, so an unknown one is a 404 and not a broken stream. Memory is one
 * page whatever the count: the consumer pulls the next page only when it wants more.
 */
export async function exportHolders(db: Knex, couponId: number, format: ExportFormat, { now = Date.now(), chunk = 2000 } = {}): Promise<AsyncGenerator<string>> {
  const coupon = await getCoupon(db, couponId);
  const line = format === 'csv' ? csvLine : jsonLine;
  return (async function* () {
    if (format === 'csv') yield CSV_HEADER;
    for await (const rows of issuedRowsOf(db, couponId, chunk)) yield rows.map((row) => line(holderOf(coupon, row, now))).join('');
  })();
}
