import type { IncomingHttpHeaders } from 'node:http';
import { AppError, badRequest } from './errors';
import type { InternalIdentity, InternalTokenVerifier } from './tokens';

export interface Caller {
  userId: number;
  role: 'USER' | 'ADMIN';
}

/**
 * An id as text — a token's `sub`, a path id. Ids are numbers in every
 * service, so a positive safe integer (a 19-digit BIGINT or 2^53 + 1 would come out as another id).
 */
export function isIdText(text: unknown): text is string {
  return typeof text === 'string' && /^[1-9][0-9]{0,15}$/.test(text) && Number.isSafeInteger(Number(text));
}

/** Where a service's runtime leaves, on each request, how to learn who it speaks for. */
const VERIFIER = Symbol('internal token verifier');
const IDENTITY = Symbol('verified identity');

interface IdentifiedRequest {
  headers: IncomingHttpHeaders;
  [VERIFIER]?: InternalTokenVerifier;
  [IDENTITY]?: InternalIdentity | null;
}

/**
 * Called by the service runtime for every request (and by any server of its own, like the bench's
 * lab): the request's identity is the internal token in its `Authorization: Bearer`, verified by
 * this service's verifier when a route first asks (public routes and health checks never pay).
 */
export function bindIdentity(req: object, verify: InternalTokenVerifier): void {
  (req as IdentifiedRequest)[VERIFIER] = verify;
}

/**
 * Who the request speaks for, from its verified internal token; undefined without one or with one
 * that fails (another key, another audience, expired, a user's own JWT). Headers such as
 * `X-User-Id` prove nothing and are not read.
 */
export function identityOf(req: { headers: IncomingHttpHeaders }): InternalIdentity | undefined {
  const r = req as IdentifiedRequest;
  if (r[IDENTITY] === undefined) {
    const header = r.headers.authorization;
    const verify = r[VERIFIER];
    r[IDENTITY] = (verify && typeof header === 'string' && header.startsWith('Bearer ') && verify(header.slice(7))) || null;
  }
  return r[IDENTITY] ?? undefined;
}

const unauthorized = () => new AppError('UNAUTHORIZED', 401, 'Authentication is required');

/** The user the request acts for (the gateway verified the user's token and minted the internal one). */
export function callerOf(req: { headers: IncomingHttpHeaders }): Caller {
  const identity = identityOf(req);
  if (identity?.kind !== 'user') throw unauthorized();
  return { userId: identity.userId, role: identity.role };
}

export function requireAdmin(req: { headers: IncomingHttpHeaders }): Caller {
  const caller = callerOf(req);
  if (caller.role !== 'ADMIN') throw new AppError('FORBIDDEN', 403, 'Administrator role is required');
  return caller;
}

/** For a service's internal endpoints: the calling service, one of `allowed`; a user or another service is refused. */
export function requireService(req: { headers: IncomingHttpHeaders }, allowed: readonly string[]): string {
  const identity = identityOf(req);
  if (!identity) throw unauthorized();
  if (identity.kind !== 'service' || !allowed.includes(identity.service)) throw new AppError('FORBIDDEN', 403, 'This endpoint is for other services of the platform');
  return identity.service;
}

/** A positive integer path or query id, else a 400 (never a 500 and never a query with garbage). */
export function positiveId(value: unknown, name = 'id'): number {
  if (!isIdText(value)) {
    throw badRequest(`${name} must be a positive integer`);
  }
  return Number(value);
}

/** Rejects bodies that are not objects or carry fields the endpoint does not know. */
export function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Request body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw badRequest(`Unknown fields: ${unknown.join(', ')}`);
  return body as Record<string, unknown>;
}
