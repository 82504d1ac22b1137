import type { TokenVerifier } from '@coupon-rush/platform';

export interface Identity {
  userId: string;
  role: string;
}

/** The identity in a `Bearer` Authorization header, or undefined when it is missing or invalid. */
export function authenticate(header: string | undefined, verify: TokenVerifier): Identity | undefined {
  if (!header || !header.startsWith('Bearer ')) return undefined;
  const claims = verify(header.slice(7).trim());
  return claims && { userId: claims.sub, role: claims.role };
}
