import knex, { type Knex } from 'knex';
import type { ConfigReader } from './config-reader';

export interface MysqlSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  pool: number;
}

export function readMysqlSettings(r: ConfigReader): MysqlSettings {
  return {
    host: r.string('mysql.host'),
    port: r.number('mysql.port'),
    user: r.string('mysql.user'),
    password: r.string('mysql.password'),
    database: r.string('mysql.database'),
    pool: r.number('mysql.pool', { min: 1 }),
  };
}

/** MySQL/MariaDB server errors the services act on, by their numbers (stable across versions and drivers' code names). */
export const MysqlError = { DUPLICATE_KEY: 1062, DEADLOCK: 1213 } as const;

/** Whether a query failed with that server error. */
export function isMysqlError(err: unknown, errno: (typeof MysqlError)[keyof typeof MysqlError]): boolean {
  return typeof err === 'object' && err !== null && (err as { errno?: unknown }).errno === errno;
}

/** The environment variable that carries the database password (a secret, never in config-repo). */
export const MYSQL_ENVIRONMENT = { DB_PASSWORD: 'mysql.password' };

const connectionOf = (s: MysqlSettings) => ({ host: s.host, port: s.port, user: s.user, password: s.password, timezone: 'Z', dateStrings: false, supportBigNumbers: true, bigNumberStrings: false });

/** A pool on a database another service owns and migrates: no creation, no migrations. */
export function connectDatabase(s: MysqlSettings): Knex {
  return knex({ client: 'mysql2', connection: { ...connectionOf(s), database: s.database }, pool: { min: 0, max: s.pool } });
}

/**
 * Opens a pool on the configured database, creating the database first when missing (tests give
 * each run its own), then applies the service's numbered migrations.
 */
export async function openDatabase(s: MysqlSettings, migrations: { directory: string; ledger: string }): Promise<Knex> {
  if (!/^[A-Za-z0-9_]+$/.test(s.database)) throw new Error(`bad database name ${s.database}`);
  const connection = connectionOf(s);
  const admin = knex({ client: 'mysql2', connection, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE IF NOT EXISTS \`${s.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.destroy();
  }
  const db = connectDatabase(s);
  // Each service keeps its own migration ledger so services can share one database.
  await db.migrate.latest({ directory: migrations.directory, loadExtensions: ['.js'], tableName: migrations.ledger });
  return db;
}
