import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('coupons', (t) => {
    t.bigIncrements('id');
    t.string('title', 100).notNullable();
    t.string('type', 20).notNullable().defaultTo('FIXED_AMOUNT');
    // NULL means unlimited.
    t.integer('total_quantity').unsigned().nullable();
    t.integer('issued_quantity').unsigned().notNullable().defaultTo(0);
    t.integer('discount_amount').unsigned().notNullable();
    t.integer('min_order_amount').unsigned().notNullable().defaultTo(0);
    t.datetime('issue_start_at', { precision: 3 }).notNullable();
    t.datetime('issue_end_at', { precision: 3 }).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.datetime('updated_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
    t.index(['issue_start_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('coupons');
}
