import type { Knex } from 'knex';

export interface ArchivedCounts {
  campaigns: number;
  codes: number;
  redemptions: number;
}

const inList = (ids: number[]) => ids.map(() => '?').join(',');

async function moved(trx: Knex.Transaction, sql: string, bindings: Knex.RawBinding[]): Promise<number> {
  const [result] = await trx.raw(sql, bindings);
  return Number(result.affectedRows);
}

/**
 * One batch, one transaction: locks up to `campaignsPerBatch` campaigns soft-deleted before the
 * cutoff (skipping rows another instance holds), moves up to `codesPerBatch` of their codes with
 * the codes' redemptions, then moves the campaigns left without codes. Copy and delete commit
 * together, so a row is either live or archived, never both and never lost; a crash just means
 * the next run does the batch again.
 */
export async function archiveBatch(db: Knex, cutoff: Date, limits: { campaignsPerBatch: number; codesPerBatch: number }, at: Date): Promise<ArchivedCounts> {
  return db.transaction(async (trx) => {
    const campaignRows = await trx('campaigns').select('id').where('deleted_at', '<', cutoff).orderBy('deleted_at').limit(limits.campaignsPerBatch).forUpdate().skipLocked();
    const campaignIds = campaignRows.map((r) => Number(r.id));
    if (campaignIds.length === 0) return { campaigns: 0, codes: 0, redemptions: 0 };

    const codeRows = await trx('coupon_codes').select('id').whereIn('campaign_id', campaignIds).orderBy('id').limit(limits.codesPerBatch).forUpdate();
    const codeIds = codeRows.map((r) => Number(r.id));
    let codes = 0;
    let redemptions = 0;
    if (codeIds.length > 0) {
      redemptions = await moved(
        trx,
        `INSERT INTO code_redemptions_archive (id, code_id, user_id, redeemed_at, archived_at)
         SELECT id, code_id, user_id, redeemed_at, ? FROM code_redemptions WHERE code_id IN (${inList(codeIds)})`,
        [at, ...codeIds],
      );
      await trx('code_redemptions').whereIn('code_id', codeIds).delete();
      codes = await moved(
        trx,
        `INSERT INTO coupon_codes_archive (id, campaign_id, code, expires_at, redeemed_by, redeemed_at, created_at, archived_at)
         SELECT id, campaign_id, code, expires_at, redeemed_by, redeemed_at, created_at, ? FROM coupon_codes WHERE id IN (${inList(codeIds)})`,
        [at, ...codeIds],
      );
      await trx('coupon_codes').whereIn('id', codeIds).delete();
    }

    const emptied = (
      await trx('campaigns as k')
        .select('k.id')
        .whereIn('k.id', campaignIds)
        .whereNotExists(trx('coupon_codes as c').select(trx.raw('1')).whereRaw('c.campaign_id = k.id'))
    ).map((r) => Number(r.id));
    let campaigns = 0;
    if (emptied.length > 0) {
      campaigns = await moved(
        trx,
        `INSERT INTO campaigns_archive (id, name, description, active, deleted_at, created_at, updated_at, archived_at)
         SELECT id, name, description, active, deleted_at, created_at, updated_at, ? FROM campaigns WHERE id IN (${inList(emptied)})`,
        [at, ...emptied],
      );
      await trx('campaigns').whereIn('id', emptied).delete();
    }
    return { campaigns, codes, redemptions };
  });
}
