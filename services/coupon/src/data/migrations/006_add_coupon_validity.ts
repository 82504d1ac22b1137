import type { Knex } from 'knex';

/**
 * How long an issued coupon may be used: until an instant, or for a number of days after it was
 * issued (at most one of them). Neither means usable as before, with no end.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('coupons', (t) => {
    t.datetime('usable_until', { precision: 3 }).nullable();
    t.integer('usable_days').unsigned().nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('coupons', (t) => {
    t.dropColumn('usable_until');
    t.dropColumn('usable_days');
  });
}
