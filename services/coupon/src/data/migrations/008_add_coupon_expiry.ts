import type { Knex } from 'knex';

/**
 * When the expiry job found an unused coupon past its end of use. Answers never read it (they
 * compute the state from the clock); it is for operators' counts and exports.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('issued_coupons', (t) => {
    t.datetime('expired_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('issued_coupons', (t) => {
    t.dropColumn('expired_at');
  });
}
