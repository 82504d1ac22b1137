import type { Knex } from 'knex';
import { MysqlError, isMysqlError } from '@coupon-rush/platform';

export interface UserRecord {
  id: number;
  email: string;
  passwordHash: string;
  role: 'USER' | 'ADMIN';
}

const toUser = (row: Record<string, any>): UserRecord => ({ id: Number(row.id), email: row.email, passwordHash: row.password_hash, role: row.role });

/** Inserts a user; returns undefined when the email is already taken. */
export async function insertUser(db: Knex, email: string, passwordHash: string, role: 'USER' | 'ADMIN'): Promise<UserRecord | undefined> {
  try {
    const [id] = await db('users').insert({ email, password_hash: passwordHash, role });
    return { id: Number(id), email, passwordHash, role };
  } catch (err) {
    if (isMysqlError(err, MysqlError.DUPLICATE_KEY)) return undefined;
    throw err;
  }
}

export async function findUserByEmail(db: Knex, email: string): Promise<UserRecord | undefined> {
  const row = await db('users').where({ email }).first();
  return row ? toUser(row) : undefined;
}

export async function findUserById(db: Knex, id: number): Promise<UserRecord | undefined> {
  const row = await db('users').where({ id }).first();
  return row ? toUser(row) : undefined;
}
