import crypto from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { isIdText } from './identity';

export type Role = 'USER' | 'ADMIN';

export interface AccessClaims {
  sub: string;
  role: Role;
  iat: number;
  exp: number;
}

/**
 * HS256 key made once per process: a JWT library given a raw string secret may rebuild a key on
 * every call (jsonwebtoken did: ~350 µs a verify on Node 20 here); a KeyObject costs ~7 µs.
 */
export function createTokenKey(secret: string): crypto.KeyObject {
  if (secret.length < 32) throw new Error('JWT secret must be at least 32 characters');
  return crypto.createSecretKey(Buffer.from(secret, 'utf8'));
}

type AccessTokenSigner = (payload: { role: Role; sub: string }) => string;

// A fast-jwt signer is built for one key, issuer and lifetime; a load run signs tens of thousands
// of tokens with the same three, so each signer is built once per key.
const signers = new WeakMap<crypto.KeyObject, Map<string, AccessTokenSigner>>();

export function signAccessToken(key: crypto.KeyObject, subject: string | number, role: Role, ttlSeconds: number, issuer: string): string {
  let byOptions = signers.get(key);
  if (!byOptions) signers.set(key, (byOptions = new Map()));
  const options = `${issuer}\n${ttlSeconds}`;
  let sign = byOptions.get(options);
  if (!sign) {
    sign = createSigner({ key: key.export(), algorithm: 'HS256', iss: issuer, expiresIn: ttlSeconds * 1000 });
    byOptions.set(options, sign);
  }
  return sign({ role, sub: String(subject) });
}

/** Verifies one issuer's access tokens: the claims of a valid token, or undefined. */
export type TokenVerifier = (token: string) => AccessClaims | undefined;

/**
 * HS256 only, this issuer only, `exp` required, `nbf` honoured, a `crit` header refused unless
 * understood (RFC 7515: none is), then the platform's own claim shapes. No cache by default: a
 * crowd larger than fast-jwt's LRU makes every verify a miss plus an eviction (20,000 users round-
 * robin, warm: 19-20 us a verify with 10,000 entries, 7-9 us with none, 4 us with 50,000 that
 * hold them all), and a flash crowd is exactly the load that outgrows any fixed size.
 */
export function createTokenVerifier(key: crypto.KeyObject, issuer: string, { cacheSize = 0, clockTimestamp }: { cacheSize?: number; clockTimestamp?: number } = {}): TokenVerifier {
  const verify = createVerifier({
    key: key.export(),
    algorithms: ['HS256'],
    allowedIss: issuer,
    requiredClaims: ['exp', 'sub', 'iss'],
    complete: true,
    cache: cacheSize,
    ...(clockTimestamp === undefined ? {} : { clockTimestamp }),
  });
  return (token) => {
    let decoded: { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string };
    try {
      decoded = verify(token);
    } catch {
      return undefined;
    }
    const { header, payload: claims, signature } = decoded;
    if (header.typ !== undefined && header.typ !== 'JWT') return undefined;
    // fast-jwt compares the decoded bytes; the text must be the one canonical base64url form too.
    if (!CANONICAL_SHA256_SIGNATURE.test(signature)) return undefined;
    if (typeof claims.exp !== 'number') return undefined;
    if (!isIdText(claims.sub)) return undefined;
    if (claims.role !== 'USER' && claims.role !== 'ADMIN') return undefined;
    return { sub: claims.sub, role: claims.role, iat: typeof claims.iat === 'number' ? claims.iat : 0, exp: claims.exp };
  };
}

// 32 bytes are 43 base64url characters; the last carries 4 bits and two zero bits.
const CANONICAL_SHA256_SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * A bounded memo of two generations: when the young Map is full it becomes the old one and the old
 * one is dropped; a hit in the old one moves back to the young. O(1) whatever the traffic: a Map
 * trimmed from the front (delete its first key) slows down as deleted entries pile up ahead of its
 * iterator, which is what a crowd of distinct users makes of it (measured: 47-60 us a verify).
 */
class TwoGenerations<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly perGeneration: number) {}

  get(key: string): V | undefined {
    const young = this.young.get(key);
    if (young !== undefined) return young;
    const old = this.old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.perGeneration) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  delete(key: string): void {
    this.young.delete(key);
    this.old.delete(key);
  }
}

/** Who an internal token speaks for: a user (minted by the gateway) or a service calling for itself. */
export type InternalIdentity = { kind: 'user'; userId: number; role: Role } | { kind: 'service'; service: string };

/** The issuer of the tokens the gateway mints for the users it verified. */
export const GATEWAY_ISSUER = 'coupon-rush-gateway';
const SERVICE_ROLE = 'SERVICE';
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const INTERNAL_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const HEADER_PREFIX = `${INTERNAL_HEADER}.`;

/**
 * Mints the short-lived internal tokens one process relays to the services it calls: HS256 with the
 * internal key (never the users' JWT key), claims iss, aud (the callee's Consul name), sub, role,
 * iat, exp. A token is reused for the same (subject, role, audience) during the first third of its
 * life, so a relayed token always has two thirds left: a request that waits in a backlog between
 * the gateway and the service (a 20,000-user burst queued joins for over 10 s here) must not arrive
 * expired and be refused 401. Signing costs ~5 µs here, a reuse ~0.25 µs (measured), and the
 * gateway relays one per request. About `maxCached` are kept.
 */
export class InternalTokenMinter {
  private readonly cache: TwoGenerations<{ token: string; reuseUntil: number }>;

