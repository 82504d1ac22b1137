import type { Knex } from 'knex';
import type { ClaimLedger } from '@coupon-rush/issue-contract';
import { AppError, badRequest, objectBody } from '@coupon-rush/platform';
import { isoInstant, pageOf } from './fields';
import { findCoupon, insertCoupon, listCoupons, type Coupon, type NewCoupon } from '../data/coupon-repository';

const FIELDS = ['title', 'type', 'totalQuantity', 'discountAmount', 'minOrderAmount', 'issueStartAt', 'issueEndAt', 'usableUntil', 'usableDays', 'admission'] as const;
/** A waiting room admitting more than this a second is no waiting room. */
const MAX_ADMISSION_PER_SECOND = 10_000;
/** Ten years: a longer validity is a typo, not a policy. */
const MAX_USABLE_DAYS = 3650;
const TYPES = ['FIXED_AMOUNT'];
const MAX_INT = 2_147_483_647;

function nonNegativeInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_INT) throw badRequest(`${name} must be a non-negative integer`);
  return v;
}

export function validateNewCoupon(body: unknown): NewCoupon {
  const b = objectBody(body, FIELDS);
  if (typeof b.title !== 'string' || b.title.trim().length === 0 || b.title.length > 100) throw badRequest('title must be 1 to 100 characters');
  const type = b.type ?? 'FIXED_AMOUNT';
  if (typeof type !== 'string' || !TYPES.includes(type)) throw badRequest(`type must be one of ${TYPES.join(', ')}`);
  if (b.totalQuantity === undefined) throw badRequest('totalQuantity is required (null means unlimited)');
  const totalQuantity = b.totalQuantity === null ? null : nonNegativeInt(b.totalQuantity, 'totalQuantity');
  if (totalQuantity === 0) throw badRequest('totalQuantity must be at least 1, or null for unlimited');
  const issueStartAt = isoInstant(b.issueStartAt, 'issueStartAt');
  const issueEndAt = isoInstant(b.issueEndAt, 'issueEndAt');
  if (Date.parse(issueEndAt) <= Date.parse(issueStartAt)) throw badRequest('issueEndAt must be after issueStartAt');
  const { usableUntil, usableDays } = validityOf(b, issueEndAt);
  return {
    title: b.title.trim(),
    type,
    totalQuantity,
    discountAmount: nonNegativeInt(b.discountAmount, 'discountAmount'),
    minOrderAmount: b.minOrderAmount === undefined ? 0 : nonNegativeInt(b.minOrderAmount, 'minOrderAmount'),
    issueStartAt,
    issueEndAt,
    usableUntil,
    usableDays,
    admission: admissionOf(b.admission),
  };
}

/** `{perSecond}` (a number, or 'auto') for a coupon claimed through the waiting room; absent or null: a direct coupon. */
function admissionOf(v: unknown): NewCoupon['admission'] {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest('admission must be an object {perSecond}, or null');
  const a = objectBody(v, ['perSecond']);
  if (a.perSecond === 'auto') return { perSecond: 'auto' };
  if (typeof a.perSecond !== 'number' || !Number.isInteger(a.perSecond) || a.perSecond < 1 || a.perSecond > MAX_ADMISSION_PER_SECOND) {
    throw badRequest(`admission.perSecond must be an integer in [1, ${MAX_ADMISSION_PER_SECOND}], or "auto"`);
  }
  return { perSecond: a.perSecond };
}

/**
 * How long an issued coupon may be used: `usableUntil` (after the issue window ends, so the last
 * one issued can still be used) or `usableDays` after its issue, not both; neither: no end.
 */
function validityOf(b: Record<string, unknown>, issueEndAt: string): Pick<NewCoupon, 'usableUntil' | 'usableDays'> {
  const given = (v: unknown) => v !== undefined && v !== null;
  if (given(b.usableUntil) && given(b.usableDays)) throw badRequest('give usableUntil or usableDays, not both');
  if (given(b.usableUntil)) {
    const usableUntil = isoInstant(b.usableUntil, 'usableUntil');
    if (Date.parse(usableUntil) <= Date.parse(issueEndAt)) throw badRequest('usableUntil must be after issueEndAt');
    return { usableUntil, usableDays: null };
  }
  if (given(b.usableDays)) {
    const usableDays = nonNegativeInt(b.usableDays, 'usableDays');
    if (usableDays < 1 || usableDays > MAX_USABLE_DAYS) throw badRequest(`usableDays must be 1 to ${MAX_USABLE_DAYS}`);
    return { usableUntil: null, usableDays };
  }
  return { usableUntil: null, usableDays: null };
}

/** Write-around: a new policy goes to the database only; caches load it on first read. */
export async function createCoupon(db: Knex, ledger: ClaimLedger, body: unknown): Promise<Coupon> {
  const coupon = await insertCoupon(db, validateNewCoupon(body));
  // A new coupon has no claims on any Redis timeline, so its sets open at once on the current one.
  // If Redis cannot be reached now, its first claim asks for a rebuild instead (which finds no rows).
  await ledger.open(coupon.id).catch(() => {});
  return coupon;
}

export async function getCoupon(db: Knex, id: number): Promise<Coupon> {
  const coupon = await findCoupon(db, id);
  if (!coupon) throw new AppError('COUPON_NOT_FOUND', 404, `Coupon ${id} does not exist`);
  return coupon;
}

export async function pageCoupons(db: Knex, pageParam: unknown, sizeParam: unknown) {
  const { page, size } = pageOf(pageParam, sizeParam);
  const { items, total } = await listCoupons(db, page, size);
  return { items, page, size, total };
}
