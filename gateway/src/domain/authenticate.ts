import type crypto from 'node:crypto';
import { verifyAccessToken } from '@coupon-rush/platform';

export interface Identity {
  userId: string;
  role: string;
}

/** The identity in a `Bearer` Authorization header, or undefined when it is missing or invalid. */
export function authenticate(header: string | undefined, key: crypto.KeyObject, issuer: string): Identity | undefined {
  if (!header || !header.startsWith('Bearer ')) return undefined;
  const claims = verifyAccessToken(key, header.slice(7).trim(), issuer);
  return claims && { userId: claims.sub, role: claims.role };
}
