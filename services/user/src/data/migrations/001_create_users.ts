import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.bigIncrements('id');
    // Stored lower-cased, so the unique index makes email uniqueness case-insensitive.
    t.string('email', 254).notNullable().unique();
    t.string('password_hash', 100).notNullable();
    t.string('role', 10).notNullable().defaultTo('USER');
    t.datetime('created_at', { precision: 3 }).notNullable().defaultTo(knex.raw('CURRENT_TIMESTAMP(3)'));
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
