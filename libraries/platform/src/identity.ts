import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from './errors';

export interface Caller {
  userId: number;
  role: 'USER' | 'ADMIN';
}

/**
 * An id as text — a token's `sub`, the `x-user-id` header, a path id. Ids are numbers in every
 * service, so a positive safe integer (a 19-digit BIGINT or 2^53 + 1 would come out as another id).
 */
export function isIdText(text: unknown): text is string {
  return typeof text === 'string' && /^[1-9][0-9]{0,15}$/.test(text) && Number.isSafeInteger(Number(text));
}

/**
 * The caller as the gateway asserted it from a verified token. Services are reached only through
 * the gateway, which drops any client-sent copy of these headers.
 */
export function callerOf(req: { headers: IncomingHttpHeaders }): Caller {
  const id = req.headers['x-user-id'];
  const role = req.headers['x-user-role'];
  if (!isIdText(id) || (role !== 'USER' && role !== 'ADMIN')) {
    throw new AppError('UNAUTHORIZED', 401, 'Authentication is required');
  }
  return { userId: Number(id), role };
}

export function requireAdmin(req: { headers: IncomingHttpHeaders }): Caller {
  const caller = callerOf(req);
  if (caller.role !== 'ADMIN') throw new AppError('FORBIDDEN', 403, 'Administrator role is required');
  return caller;
}

/** A positive integer path or query id, else a 400 (never a 500 and never a query with garbage). */
export function positiveId(value: unknown, name = 'id'): number {
  if (!isIdText(value)) {
    throw new AppError('VALIDATION_FAILED', 400, `${name} must be a positive integer`);
  }
  return Number(value);
}

/** Rejects bodies that are not objects or carry fields the endpoint does not know. */
export function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('VALIDATION_FAILED', 400, 'Request body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', 400, `Unknown fields: ${unknown.join(', ')}`);
  return body as Record<string, unknown>;
}
