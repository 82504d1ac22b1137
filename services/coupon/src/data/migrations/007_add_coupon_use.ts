import type { Knex } from 'knex';

/**
 * The order an issued coupon was used for, and what it gave: a shop's retry of the same order
 * answers the same discount, and a cancel names the order it undoes. Set together with used_at.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('issued_coupons', (t) => {
    t.string('used_order_id', 64).nullable();
    t.integer('used_order_amount').unsigned().nullable();
    t.integer('used_discount').unsigned().nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('issued_coupons', (t) => {
    t.dropColumn('used_order_id');
    t.dropColumn('used_order_amount');
    t.dropColumn('used_discount');
  });
}
