import type { Knex } from 'knex';
import { isoTime, newestFirst } from './columns';

export interface Campaign {
  id: number;
  name: string;
  description: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface CodeCounts {
  total: number;
  redeemed: number;
}

export type NewCampaign = Pick<Campaign, 'name' | 'description'>;

function toCampaign(row: Record<string, any>): Campaign {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    active: Boolean(row.active),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

export async function insertCampaign(db: Knex, c: NewCampaign): Promise<Campaign> {
  const [id] = await db('campaigns').insert({ name: c.name, description: c.description });
  return (await findLiveCampaign(db, Number(id)))!;
}

/**
 * A campaign that is not soft-deleted. `lock: 'share'` holds it against deletion and suspension
 * until the transaction ends (generation uses it; the codes' foreign key would take the same lock).
 */
export async function findLiveCampaign(db: Knex | Knex.Transaction, id: number, lock?: 'share'): Promise<Campaign | undefined> {
  const query = db('campaigns').where({ id }).whereNull('deleted_at').first();
  const row = await (lock === 'share' ? query.forShare() : query);
  return row ? toCampaign(row) : undefined;
}

/** Live campaigns, newest first. */
export function listLiveCampaigns(db: Knex, page: number, size: number): Promise<{ items: Campaign[]; total: number }> {
  return newestFirst(() => db('campaigns').whereNull('deleted_at'), page, size, toCampaign);
}

export async function countCodes(db: Knex, campaignId: number): Promise<CodeCounts> {
  const [row] = await db('coupon_codes').where({ campaign_id: campaignId }).select(db.raw('COUNT(*) AS total'), db.raw('COALESCE(SUM(redeemed), 0) AS redeemed'));
  return { total: Number(row.total), redeemed: Number(row.redeemed) };
}

/** Suspends or resumes every code of the campaign at once: codes take their state from this row. */
export async function setCampaignActive(db: Knex, id: number, active: boolean, at: Date): Promise<boolean> {
  const changed = await db('campaigns').where({ id }).whereNull('deleted_at').update({ active, updated_at: at });
  return changed === 1;
}

/** The soft delete: the campaign and, through it, all of its codes disappear from every read. */
export async function softDeleteCampaign(db: Knex, id: number, at: Date): Promise<boolean> {
  const changed = await db('campaigns').where({ id }).whereNull('deleted_at').update({ deleted_at: at, updated_at: at });
  return changed === 1;
}

export async function liveCampaignIdsNamed(db: Knex, name: string): Promise<number[]> {
  const rows = await db('campaigns').select('id').where({ name }).whereNull('deleted_at');
  return rows.map((r) => Number(r.id));
}
