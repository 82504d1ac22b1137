import type { Knex } from 'knex';
import { isoTime } from './columns';

/** A code as the admin listing shows it; active and deleted come from its campaign. */
export interface CodeView {
  code: string;
  campaignId: number;
  campaign: string;
  expiresAt: string;
  active: boolean;
  redeemed: boolean;
  redeemedBy: number | null;
  redeemedAt: string | null;
}

export interface CodeFilter {
  code?: string;
  redeemed?: boolean;
  /** Codes of these campaigns only (an empty list matches nothing). */
  campaignIds?: number[];
}

/** Why a code cannot be redeemed, read after the conditional UPDATE matched nothing. */
export interface CodeState {
  campaignDeleted: boolean;
  campaignActive: boolean;
  redeemed: boolean;
  expiresAt: Date;
}

export interface Redemption {
  code: string;
  campaignId: number;
  campaign: string;
  redeemedAt: string;
}

/**
 * Adds the codes that are new and skips any that collide with an existing code (the unique index
 * decides, INSERT IGNORE turns the collision into a skipped row). Returns how many were added.
 */
export async function insertCodes(trx: Knex.Transaction, campaignId: number, codes: string[], expiresAt: Date): Promise<number> {
  if (codes.length === 0) return 0;
  const values: Knex.RawBinding[] = [];
  for (const code of codes) values.push(campaignId, code, expiresAt);
  const [result] = await trx.raw(`INSERT IGNORE INTO coupon_codes (campaign_id, code, expires_at) VALUES ${codes.map(() => '(?,?,?)').join(',')}`, values);
  return Number(result.affectedRows);
}

/**
 * The redemption itself, in one round trip: the `redeem_code` procedure (migration 005) runs the
 * conditional UPDATE that only a redeemable code matches and inserts the redemption row in one
 * transaction. True when this call redeemed the code; a duplicate key or a deadlock is thrown.
 */
export async function redeem(db: Knex, code: string, userId: number, at: Date): Promise<boolean> {
  const [resultSets] = await db.raw('CALL redeem_code(?, ?, ?)', [code, userId, at]);
  return Number(resultSets[0][0].redeemed) === 1;
}

export async function codeState(db: Knex, code: string): Promise<CodeState | undefined> {
  const row = await db('coupon_codes as c').join('campaigns as k', 'k.id', 'c.campaign_id').select('c.redeemed', 'c.expires_at', 'k.active', 'k.deleted_at').where('c.code', code).first();
  return row && { campaignDeleted: row.deleted_at !== null, campaignActive: Boolean(row.active), redeemed: Boolean(row.redeemed), expiresAt: new Date(row.expires_at) };
}

/**
 * The index that yields a filter's codes already in id order, named rather than left to the
 * optimizer: on its own, MariaDB 10.11 intersected two indexes and sorted for "campaign and
 * redeemed", and sorted every live code in a temporary table for the unfiltered page (the plans
 * are EXPLAINed in test/campaigns.test.ts). Codes of several campaigns sharing a name still sort.
 */
function orderedIndex(filter: CodeFilter): string {
  if (filter.code !== undefined) return 'coupon_codes_code_unique';
  if (filter.campaignIds !== undefined) return filter.redeemed === undefined ? 'coupon_codes_campaign_index' : 'coupon_codes_campaign_redeemed_index';
  if (filter.redeemed !== undefined) return 'coupon_codes_redeemed_index';
  return 'PRIMARY';
}

/**
 * For the page's total across campaigns: an index holding campaign_id, so counting reads no row,
 * except for redeemed codes, which are few next to the unredeemed ones, so their own index wins.
 */
function countingIndex(filter: CodeFilter): string {
  if (filter.code !== undefined || filter.campaignIds !== undefined || filter.redeemed === true) return orderedIndex(filter);
  return filter.redeemed === false ? 'coupon_codes_campaign_redeemed_index' : 'coupon_codes_campaign_index';
}

/**
 * A code's campaign, joined by primary key. The index is named because with a handful of campaigns
 * MariaDB may otherwise scan them into a join buffer, which loses the codes' index order and sorts
 * the whole match (seen once in CI: "not redeemed" went to a filesort over 50,000 codes).
 */
const JOIN_CAMPAIGN = 'STRAIGHT_JOIN campaigns AS k FORCE INDEX (PRIMARY) ON k.id = c.campaign_id';

/**
 * The two statements of one listing page, kept apart so tests can EXPLAIN exactly what runs. Codes
 * of deleted campaigns never show; campaign names are resolved to ids beforehand. The codes are
 * read first (STRAIGHT_JOIN), each joined to its campaign by primary key.
 */
export function codeSearchQueries(db: Knex, filter: CodeFilter, order: 'asc' | 'desc', page: number, size: number) {
  const matching = (index: string) => {
    const q = db
      .from(db.raw('coupon_codes AS c FORCE INDEX (??)', [index]))
      .joinRaw(JOIN_CAMPAIGN)
      .whereNull('k.deleted_at');
    if (filter.code !== undefined) q.where('c.code', filter.code);
    if (filter.redeemed !== undefined) q.where('c.redeemed', filter.redeemed);
    if (filter.campaignIds !== undefined) q.whereIn('c.campaign_id', filter.campaignIds);
    return q;
  };
  return {
    items: matching(orderedIndex(filter))
      .select('c.code', 'c.campaign_id', 'k.name', 'c.expires_at', 'k.active', 'c.redeemed', 'c.redeemed_by', 'c.redeemed_at')
      .orderBy('c.id', order)
      .limit(size)
      .offset(page * size),
    total: matching(countingIndex(filter)).count({ total: '*' }),
  };
}

export async function searchCodes(db: Knex, filter: CodeFilter, order: 'asc' | 'desc', page: number, size: number): Promise<{ items: CodeView[]; total: number }> {
  if (filter.campaignIds?.length === 0) return { items: [], total: 0 };
  const q = codeSearchQueries(db, filter, order, page, size);
  const [rows, [{ total }]] = await Promise.all([q.items, q.total]);
  return {
    items: rows.map((r: Record<string, any>) => ({
      code: r.code,
      campaignId: Number(r.campaign_id),
      campaign: r.name,
      expiresAt: isoTime(r.expires_at),
      active: Boolean(r.active),
      redeemed: Boolean(r.redeemed),
      redeemedBy: r.redeemed_by === null ? null : Number(r.redeemed_by),
      redeemedAt: r.redeemed_at === null ? null : isoTime(r.redeemed_at),
    })),
    total: Number(total),
  };
}

/**
 * A user's redemptions newest first, read from the (user_id, redeemed_at) index in order; named
 * and joined in that order because MariaDB preferred to start from a small campaigns table and
 * sort every redemption of the user.
 */
export function redemptionsQuery(db: Knex, userId: number) {
  return db
    .from(db.raw('code_redemptions AS r FORCE INDEX (code_redemptions_user_index)'))
    .joinRaw('STRAIGHT_JOIN coupon_codes AS c ON c.id = r.code_id')
    .joinRaw(JOIN_CAMPAIGN)
    .select('c.code', 'c.campaign_id', 'k.name', 'r.redeemed_at')
    .where('r.user_id', userId)
    .orderBy('r.redeemed_at', 'desc')
    .limit(1000);
}

export async function redemptionsOf(db: Knex, userId: number): Promise<Redemption[]> {
  const rows = await redemptionsQuery(db, userId);
  return rows.map((r) => ({ code: r.code, campaignId: Number(r.campaign_id), campaign: r.name, redeemedAt: isoTime(r.redeemed_at) }));
}
