import type { Knex } from 'knex';

export interface ArchivedCounts {
  campaigns: number;
  codes: number;
  redemptions: number;
}

/**
 * Copies the rows of `table` whose `key` is in `ids` to `<table>_archive` (same columns, plus
 * archived_at) and deletes them, in the caller's transaction; the count moved.
 */
async function moveToArchive(trx: Knex.Transaction, table: string, columns: string[], key: string, ids: number[], at: Date): Promise<number> {
  const list = columns.join(', ');
  const [result] = await trx.raw(`INSERT INTO ${table}_archive (${list}, archived_at) SELECT ${list}, ? FROM ${table} WHERE ${key} IN (${ids.map(() => '?').join(',')})`, [at, ...ids]);
  await trx(table).whereIn(key, ids).delete();
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
      redemptions = await moveToArchive(trx, 'code_redemptions', ['id', 'code_id', 'user_id', 'redeemed_at'], 'code_id', codeIds, at);
      codes = await moveToArchive(trx, 'coupon_codes', ['id', 'campaign_id', 'code', 'expires_at', 'redeemed_by', 'redeemed_at', 'created_at'], 'id', codeIds, at);
    }

    const emptied = (
      await trx('campaigns as k')
        .select('k.id')
        .whereIn('k.id', campaignIds)
        .whereNotExists(trx('coupon_codes as c').select(trx.raw('1')).whereRaw('c.campaign_id = k.id'))
    ).map((r) => Number(r.id));
    let campaigns = 0;
    if (emptied.length > 0) campaigns = await moveToArchive(trx, 'campaigns', ['id', 'name', 'description', 'active', 'deleted_at', 'created_at', 'updated_at'], 'id', emptied, at);
    return { campaigns, codes, redemptions };
  });
}
