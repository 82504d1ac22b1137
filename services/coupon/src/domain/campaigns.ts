import type { Knex } from 'knex';
import { badRequest, objectBody } from '@coupon-rush/platform';
import { countCodes, findLiveCampaign, insertCampaign, listLiveCampaigns, setCampaignActive, softDeleteCampaign, type Campaign, type CodeCounts } from '../data/campaign-repository';
import { pageOf, text } from './fields';
import { campaignNotFound } from './refusals';

export async function createCampaign(db: Knex, body: unknown): Promise<Campaign> {
  const b = objectBody(body, ['name', 'description']);
  const name = text(b.name, 'name', 1, 100);
  const description = b.description === undefined ? '' : text(b.description, 'description', 0, 1000, { multiline: true });
  return insertCampaign(db, { name, description });
}

export async function getCampaign(db: Knex, id: number): Promise<Campaign & { codes: CodeCounts }> {
  const campaign = await findLiveCampaign(db, id);
  if (!campaign) throw campaignNotFound(id);
  return { ...campaign, codes: await countCodes(db, id) };
}

export async function pageCampaigns(db: Knex, pageParam: unknown, sizeParam: unknown) {
  const { page, size } = pageOf(pageParam, sizeParam);
  const { items, total } = await listLiveCampaigns(db, page, size);
  return { items, page, size, total };
}

/** PATCH {active}: suspends (false) or resumes (true) every code of the campaign in one write. */
export async function changeCampaign(db: Knex, id: number, body: unknown) {
  const b = objectBody(body, ['active']);
  if (typeof b.active !== 'boolean') throw badRequest('active must be true or false');
  if (!(await setCampaignActive(db, id, b.active, new Date()))) throw campaignNotFound(id);
  return getCampaign(db, id);
}

/** Soft delete: the campaign's codes go with it (unknown to redemption and listing from now on). */
export async function deleteCampaign(db: Knex, id: number): Promise<void> {
  if (!(await softDeleteCampaign(db, id, new Date()))) throw campaignNotFound(id);
}
