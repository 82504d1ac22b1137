import type { Knex } from 'knex';

/**
 * Queued admission: a coupon with `admission_per_second` is claimed through issue-coupon's waiting
 * room, which admits that many users a second; null is a direct coupon, claimed by whoever comes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('coupons', (t) => {
    t.integer('admission_per_second').unsigned().nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('coupons', (t) => {
    t.dropColumn('admission_per_second');
  });
}