  constructor(
    private readonly key: crypto.KeyObject,
    private readonly issuer: string,
    private readonly ttlSeconds: number,
    maxCached = 50_000,
  ) {
    this.cache = new TwoGenerations(Math.ceil(maxCached / 2));
  }

  /** For a user the gateway verified (the gateway's issuer only). */
  forUser(userId: string | number, role: Role, audience: string): string {
    return this.token(String(userId), role, audience);
  }

  /** For the minting service itself: subject and issuer are its name, role SERVICE. */
  forService(audience: string): string {
    return this.token(this.issuer, SERVICE_ROLE, audience);
  }

  private token(sub: string, role: string, aud: string): string {
    const id = `${sub}\n${role}\n${aud}`;
    const now = Date.now();
    const kept = this.cache.get(id);
    if (kept && now < kept.reuseUntil) return kept.token;
    const iat = Math.floor(now / 1000);
    const token = signInternalToken(this.key, { iss: this.issuer, aud, sub, role, iat, exp: iat + this.ttlSeconds });
    this.cache.set(id, { token, reuseUntil: now + (this.ttlSeconds * 1000) / 3 });
    return token;
  }
}

/** One internal token, signed with a hand-made HS256 (the header is constant; measured as fast as fast-jwt's signer). */
export function signInternalToken(key: crypto.KeyObject, claims: { iss: string; aud: string; sub: string; role: string; iat: number; exp: number }): string {
  const signed = `${INTERNAL_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${crypto.createHmac('sha256', key).update(signed).digest('base64url')}`;
}

/** Verifies the internal tokens addressed to one service: who the request speaks for, or undefined. */
export type InternalTokenVerifier = (token: string) => InternalIdentity | undefined;

/**
 * HS256 with the internal key only, `aud` this service's Consul name only, `exp` required; a user
 * identity only from the gateway's issuer, a service identity only as issued by that service
 * itself. Hand-made rather than fast-jwt's: the platform mints every internal token with one
 * header, so anything else (another alg, `crit`, `kid`, a non-canonical signature) is refused by one
 * comparison, and a flash crowd is thousands of distinct users, each token seen once, for which
 * fast-jwt's LRU only costs (20,000 users round-robin: 24 us a verify with its 10,000-entry LRU,
 * 9-11 us without it, 6.2-6.5 us this way; measured here). Verified tokens are kept, up to about
 * `cacheSize` (~400 bytes each), until their `exp`: a user asking again within the gateway's reuse
 * window costs a lookup (0.1-0.5 us). Kept small, a cache that every crowd overflows costs more
 * than none (20,000 users round-robin: 12-18 us with 10,000 entries, 8-11 us with none, loaded box).
 */
export function createInternalTokenVerifier(key: crypto.KeyObject, audience: string, { cacheSize = 50_000 }: { cacheSize?: number } = {}): InternalTokenVerifier {
  const verified = new TwoGenerations<{ identity: InternalIdentity; exp: number }>(Math.ceil(cacheSize / 2));
  return (token) => {
    const now = Date.now() / 1000;
    const kept = verified.get(token);
    if (kept) {
      if (now < kept.exp) return kept.identity;
      verified.delete(token);
      return undefined;
    }
    const signedEnd = token.lastIndexOf('.');
    if (!token.startsWith(HEADER_PREFIX) || token.indexOf('.', HEADER_PREFIX.length) !== signedEnd || token.length - signedEnd - 1 !== 43) return undefined;
    const expected = crypto.createHmac('sha256', key).update(token.slice(0, signedEnd)).digest('base64url');
    if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(token.slice(signedEnd + 1)))) return undefined;
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(token.slice(HEADER_PREFIX.length, signedEnd), 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (claims === null || typeof claims !== 'object' || claims.aud !== audience || typeof claims.exp !== 'number' || !(now < claims.exp)) return undefined;
    const identity = identityOfClaims(claims);
    if (!identity) return undefined;
    verified.set(token, { identity, exp: claims.exp });
    return identity;
  };
}

function identityOfClaims(claims: Record<string, unknown>): InternalIdentity | undefined {
  if (claims.role === 'USER' || claims.role === 'ADMIN') {
    if (claims.iss !== GATEWAY_ISSUER || !isIdText(claims.sub)) return undefined;
    return { kind: 'user', userId: Number(claims.sub), role: claims.role };
  }
  if (claims.role === SERVICE_ROLE && typeof claims.sub === 'string' && SERVICE_NAME.test(claims.sub) && claims.iss === claims.sub) {
    return { kind: 'service', service: claims.sub };
  }
  return undefined;
}

/**
 * For tools that stand where the gateway or a service stands (tests, the bench's direct targets):
 * an internal token addressed to `audience` (a Consul name, with any run suffix), signed with the
 * platform's INTERNAL_TOKEN_SECRET, for a user as the gateway would mint it or for a service.
 */
export function mintInternalToken(
  audience: string,
  subject: { userId: number | string; role: Role } | { service: string },
  { ttlSeconds = 600, secret = process.env.INTERNAL_TOKEN_SECRET ?? '' }: { ttlSeconds?: number; secret?: string } = {},
): string {
  const iat = Math.floor(Date.now() / 1000);
  const who = 'service' in subject ? { iss: subject.service, sub: subject.service, role: SERVICE_ROLE } : { iss: GATEWAY_ISSUER, sub: String(subject.userId), role: subject.role };
  return signInternalToken(createTokenKey(secret), { ...who, aud: audience, iat, exp: iat + ttlSeconds });
}
