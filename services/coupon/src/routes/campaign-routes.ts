import { Router } from 'express';
import type { Knex } from 'knex';
import { callerOf, positiveId, requireAdmin } from '@coupon-rush/platform';
import type { CampaignArchiveSchedule } from '../domain/archive-campaigns';
import { changeCampaign, createCampaign, deleteCampaign, getCampaign, pageCampaigns } from '../domain/campaigns';
import { listCodes } from '../domain/code-search';
import { generateCodes } from '../domain/generate-codes';
import { myRedemptions } from '../domain/redeem-code';

export interface CampaignRouteDeps {
  db: Knex;
  archive: CampaignArchiveSchedule;
  codeBatchSize: () => number;
}

/** Campaign administration and a user's redemptions; the redemption itself is a hot route (redemption-routes). */
export function campaignRoutes({ db, archive, codeBatchSize }: CampaignRouteDeps): Router {
  const router = Router();
  router.post('/campaigns', async (req, res) => {
    requireAdmin(req);
    res.status(201).json(await createCampaign(db, req.body));
  });
  router.get('/campaigns', async (req, res) => {
    requireAdmin(req);
    res.json(await pageCampaigns(db, req.query.page, req.query.size));
  });
  router.post('/campaigns/archive-runs', async (req, res) => {
    requireAdmin(req);
    res.json(await archive.run('request'));
  });
  router.get('/campaigns/:id', async (req, res) => {
    requireAdmin(req);
    res.json(await getCampaign(db, positiveId(req.params.id)));
  });
  router.patch('/campaigns/:id', async (req, res) => {
    requireAdmin(req);
    res.json(await changeCampaign(db, positiveId(req.params.id), req.body));
  });
  router.delete('/campaigns/:id', async (req, res) => {
    requireAdmin(req);
    await deleteCampaign(db, positiveId(req.params.id));
    res.status(204).end();
  });
  router.post('/campaigns/:id/codes', async (req, res) => {
    requireAdmin(req);
    res.status(201).json(await generateCodes(db, positiveId(req.params.id), req.body, codeBatchSize()));
  });
  router.get('/codes', async (req, res) => {
    requireAdmin(req);
    res.json(await listCodes(db, req.query as Record<string, unknown>));
  });
  // The caller's redeemed codes; the gateway routes /api/users/me/codes here.
  router.get('/users/me/codes', async (req, res) => {
    res.json(await myRedemptions(db, callerOf(req).userId));
  });
  return router;
}
