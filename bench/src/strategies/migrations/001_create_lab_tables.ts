import type { Knex } from 'knex';

/**
 * The lab's coupon and its issued rows, shaped like coupon-service's (coupons.issued_quantity is
 * the counter the seeds' strategies read and write). The (coupon, user) index is not unique here:
 * a strategy that leans on a unique key gets it on top (lab-store's requireUniquePair), the others
 * must keep one row per user on their own, and the count shows whether they did.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('coupons', (t) => {
    t.bigIncrements('id');
    t.integer('total_quantity').unsigned().notNullable();
    t.integer('issued_quantity').unsigned().notNullable().defaultTo(0);
    t.datetime('issue_start_at', { precision: 3 }).notNullable();
    t.datetime('issue_end_at', { precision: 3 }).notNullable();
  });
  await knex.schema.createTable('issued_coupons', (t) => {
    t.bigIncrements('id');
    t.bigInteger('coupon_id').unsigned().notNullable();
    t.bigInteger('user_id').unsigned().notNullable();
    t.datetime('issued_at', { precision: 3 }).notNullable();
    t.index(['coupon_id', 'user_id'], 'issued_coupons_pair_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('issued_coupons');
  await knex.schema.dropTable('coupons');
}
