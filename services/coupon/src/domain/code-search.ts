import type { Knex } from 'knex';
import { badRequest } from '@coupon-rush/platform';
import { liveCampaignIdsNamed } from '../data/campaign-repository';
import { searchCodes } from '../data/coupon-code-repository';
import { parseCode } from './coupon-code';
import { pageOf, queryText, text } from './fields';

const PARAMETERS = ['code', 'redeemed', 'campaign', 'page', 'size', 'sort'];
const ORDERS: Record<string, 'asc' | 'desc'> = { createdAt: 'asc', '-createdAt': 'desc' };

/**
 * GET /codes: codes of live campaigns filtered by exact code, redeemed flag and campaign name,
 * newest first unless sort=createdAt. An unknown parameter is refused rather than ignored, so a
 * misspelt filter cannot silently return every code.
 */
export async function listCodes(db: Knex, query: Record<string, unknown>) {
  const unknown = Object.keys(query).filter((k) => !PARAMETERS.includes(k));
  if (unknown.length > 0) throw badRequest(`Unknown parameters: ${unknown.join(', ')}`);
  const { page, size } = pageOf(query.page, query.size);
  const rawCode = queryText(query.code, 'code');
  const code = rawCode === undefined ? undefined : parseCode(rawCode);
  const rawRedeemed = queryText(query.redeemed, 'redeemed');
  if (rawRedeemed !== undefined && rawRedeemed !== 'true' && rawRedeemed !== 'false') throw badRequest('redeemed must be true or false');
  const redeemed = rawRedeemed === undefined ? undefined : rawRedeemed === 'true';
  const rawCampaign = queryText(query.campaign, 'campaign');
  const campaign = rawCampaign === undefined ? undefined : text(rawCampaign, 'campaign', 1, 100);
  const sort = queryText(query.sort, 'sort') ?? '-createdAt';
  if (!Object.hasOwn(ORDERS, sort)) throw badRequest(`sort must be one of ${Object.keys(ORDERS).join(', ')}`);
  const order = ORDERS[sort];

  const campaignIds = campaign === undefined ? undefined : await liveCampaignIdsNamed(db, campaign);
  const { items, total } = await searchCodes(db, { code, redeemed, campaignIds }, order, page, size);
  return { items, page, size, total };
}
