import crypto from 'node:crypto';
import { expect } from 'chai';
import { GATEWAY_ISSUER, InternalTokenMinter, bindIdentity, callerOf, createInternalTokenVerifier, createTokenKey, requireAdmin, requireService, signAccessToken } from '../src';

describe('internal tokens (the gateway and services relay them, services verify them)', () => {
  const key = createTokenKey('i'.repeat(40));
  const userKey = createTokenKey('u'.repeat(40));
  const verify = createInternalTokenVerifier(key, 'coupon-service-x');
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signed = (payload: unknown, k = key, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) => {
    const body = `${b64(header)}.${b64(payload)}`;
    return `${body}.${crypto.createHmac('sha256', k).update(body).digest('base64url')}`;
  };
  // Made before each test, not when mocha loads the file (which may be minutes earlier in the whole suite).
  let now: number;
  let user: Record<string, unknown>;
  let service: Record<string, unknown>;
  beforeEach(() => {
    now = Math.floor(Date.now() / 1000);
    user = { iss: GATEWAY_ISSUER, aud: 'coupon-service-x', sub: '42', role: 'ADMIN', iat: now, exp: now + 30 };
    service = { iss: 'issue-coupon-service', aud: 'coupon-service-x', sub: 'issue-coupon-service', role: 'SERVICE', iat: now, exp: now + 30 };
  });

  it('when the gateway mints for a user and a service for itself, then the addressed service verifies who each speaks for', () => {
    expect(verify(new InternalTokenMinter(key, GATEWAY_ISSUER, 30).forUser('42', 'ADMIN', 'coupon-service-x'))).to.deep.equal({ kind: 'user', userId: 42, role: 'ADMIN' });
    expect(verify(new InternalTokenMinter(key, 'issue-coupon-service', 30).forService('coupon-service-x'))).to.deep.equal({ kind: 'service', service: 'issue-coupon-service' });
    expect(verify(signed(user))).to.deep.equal({ kind: 'user', userId: 42, role: 'ADMIN' });
  });

  it('when anything about an internal token is off, then it does not verify', () => {
    const refused = {
      'another audience': signed({ ...user, aud: 'issue-coupon-service-x' }),
      'an audience list': signed({ ...user, aud: ['coupon-service-x', 'other'] }),
      'no audience': signed({ ...user, aud: undefined }),
      expired: signed({ ...user, exp: now - 1 }),
      'the users key': signed(user, userKey),
      "a user's own JWT (users key, no audience)": signAccessToken(userKey, 42, 'ADMIN', 60, 'coupon-rush'),
      "a user's JWT shape signed with the internal key": signAccessToken(key, 42, 'ADMIN', 60, 'coupon-rush'),
      'a user identity not from the gateway': signed({ ...user, iss: 'issue-coupon-service' }),
      'a service speaking for another': signed({ ...service, sub: 'user-service' }),
      'an unknown role': signed({ ...user, role: 'ROOT' }),
      'a user id that is no id': signed({ ...user, sub: '0' }),
      'no role': signed({ ...user, role: undefined }),
      'no expiry': signed({ ...user, exp: undefined }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(user)}.`,
      'another header (kid)': signed(user, key, { alg: 'HS256', typ: 'JWT', kid: 'x' }),
      'a crit header': signed(user, key, { alg: 'HS256', typ: 'JWT', crit: ['exp'] }),
      'signature with padding': `${signed(user)}=`,
      'tampered payload': `${signed(user).split('.')[0]}.${b64({ ...user, sub: '1' })}.${signed(user).split('.')[2]}`,
      'a payload that is not an object': signed('42'),
      'four segments': `${signed(user)}.x`,
    };
    for (const [what, token] of Object.entries(refused)) expect(verify(token), what).to.equal(undefined);
  });

  it('when a verified token is seen again after its exp, then the cache does not answer for it', () => {
    const realNow = Date.now;
    const token = signed({ ...user, exp: now + 2 });
    expect(verify(token)).to.deep.equal({ kind: 'user', userId: 42, role: 'ADMIN' });
    try {
      Date.now = () => realNow() + 3000;
      expect(verify(token)).to.equal(undefined);
    } finally {
      Date.now = realNow;
    }
  });

  it('when the same user, role and audience come again, then the minter reuses the token for the first third of its life, then signs a new one', () => {
    const minter = new InternalTokenMinter(key, GATEWAY_ISSUER, 3);
    const first = minter.forUser(7, 'USER', 'a');
    expect(minter.forUser(7, 'USER', 'a')).to.equal(first);
    expect(minter.forUser(7, 'USER', 'b')).to.not.equal(first);
    expect(minter.forUser(7, 'ADMIN', 'a')).to.not.equal(first);
    const realNow = Date.now;
    try {
      Date.now = () => realNow() + 900;
      expect(minter.forUser(7, 'USER', 'a')).to.equal(first);
      Date.now = () => realNow() + 1100;
      expect(minter.forUser(7, 'USER', 'a')).to.not.equal(first);
    } finally {
      Date.now = realNow;
    }
  });

  it('when a request carries only X-User-* headers, a user token, or a service token, then callerOf, requireAdmin and requireService answer from the verified token alone', () => {
    const request = (headers: Record<string, string>) => {
      const req = { headers };
      bindIdentity(req, verify);
      return req;
    };
    const status = (fn: () => unknown) => {
      try {
        fn();
        return 'ok';
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    const forged = request({ 'x-user-id': '1', 'x-user-role': 'ADMIN' });
    expect([status(() => callerOf(forged)), status(() => requireAdmin(forged)), status(() => requireService(forged, ['issue-coupon-service']))]).to.deep.equal([401, 401, 401]);
    const admin = request({ authorization: `Bearer ${signed(user)}`, 'x-user-id': '9' });
    expect(callerOf(admin)).to.deep.equal({ userId: 42, role: 'ADMIN' });
    expect(status(() => requireService(admin, ['issue-coupon-service']))).to.equal(403);
    const issue = request({ authorization: `Bearer ${signed(service)}` });
    expect(requireService(issue, ['issue-coupon-service'])).to.equal('issue-coupon-service');
    expect(status(() => requireService(issue, ['console-service']))).to.equal(403);
    expect(status(() => callerOf(issue))).to.equal(401);
  });
});
