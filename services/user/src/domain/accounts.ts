import type crypto from 'node:crypto';
// Native bcrypt on libuv's thread pool: bcryptjs hashed on the event loop, and 32 sign-ups at once
// stalled it for 2.1 s (measured here), long enough for the health check to time out.
import { hash, verify } from '@node-rs/bcrypt';
import type { Knex } from 'knex';
import { AppError, badRequest, objectBody, signAccessToken } from '@coupon-rush/platform';
import type { LockoutPolicy, LoginFailures } from '../data/login-failures';
import { findUserByEmail, findUserById, insertUser } from '../data/user-repository';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,}$/;

function credentials(body: unknown): { email: string; password: string } {
  const b = objectBody(body, ['email', 'password']);
  if (typeof b.email !== 'string' || b.email.length > 254 || !EMAIL.test(b.email)) throw badRequest('email must be a valid address');
  if (typeof b.password !== 'string' || b.password.length < 8 || b.password.length > 72) throw badRequest('password must be 8 to 72 characters');
  return { email: b.email.trim().toLowerCase(), password: b.password };
}

/**
 * Answers 409 EMAIL_TAKEN for a registered email, as a registration form must for its user to
 * understand; what keeps this from being an enumeration oracle is the gateway's limit of sign-ups
 * per client address (config-repo/gateway.yml, signups-per-client).
 */
export async function signUp(db: Knex, body: unknown, rounds: number) {
  const { email, password } = credentials(body);
  const user = await insertUser(db, email, await hash(password, { cost: rounds }), 'USER');
  if (!user) throw new AppError('EMAIL_TAKEN', 409, 'This email is already registered');
  return { id: user.id, email: user.email };
}

export interface TokenSettings {
  key: crypto.KeyObject;
  issuer: string;
  ttlSeconds: number;
}

/** How a login is checked: the account's failures, and the hash an unknown email is checked against. */
export interface LoginGuard {
  failures: LoginFailures;
  policy: LockoutPolicy;
  /** A bcrypt hash of a random password at the configured cost, made at start. */
  dummyHash: string;
}

/** Redis could not say whether the account is locked, or count this failure: no login is decided unguarded. */
const guardDown = () => new AppError('LOGIN_UNAVAILABLE', 503, 'Login is unavailable, try again shortly', undefined, { retryAfterSeconds: 1 });

function locked(ms: number): AppError {
  return new AppError('RATE_LIMITED', 429, 'Too many failed logins: try again later', undefined, { retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) });
}

/**
 * Unknown email and wrong password answer alike and cost alike (an unknown email is checked
 * against a dummy hash of the same cost), so login cannot probe for accounts. A locked account is
 * refused before any hash is computed, known or not. Fails closed: while Redis cannot count
 * failures no login is decided (503); tokens already issued keep working.
 */
export async function logIn(db: Knex, body: unknown, tokens: TokenSettings, guard: LoginGuard) {
  const b = objectBody(body, ['email', 'password']);
  const bad = new AppError('BAD_CREDENTIALS', 401, 'Email or password is incorrect');
  if (typeof b.email !== 'string' || typeof b.password !== 'string') throw bad;
  const email = b.email.trim().toLowerCase();
  const lockedMs = await guard.failures.lockedForMs(email).catch(() => Promise.reject(guardDown()));
  if (lockedMs > 0) throw locked(lockedMs);
  const user = await findUserByEmail(db, email);
  const verified = await verify(b.password, user?.passwordHash ?? guard.dummyHash);
  if (!user || !verified) {
    // The failure that locks the account is answered like the ones before it; the next try learns of the lock.
    await guard.failures.failed(email, guard.policy).catch(() => Promise.reject(guardDown()));
    throw bad;
  }
  // Not forgotten (Redis just went away): the old failures still expire with their window.
  await guard.failures.succeeded(email).catch(() => {});
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
  await insertUser(db, email.toLowerCase(), await hash(password, { cost: rounds }), 'ADMIN');
}
