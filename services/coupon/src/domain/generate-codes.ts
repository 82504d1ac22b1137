import type { Knex } from 'knex';
import { badRequest, objectBody } from '@coupon-rush/platform';
import { findLiveCampaign } from '../data/campaign-repository';
import { insertCodes } from '../data/coupon-code-repository';
import { campaignNotFound } from './refusals';
import { randomCodes } from './coupon-code';
import { integerIn, isoInstant } from './fields';

export const MAX_CODES_PER_REQUEST = 100_000;

/**
 * Generates `count` new codes for a live campaign, in one transaction of batched INSERTs: the
 * answer is all of them or none. A code that collides with any existing one is skipped by the
 * unique index and replaced by a fresh draw, so exactly `count` are added.
 */
export async function generateCodes(db: Knex, campaignId: number, body: unknown, batchSize: number): Promise<{ generated: number }> {
  const b = objectBody(body, ['count', 'expiresAt']);
  const count = integerIn(b.count, 'count', 1, MAX_CODES_PER_REQUEST);
  const expiresAt = new Date(isoInstant(b.expiresAt, 'expiresAt'));
  if (expiresAt.getTime() <= Date.now()) throw badRequest('expiresAt must be in the future');

  return db.transaction(async (trx) => {
    if (!(await findLiveCampaign(trx, campaignId, 'share'))) throw campaignNotFound(campaignId);
    let generated = 0;
    while (generated < count) {
      const wanted = Math.min(batchSize, count - generated);
      const added = await insertCodes(trx, campaignId, randomCodes(wanted), expiresAt);
      // A whole batch of collisions is not bad luck (p ≈ 0): stop rather than loop forever.
      if (added === 0) throw new Error(`no code of a batch of ${wanted} could be inserted`);
      generated += added;
    }
    return { generated };
  });
}
