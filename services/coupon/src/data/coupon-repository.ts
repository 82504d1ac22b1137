import type { Knex } from 'knex';
import { isoTime, newestFirst } from './columns';

export interface Coupon {
  id: number;
  title: string;
  type: string;
  totalQuantity: number | null;
  issuedQuantity: number;
  discountAmount: number;
  minOrderAmount: number;
  issueStartAt: string;
  issueEndAt: string;
  /** An issued coupon is usable until this instant; or, with `usableDays`, for that many days after its issue; neither: no end. */
  usableUntil: string | null;
  usableDays: number | null;
  /** Queued admission through the waiting room, that many users a second or a rate it chooses ('auto'); null: direct, whoever comes first claims. */
  admission: { perSecond: number | 'auto' } | null;
  createdAt: string;
  updatedAt: string;
}

export type NewCoupon = Pick<Coupon, 'title' | 'type' | 'totalQuantity' | 'discountAmount' | 'minOrderAmount' | 'issueStartAt' | 'issueEndAt' | 'usableUntil' | 'usableDays' | 'admission'>;

function toCoupon(row: Record<string, any>): Coupon {
  return {
    id: Number(row.id),
    title: row.title,
    type: row.type,
    totalQuantity: row.total_quantity === null ? null : Number(row.total_quantity),
    issuedQuantity: Number(row.issued_quantity),
    discountAmount: Number(row.discount_amount),
    minOrderAmount: Number(row.min_order_amount),
    issueStartAt: isoTime(row.issue_start_at),
    issueEndAt: isoTime(row.issue_end_at),
    usableUntil: row.usable_until === null ? null : isoTime(row.usable_until),
    usableDays: row.usable_days === null ? null : Number(row.usable_days),
    admission: row.admission_auto ? { perSecond: 'auto' } : row.admission_per_second === null ? null : { perSecond: Number(row.admission_per_second) },
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

export async function insertCoupon(db: Knex, c: NewCoupon, trx?: Knex.Transaction): Promise<Coupon> {
  const [id] = await (trx ?? db)('coupons').insert({
    title: c.title,
    type: c.type,
    total_quantity: c.totalQuantity,
    discount_amount: c.discountAmount,
    min_order_amount: c.minOrderAmount,
    issue_start_at: new Date(c.issueStartAt),
    issue_end_at: new Date(c.issueEndAt),
    usable_until: c.usableUntil === null ? null : new Date(c.usableUntil),
    usable_days: c.usableDays,
    admission_per_second: typeof c.admission?.perSecond === 'number' ? c.admission.perSecond : null,
    admission_auto: c.admission?.perSecond === 'auto',
  });
  return (await findCoupon(db, Number(id), trx))!;
}

export async function findCoupon(db: Knex, id: number, trx?: Knex.Transaction): Promise<Coupon | undefined> {
  const row = await (trx ?? db)('coupons').where({ id }).first();
  return row ? toCoupon(row) : undefined;
}

export function listCoupons(db: Knex, page: number, size: number): Promise<{ items: Coupon[]; total: number }> {
  return newestFirst(() => db('coupons'), page, size, toCoupon);
}
