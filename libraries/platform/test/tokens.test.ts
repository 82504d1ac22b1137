import crypto from 'node:crypto';
import { expect } from 'chai';
import { createTokenKey, createTokenVerifier, signAccessToken } from '../src';

// A 32-byte HMAC is 43 characters: the last one's two low bits are padding, ignored by lenient decoders.
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('access tokens (HS256)', () => {
  const key = createTokenKey('k'.repeat(40));
  const verifyAccessToken = (k: crypto.KeyObject, token: string, issuer: string) => createTokenVerifier(k, issuer)(token);
  const other = createTokenKey('o'.repeat(40));
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signed = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, k = key) => {
    const body = `${b64(header)}.${b64(payload)}`;
    return `${body}.${crypto.createHmac('sha256', k).update(body).digest('base64url')}`;
  };
  // Taken when mocha loads the file, which may be minutes before these tests run in the whole suite.
  const now = Math.floor(Date.now() / 1000);
  const good = { sub: '42', role: 'USER', iss: 'coupon-rush', iat: now, exp: now + 3600 };

  it('when a token is signed by the platform, then its claims verify (and a plain HMAC check agrees)', () => {
    const token = signAccessToken(key, 42, 'ADMIN', 60, 'coupon-rush');
    expect(verifyAccessToken(key, token, 'coupon-rush')).to.include({ sub: '42', role: 'ADMIN' });
    const [header, payload, signature] = token.split('.');
    expect(crypto.createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url')).to.equal(signature);
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).to.deep.equal({ alg: 'HS256', typ: 'JWT' });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).to.include({ sub: '42', role: 'ADMIN', iss: 'coupon-rush' });
    expect(Number(claims.exp) - Number(claims.iat)).to.equal(60);
    expect(verifyAccessToken(key, signed(good), 'coupon-rush')).to.deep.equal({ sub: '42', role: 'USER', iat: now, exp: now + 3600 });
  });

  it('when anything about a token is off, then it does not verify', () => {
    const token = signed(good);
    const [h, p, s] = token.split('.');
    const refused = {
      'another key': signed(good, undefined, other),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
      'alg HS512 header': signed(good, { alg: 'HS512', typ: 'JWT' }),
      'tampered payload': `${h}.${b64({ ...good, role: 'ADMIN' })}.${s}`,
      'signature with padding': `${token}=`,
      'signature with a stray character': `${h}.${p}.${s}!`,
      'four segments': `${token}.x`,
      'two segments': `${h}.${p}`,
      expired: signed({ ...good, exp: now - 1 }),
      'no expiry': signed({ ...good, exp: undefined }),
      'not yet valid': signed({ ...good, nbf: now + 3600 }),
      'other issuer': signed({ ...good, iss: 'someone-else' }),
      'unknown role': signed({ ...good, role: 'ROOT' }),
      'non-numeric subject': signed({ ...good, sub: '1 OR 1=1' }),
      // A services' user id is a safe integer: the gateway must not admit one they would refuse.
      'subject past 2^53': signed({ ...good, sub: '9007199254740993' }),
      'subject of 19 digits': signed({ ...good, sub: '1234567890123456789' }),
      'payload not an object': signed([1, 2] as unknown as Record<string, unknown>),
      'crit header': signed(good, { alg: 'HS256', typ: 'JWT', crit: ['exp'] }),
      'crit header with an extension': signed(good, { alg: 'HS256', typ: 'JWT', crit: ['x-bound'], 'x-bound': true }),
      'non-canonical signature (same bytes)': `${h}.${p}.${s.slice(0, -1)}${B64URL[B64URL.indexOf(s[s.length - 1]) ^ 1]}`,
      'typ other than JWT': signed(good, { alg: 'HS256', typ: 'JWE' }),
      empty: '',
    };
    const verify = createTokenVerifier(key, 'coupon-rush');
    for (const [why, t] of Object.entries(refused)) expect(verify(t), why).to.equal(undefined);
    // A verified token is cached; a cached good token must not make its forgeries pass.
    expect(verify(token)).to.include({ sub: '42' });
    for (const [why, t] of Object.entries(refused)) expect(verify(t), `${why} after the good token was cached`).to.equal(undefined);
  });
});
