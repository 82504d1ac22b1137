import type { Knex } from 'knex';

/**
 * Automatic admission: the waiting room chooses the rate itself, keeping the issue route's p99
 * under a target (issue.queue.auto); `admission_per_second` stays null for such a coupon.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('coupons', (t) => {
    t.boolean('admission_auto').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('coupons', (t) => {
    t.dropColumn('admission_auto');
  });
}
