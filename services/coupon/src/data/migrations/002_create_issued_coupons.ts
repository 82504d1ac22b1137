import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('issued_coupons', (t) => {
    t.bigIncrements('id');
    t.bigInteger('coupon_id').unsigned().notNullable().references('id').inTable('coupons');
    t.bigInteger('user_id').unsigned().notNullable();
    t.string('event_id', 64).notNullable();
    t.datetime('issued_at', { precision: 3 }).notNullable();
    t.datetime('used_at', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    // At most one coupon of a kind per user, whatever the event log delivers.
    t.unique(['coupon_id', 'user_id']);
    t.index(['user_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('issued_coupons');
}
