import { expect } from 'chai';
import { GATEWAY_ISSUER, createTokenKey, signInternalToken, type RunningService, type StartOptions } from '@coupon-rush/platform';
import { start as startConsole } from '@coupon-rush/console-service';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { start as startUser } from '@coupon-rush/user-service';
import { start as startGateway } from '@coupon-rush/gateway';
import { asService, asUser, http, isolatedOverrides, runServiceName, tokenFor, type HttpAnswer } from '@coupon-rush/testkit';

const HOUR = 3600_000;
const FORGED = { 'x-user-id': '1', 'x-user-role': 'ADMIN' };

describe('identity: services believe a verified internal token, never a header', function () {
  this.timeout(120_000);
  const overrides = isolatedOverrides({ coupon: { writeBack: { intervalMs: 200 } } });
  const services: Array<RunningService<unknown>> = [];
  const url: Record<string, string> = {};
  let gateway: string;
  let adminToken: string;
  let couponId: number;

  /** What each service does for an admin or a user: a call that changes or reads what only they may. */
  const protectedCall: Record<string, { method: string; path: () => string; body?: unknown; role: 'USER' | 'ADMIN' }> = {
    'user-service': { method: 'GET', path: () => '/users/me', role: 'USER' },
    'coupon-service': {
      method: 'POST',
      path: () => '/coupons',
      body: { title: 'forged', totalQuantity: 1, discountAmount: 1, issueStartAt: new Date(Date.now() - HOUR).toISOString(), issueEndAt: new Date(Date.now() + HOUR).toISOString() },
      role: 'ADMIN',
    },
    'issue-coupon-service': { method: 'POST', path: () => `/coupons/${couponId}/issues`, role: 'USER' },
    'console-service': { method: 'GET', path: () => '/api/console/coupons', role: 'ADMIN' },
  };
  const call = (service: string, headers: Record<string, string>): Promise<HttpAnswer> => {
    const c = protectedCall[service];
    return http(c.method, url[service] + c.path(), { headers, body: c.body });
  };
  const internal = (audience: string, claims: Partial<{ sub: string; role: string; iss: string; exp: number }> = {}) => {
    const iat = Math.floor(Date.now() / 1000);
    const token = signInternalToken(createTokenKey(process.env.INTERNAL_TOKEN_SECRET!), { iss: GATEWAY_ISSUER, aud: audience, sub: '1', role: 'ADMIN', iat, exp: iat + 30, ...claims });
    return { authorization: `Bearer ${token}` };
  };
  const couponCount = async () => (await http('GET', `${gateway}/api/coupons?size=1`)).body.total as number;
  const claimsOn = async (id: number) => (await http('GET', `${url['coupon-service']}/coupons/${id}/reconciliation`, { headers: asUser('coupon-service', 1, 'ADMIN') })).body.redisClaims as number;

  before(async () => {
    const starts: Record<string, (opts: StartOptions) => Promise<RunningService<unknown>>> = {
      'user-service': startUser,
      'coupon-service': startCoupon,
      'issue-coupon-service': startIssue,
      'console-service': startConsole,
    };
    for (const [name, start] of Object.entries(starts)) {
      const service = await start({ port: 0, configServerUrl: null, overrides });
      services.push(service);
      url[name] = service.url;
    }
    const gw = await startGateway({ port: 0, configServerUrl: null, overrides });
    services.push(gw);
    gateway = gw.url;
    const login = await http('POST', `${gateway}/api/users/login`, { body: { email: 'admin@coupon.local', password: 'admin1234!' } });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    adminToken = login.body.accessToken;
    const now = Date.now();
    const created = await http('POST', `${gateway}/api/coupons`, {
      token: adminToken,
      body: { title: 'identity', totalQuantity: 10, discountAmount: 1000, issueStartAt: new Date(now - HOUR).toISOString(), issueEndAt: new Date(now + HOUR).toISOString() },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    couponId = created.body.id;
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop();
  });

  it('when a client calls a service port with X-User-Id and X-User-Role: ADMIN and no token, then every service answers 401 and nothing is written', async () => {
    const [coupons, claims] = [await couponCount(), await claimsOn(couponId)];
    for (const service of Object.keys(protectedCall)) {
      const res = await call(service, FORGED);
      expect(res.status, service).to.equal(401);
      expect(res.body.code, service).to.equal('UNAUTHORIZED');
    }
    expect(await couponCount(), 'no coupon row').to.equal(coupons);
    expect(await claimsOn(couponId), 'no claim').to.equal(claims);
  });

  it("when a service is shown a token addressed to another service, an expired one, one of the wrong key or a user's own JWT, then 401", async () => {
    const claims = await claimsOn(couponId);
    for (const service of Object.keys(protectedCall)) {
      const role = protectedCall[service].role;
      const other = service === 'coupon-service' ? 'user-service' : 'coupon-service';
      const refused = {
        'another audience': internal(runServiceName(other), { role }),
        "the npm start instance's audience": internal(service, { role }),
        expired: internal(runServiceName(service), { role, exp: Math.floor(Date.now() / 1000) - 1 }),
        "a user's JWT (JWT_SECRET), sent straight": { authorization: `Bearer ${tokenFor(1, role)}` },
        'signed with the users key': {
          authorization: `Bearer ${signInternalToken(createTokenKey(process.env.JWT_SECRET!), { iss: GATEWAY_ISSUER, aud: runServiceName(service), sub: '1', role, iat: 0, exp: 9_999_999_999 })}`,
        },
        'a service identity where a user is needed': asService('issue-coupon-service', service),
      };
      for (const [what, headers] of Object.entries(refused)) {
        const res = await call(service, { ...headers, ...FORGED });
        expect(res.status, `${service}: ${what}`).to.equal(401);
      }
    }
    expect(await claimsOn(couponId), 'no claim').to.equal(claims);
  });

  it("when the internal token is the gateway's for that service, then it answers (and a user's role is the token's, not a header's)", async () => {
    expect((await call('user-service', asUser('user-service', 1))).status).to.equal(200);
    expect((await call('console-service', asUser('console-service', 1, 'ADMIN'))).status).to.equal(200);
    const asPlainUser = await call('console-service', { ...asUser('console-service', 5), ...FORGED });
    expect(asPlainUser.status).to.equal(403);
  });

  it('when a user goes through the gateway, then each service gets the user from the relayed token: me, an admin coupon, a claim, the console', async () => {
    const user = 880_000 + Math.floor(Math.random() * 1000);
    const me = await http('GET', `${gateway}/api/users/me`, { token: adminToken, headers: FORGED });
    expect(me.status).to.equal(200);
    expect(me.body.role).to.equal('ADMIN');
    const issued = await http('POST', `${gateway}/api/coupons/${couponId}/issues`, { token: tokenFor(user), headers: { 'x-user-id': '1' } });
    expect(issued.status, JSON.stringify(issued.body)).to.equal(202);
    expect(issued.body.userId).to.equal(user);
    expect((await http('GET', `${gateway}/api/console/coupons`, { token: adminToken })).status).to.equal(200);
    const forbidden = await http('POST', `${gateway}/api/coupons`, { token: tokenFor(user), headers: FORGED, body: protectedCall['coupon-service'].body });
    expect(forbidden.status).to.equal(403);
  });

  it("when a client shows the gateway an internal token (the services' key, addressed to the service behind the route), then it is not a user's token there: 401, nothing written", async () => {
    const coupons = await couponCount();
    const res = await http('POST', `${gateway}/api/coupons`, { headers: asUser('coupon-service', 1, 'ADMIN'), body: protectedCall['coupon-service'].body });
    expect(res.status).to.equal(401);
    expect(await couponCount()).to.equal(coupons);
  });

  it("when coupon-service's internal policy path is asked, then it answers issue-coupon-service's identity only: not a user's token, not another service, not nobody", async () => {
    const policy = (headers: Record<string, string>) => http('GET', `${url['coupon-service']}/internal/coupon-policies/${couponId}`, { headers });
    const answered = await policy(asService('issue-coupon-service', 'coupon-service'));
    expect(answered.status).to.equal(200);
    expect(answered.body).to.include({ id: couponId, totalQuantity: 10 });
    expect((await policy(asUser('coupon-service', 1, 'ADMIN'))).status, "an admin's relayed token").to.equal(403);
    expect((await policy(asService('console-service', 'coupon-service'))).status, 'another service').to.equal(403);
    expect((await policy(FORGED)).status, 'headers only').to.equal(401);
    expect((await policy(asService('issue-coupon-service', 'user-service'))).status, 'addressed to another service').to.equal(401);
    // Through the gateway the path is not even routed: every route is under /api/ or /console.
    expect((await http('GET', `${gateway}/internal/coupon-policies/${couponId}`, { token: adminToken })).status).to.equal(404);
  });
});
