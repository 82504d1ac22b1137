import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('campaigns', (t) => {
    t.bigIncrements('id');
    t.string('name', 100).notNullable();
    t.string('description', 1000).notNullable().defaultTo('');
    // A campaign's codes have no state of their own for these two: suspending or deleting the
    // campaign is one row write that every code read and the redemption UPDATE join against.
    t.boolean('active').notNullable().defaultTo(true);
    t.datetime('deleted_at', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.index(['name'], 'campaigns_name_index');
    t.index(['deleted_at'], 'campaigns_deleted_at_index');
  });

  await knex.schema.createTable('coupon_codes', (t) => {
    t.bigIncrements('id');
    t.bigInteger('campaign_id').unsigned().notNullable();
    // One byte per character and a binary collation: the unique index stays small and exact.
    t.specificType('code', 'CHAR(16) CHARACTER SET ascii COLLATE ascii_bin').notNullable();
    t.datetime('expires_at', { precision: 3 }).notNullable();
    t.bigInteger('redeemed_by').unsigned().nullable();
    t.datetime('redeemed_at', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['code'], { indexName: 'coupon_codes_code_unique' });
    // (campaign_id) keeps a campaign's codes in id order for the unfiltered listing and backs the
    // foreign key; (campaign_id, redeemed) serves the listing filtered by the redeemed flag.
    t.foreign('campaign_id', 'coupon_codes_campaign_fk').references('id').inTable('campaigns');
    t.index(['campaign_id'], 'coupon_codes_campaign_index');
  });
  // Derived, so it can never disagree with redeemed_by, and stored, so it can be indexed.
  await knex.raw('ALTER TABLE coupon_codes ADD COLUMN redeemed BOOLEAN AS (redeemed_by IS NOT NULL) STORED AFTER redeemed_at');
  await knex.raw('CREATE INDEX coupon_codes_campaign_redeemed_index ON coupon_codes (campaign_id, redeemed)');
  await knex.raw('CREATE INDEX coupon_codes_redeemed_index ON coupon_codes (redeemed)');

  await knex.schema.createTable('code_redemptions', (t) => {
    t.bigIncrements('id');
    t.bigInteger('code_id').unsigned().notNullable();
    t.bigInteger('user_id').unsigned().notNullable();
    t.datetime('redeemed_at', { precision: 3 }).notNullable();
    // The second guard of "one redemption per code", independent of the conditional UPDATE.
    t.unique(['code_id'], { indexName: 'code_redemptions_code_unique' });
    t.foreign('code_id', 'code_redemptions_code_fk').references('id').inTable('coupon_codes');
    t.index(['user_id', 'redeemed_at'], 'code_redemptions_user_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('code_redemptions');
  await knex.schema.dropTable('coupon_codes');
  await knex.schema.dropTable('campaigns');
}
