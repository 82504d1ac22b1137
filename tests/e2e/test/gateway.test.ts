import { expect } from 'chai';
import { createTokenKey, signAccessToken, type RunningService } from '@coupon-rush/platform';
import { eventually, http, isolatedOverrides, tokenFor } from '@coupon-rush/testkit';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { start as startUser } from '@coupon-rush/user-service';
import { start as startGateway } from '@coupon-rush/gateway';

describe('gateway, end to end through Consul', function () {
  const services: Array<RunningService<unknown>> = [];
  let base: string;
  let adminToken: string;
  const overrides = isolatedOverrides();
  const email = `user-${Date.now()}@example.com`;

  before(async () => {
    services.push(await startUser({ port: 0, configServerUrl: null, overrides }));
    services.push(await startCoupon({ port: 0, configServerUrl: null, overrides }));
    const gateway = await startGateway({ port: 0, configServerUrl: null, overrides });
    services.push(gateway);
    base = `${gateway.url}/api`;
    const login = await http('POST', `${base}/users/login`, { body: { email: 'admin@coupon.local', password: 'admin1234!' } });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    adminToken = login.body.accessToken;
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop();
  });

  it('when a user signs up and logs in, then /users/me answers with the identity from the token', async () => {
    const signup = await http('POST', `${base}/users/signup`, { body: { email, password: 'secret-pass-1' } });
    expect(signup.status).to.equal(201);
    expect(signup.body).to.include({ email });
    const login = await http('POST', `${base}/users/login`, { body: { email: email.toUpperCase(), password: 'secret-pass-1' } });
    expect(login.body).to.include({ tokenType: 'Bearer', expiresIn: 1800 });
    const me = await http('GET', `${base}/users/me`, { token: login.body.accessToken });
    expect(me.body).to.deep.equal({ id: signup.body.id, email, role: 'USER' });
  });

  it('when the email is taken in another case, then 409 EMAIL_TAKEN', async () => {
    const again = await http('POST', `${base}/users/signup`, { body: { email: email.toUpperCase(), password: 'secret-pass-1' } });
    expect(again.status).to.equal(409);
    expect(again.body.code).to.equal('EMAIL_TAKEN');
    expect(again.headers.get('content-type')).to.match(/application\/problem\+json/);
  });

  it('when an admin creates a coupon, then anyone reads it without a token', async () => {
    const created = await http('POST', `${base}/coupons`, {
      token: adminToken,
      body: { title: 'Gateway test', totalQuantity: 10, discountAmount: 1000, minOrderAmount: 0, issueStartAt: '2026-01-01T00:00:00Z', issueEndAt: '2030-01-01T00:00:00Z' },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const read = await http('GET', `${base}/coupons/${created.body.id}`);
    expect(read.body).to.include({ title: 'Gateway test', totalQuantity: 10, issuedQuantity: 0 });
    const page = await http('GET', `${base}/coupons?page=0&size=5`);
    expect(page.body.items.map((c: any) => c.id)).to.include(created.body.id);
  });

  it('when a plain user creates a coupon, then 403 FORBIDDEN and nothing is written', async () => {
    const before = (await http('GET', `${base}/coupons?size=1`)).body.total;
    const res = await http('POST', `${base}/coupons`, {
      token: tokenFor(99, 'USER'),
      body: { title: 'x', totalQuantity: 1, discountAmount: 1, issueStartAt: '2026-01-01T00:00:00Z', issueEndAt: '2030-01-01T00:00:00Z' },
    });
    expect(res.status).to.equal(403);
    expect(res.body.code).to.equal('FORBIDDEN');
    expect((await http('GET', `${base}/coupons?size=1`)).body.total).to.equal(before);
  });

  it('when a token is missing, forged, unsigned or expired, then 401 UNAUTHORIZED', async () => {
    const [h, p] = tokenFor(1, 'ADMIN').split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: '2', role: 'ADMIN', iss: 'coupon-rush', exp: 9999999999 })).toString('base64url')}.${tokenFor(1, 'ADMIN').split('.')[2]}`;
    const otherKey = signAccessToken(createTokenKey('another-secret-that-is-long-enough-for-hs256'), 1, 'ADMIN', 600, 'coupon-rush');
    for (const authorization of [undefined, 'Bearer', 'Basic abc', `Bearer ${none}`, `Bearer ${tampered}`, `Bearer ${otherKey}`, `Bearer ${tokenFor(1, 'USER', -10)}`]) {
      const res = await http('GET', `${base}/users/me`, { headers: authorization ? { authorization } : {} });
      expect(res.status, String(authorization)).to.equal(401);
      expect(res.body.code).to.equal('UNAUTHORIZED');
    }
  });

  it('when a client sends X-User-Id, then the gateway replaces it with the token subject', async () => {
    const login = await http('POST', `${base}/users/login`, { body: { email, password: 'secret-pass-1' } });
    const me = await http('GET', `${base}/users/me`, { token: login.body.accessToken, headers: { 'x-user-id': '1', 'x-user-role': 'ADMIN' } });
    expect(me.body.email).to.equal(email);
  });

  it('when input is malformed, then a clear 4xx with a code, never a 500', async () => {
    const cases: Array<[string, string, { raw?: string; body?: unknown; token?: string }, number, string]> = [
      ['POST', '/users/signup', { raw: '{"email": ' }, 400, 'MALFORMED_JSON'],
      ['POST', '/users/signup', { body: { email: 'nope', password: 'secret-pass-1' } }, 400, 'VALIDATION_FAILED'],
      ['POST', '/users/signup', { body: { email: "a'; DROP TABLE users;--@x.io", password: 1 } }, 400, 'VALIDATION_FAILED'],
      ['GET', '/coupons/-1', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/coupons/abc', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/coupons/999999999', {}, 404, 'COUPON_NOT_FOUND'],
      ['GET', '/coupons?size=1000', {}, 400, 'VALIDATION_FAILED'],
      ['POST', '/users/signup', { raw: JSON.stringify({ email: 'a@b.io', password: 'x'.repeat(70 * 1024) }) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['GET', '/nowhere', {}, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, opts, status, code] of cases) {
      const res = await http(method, `${base}${path}`, opts);
      expect([res.status, res.body?.code], `${method} ${path}`).to.deep.equal([status, code]);
    }
  });

  it('when no instance of the routed service is passing, then 503 SERVICE_UNAVAILABLE', async () => {
    const res = await http('POST', `${base}/coupons/1/issues`, { token: tokenFor(5) });
    expect(res.status).to.equal(503);
    expect(res.body.code).to.equal('SERVICE_UNAVAILABLE');
  });

  it('when a user signs up, logs in and claims a coupon, then the gateway answers 202 and the coupon shows in /users/me/coupons', async () => {
    services.push(await startIssue({ port: 0, configServerUrl: null, overrides }));
    const now = Date.now();
    const coupon = await http('POST', `${base}/coupons`, {
      token: adminToken,
      body: { title: 'End to end', totalQuantity: 1, discountAmount: 500, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 60_000).toISOString() },
    });
    const tokens: string[] = [];
    for (const who of ['first', 'second']) {
      const address = `${who}-${Date.now()}@example.com`;
      await http('POST', `${base}/users/signup`, { body: { email: address, password: 'secret-pass-1' } });
      tokens.push((await http('POST', `${base}/users/login`, { body: { email: address, password: 'secret-pass-1' } })).body.accessToken);
    }
    const first = await http('POST', `${base}/coupons/${coupon.body.id}/issues`, { token: tokens[0], headers: { 'x-user-id': '1' } });
    expect(first.status, JSON.stringify(first.body)).to.equal(202);
    expect(first.body.status).to.equal('ACCEPTED');
    const second = await http('POST', `${base}/coupons/${coupon.body.id}/issues`, { token: tokens[1] });
    expect([second.status, second.body.code]).to.deep.equal([409, 'SOLD_OUT']);
    const mine = await eventually(async () => {
      const res = await http('GET', `${base}/users/me/coupons`, { token: tokens[0] });
      return res.body.items.length === 1 && res.body.items;
    });
    expect(mine[0].couponId).to.equal(coupon.body.id);
    expect((await http('GET', `${base}/users/me/coupons`, { token: tokens[1] })).body.items).to.deep.equal([]);
  });
});
