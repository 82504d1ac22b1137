import type { Knex } from 'knex';

/**
 * Where the archive job moves campaigns soft-deleted long ago, with their codes and redemptions.
 * Ids are kept (no auto-increment), so a row can only ever be archived once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('campaigns_archive', (t) => {
    t.bigInteger('id').unsigned().primary();
    t.string('name', 100).notNullable();
    t.string('description', 1000).notNullable();
    t.boolean('active').notNullable();
    t.datetime('deleted_at', { precision: 3 }).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.datetime('archived_at', { precision: 3 }).notNullable();
  });
  await knex.schema.createTable('coupon_codes_archive', (t) => {
    t.bigInteger('id').unsigned().primary();
    t.bigInteger('campaign_id').unsigned().notNullable();
    t.specificType('code', 'CHAR(16) CHARACTER SET ascii COLLATE ascii_bin').notNullable();
    t.datetime('expires_at', { precision: 3 }).notNullable();
    t.bigInteger('redeemed_by').unsigned().nullable();
    t.datetime('redeemed_at', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('archived_at', { precision: 3 }).notNullable();
    t.index(['campaign_id']);
    t.index(['code']);
  });
  await knex.schema.createTable('code_redemptions_archive', (t) => {
    t.bigInteger('id').unsigned().primary();
    t.bigInteger('code_id').unsigned().notNullable();
    t.bigInteger('user_id').unsigned().notNullable();
    t.datetime('redeemed_at', { precision: 3 }).notNullable();
    t.datetime('archived_at', { precision: 3 }).notNullable();
    t.index(['code_id']);
    t.index(['user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('code_redemptions_archive');
  await knex.schema.dropTable('coupon_codes_archive');
  await knex.schema.dropTable('campaigns_archive');
}
