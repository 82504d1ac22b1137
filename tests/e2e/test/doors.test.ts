import net from 'node:net';
import { expect } from 'chai';
import { deepMerge, type RunningService } from '@coupon-rush/platform';
import { http, isolatedOverrides, metricTotal, RUN_ID, tokenFor } from '@coupon-rush/testkit';
import { bearer, gatewayApi, serviceApi, type CouponRushApi } from '@coupon-rush/api-client';
import { start as startUser } from '@coupon-rush/user-service';
import { start as startGateway } from '@coupon-rush/gateway';

const ALLOWED_ORIGIN = 'https://shop.example';
const PASSWORD = 'secret-pass-1';
/** Short lock waits for the test; the production ones are minutes (config-repo/user-service.yml). */
const LOCK_WAIT_SECONDS = [2, 3];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What an answer of the typed client says, minus what differs per request: its id, trace and date,
 * and the caller's own tokens left (the client's bucket counts every try of the caller, whichever
 * account).
 */
function sameness({ response, data, error }: { response: Response; data?: unknown; error?: unknown }): unknown {
  const headers = [...response.headers].filter(([name]) => !['x-request-id', 'traceresponse', 'date', 'x-ratelimit-remaining'].includes(name));
  return { status: response.status, body: data ?? error, headers };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** A loopback port nothing listens on: a Redis that is not there. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('closed doors: rate limits, login lockout, the management port, public headers, CORS', function () {
  this.timeout(120_000);
  const services: Array<RunningService<unknown>> = [];
  let gateway: RunningService<unknown>;
  let api: string;
  let client: CouponRushApi;
  const overrides = isolatedOverrides({ security: { loginLockout: { lockWaitSeconds: LOCK_WAIT_SECONDS } } });
  const gatewayOverrides = deepMerge(overrides, {
    gateway: {
      cors: { allowedOrigins: [ALLOWED_ORIGIN] },
      // Room for this file's tries on one account, so what is asserted is user-service's lockout.
      rateLimits: { 'issues-per-user': { replenishRate: 1, burstCapacity: 2 }, 'logins-per-account': { burstCapacity: 30 } },
    },
  });

  const signUp = async (email: string) => expect((await client.POST('/api/users/signup', { body: { email, password: PASSWORD } })).response.status).to.equal(201);
  const logIn = (email: string, password: string) => client.POST('/api/users/login', { body: { email, password } });
  // No issue-coupon instance runs: an allowed claim is the gateway's 503, a refused one its 429.
  const claim = (on: CouponRushApi, user: number) => on.POST('/api/coupons/{id}/issues', { params: { path: { id: '1' } }, headers: bearer(tokenFor(user)) });

  before(async () => {
    services.push(await startUser({ port: 0, configServerUrl: null, overrides }));
    gateway = await startGateway({ port: 0, configServerUrl: null, overrides: gatewayOverrides });
    services.push(gateway);
    api = `${gateway.url}/api`;
    client = gatewayApi(gateway.url);
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop();
  });

  describe('the gateway’s own endpoints', () => {
    it('when /metrics or /refresh is asked on the public port, then 404; on the management port they answer', async () => {
      expect(gateway.managementUrl).to.not.equal(gateway.url);
      expect((await http('GET', `${gateway.url}/metrics`)).status).to.equal(404);
      expect((await http('POST', `${gateway.url}/refresh`)).status).to.equal(404);
      const metrics = await http('GET', `${gateway.managementUrl}/metrics`);
      expect(metrics.status).to.equal(200);
      expect(metrics.body).to.match(/^# HELP gateway_rate_limited_total /m);
      const refreshed = await http('POST', `${gateway.managementUrl}/refresh`);
      expect([refreshed.status, refreshed.body.origin]).to.deep.equal([200, 'local-fallback']);
    });

    it('when /health/ready is asked on the public port, then only its status; the management port has the details', async () => {
      const bare = await http('GET', `${gateway.url}/health/ready`);
      expect([bare.status, bare.body]).to.deep.equal([200, { status: 'UP' }]);
      const detailed = await http('GET', `${gateway.managementUrl}/health/ready`);
      expect(detailed.body).to.deep.include({ status: 'UP', checks: { redis: 'UP', config: 'UP' } });
      expect((await http('GET', `${gateway.url}/health/live`)).body).to.deep.equal({ status: 'UP' });
    });
  });

  describe('public answers', () => {
    const securityHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'content-security-policy': "frame-ancestors 'none'", 'x-frame-options': 'DENY' };

    it('when answers come from a service, the gateway itself or an unknown path, then each carries the security headers and no instance name', async () => {
      const answers = {
        proxied: await http('GET', `${api}/users/me`, { token: (await logIn('admin@coupon.local', 'admin1234!')).data?.accessToken }),
        refusedLogin: (await logIn(`nobody-${RUN_ID}@example.com`, 'wrong-password')).response,
        unauthorized: await http('GET', `${api}/users/me`),
        unknownRoute: await http('GET', `${api}/nowhere`),
        docs: await http('GET', `${api}/docs`),
        health: await http('GET', `${gateway.url}/health/live`),
      };
      expect(answers.proxied.status).to.equal(200);
      for (const [what, res] of Object.entries(answers)) {
        for (const [name, value] of Object.entries(securityHeaders)) expect(res.headers.get(name), `${what}: ${name}`).to.equal(value);
        expect(res.headers.get('x-served-by'), `${what}: x-served-by`).to.equal(null);
      }
    });

    it('when no instance of a route’s service runs, then the 503 names no internal service', async () => {
      const res = await claim(client, 7001);
      expect([res.response.status, res.error?.code]).to.deep.equal([503, 'SERVICE_UNAVAILABLE']);
      expect(JSON.stringify(res.error)).to.not.match(/issue-coupon|-service|127\.0\.0\.1|localhost/);
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string, method = 'POST', headers = 'authorization, content-type') =>
      http('OPTIONS', `${api}/users/me`, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

    it('when an allowed origin sends a preflight, then 204 with the allowed methods, headers and max age, before any token is asked', async () => {
      const res = await preflight(ALLOWED_ORIGIN);
      expect(res.status).to.equal(204);
      expect(res.headers.get('access-control-allow-origin')).to.equal(ALLOWED_ORIGIN);
      expect(res.headers.get('access-control-allow-methods')).to.include('POST');
      expect(res.headers.get('access-control-allow-headers')).to.equal('authorization, content-type, x-queue-pass');
      expect(res.headers.get('access-control-max-age')).to.equal('600');
      expect(res.headers.get('vary')).to.include('Origin');
    });

    it('when another origin sends a preflight, or asks for a header not allowed, then no Access-Control-Allow-Origin', async () => {
      for (const res of [await preflight('https://evil.example'), await preflight(ALLOWED_ORIGIN, 'POST', 'x-user-id')]) {
        expect(res.status).to.equal(403);
        expect(res.headers.get('access-control-allow-origin')).to.equal(null);
      }
    });

    it('when an allowed origin sends an actual request, then the answer names it (Vary: Origin); another origin’s does not', async () => {
      const me = (origin: string) => http('GET', `${api}/users/me`, { token: tokenFor(1, 'ADMIN'), headers: { origin } });
      const allowed = await me(ALLOWED_ORIGIN);
      expect([allowed.headers.get('access-control-allow-origin'), allowed.headers.get('vary')]).to.deep.equal([ALLOWED_ORIGIN, 'Origin']);
      const other = await me('https://evil.example');
      expect([other.headers.get('access-control-allow-origin'), other.headers.get('vary')]).to.deep.equal([null, 'Origin']);
    });
  });

  describe('rate limits', () => {
    it('when a user asks past the burst, then 429 RATE_LIMITED with Retry-After and X-RateLimit-*; another user is not limited; after Retry-After the bucket has refilled', async () => {
      const ask = async (user: number) => (await claim(client, user)).response;
      const user = 8000 + Math.floor(Math.random() * 1000);
      const answers = [await claim(client, user), await claim(client, user), await claim(client, user)];
      expect(answers.map((a) => a.response.status)).to.deep.equal([503, 503, 429]);
      expect(answers[1].response.headers.get('x-ratelimit-remaining')).to.equal('0');
      const refused = answers[2];
      expect(refused.error).to.include({ status: 429, code: 'RATE_LIMITED' });
      const { headers } = refused.response;
      expect(headers.get('content-type')).to.match(/application\/problem\+json/);
      expect(headers.get('retry-after')).to.equal('1');
      expect({
        remaining: headers.get('x-ratelimit-remaining'),
        rate: headers.get('x-ratelimit-replenish-rate'),
        burst: headers.get('x-ratelimit-burst-capacity'),
        cost: headers.get('x-ratelimit-requested-tokens'),
      }).to.deep.equal({ remaining: '0', rate: '1', burst: '2', cost: '1' });
      expect((await ask(user + 1)).status, 'another user').to.equal(503);
      await sleep(Number(headers.get('retry-after')) * 1000);
      expect((await ask(user)).status, 'after Retry-After').to.equal(503);
      expect(await metricTotal(gateway.managementUrl, 'gateway_rate_limited_total')).to.be.greaterThan(0);
    });

    it('when the limiter’s Redis does not answer, then requests go through unlimited (fail open) and are counted', async () => {
      const port = await deadPort();
      const blind = await startGateway({
        port: 0,
        configServerUrl: null,
        overrides: deepMerge(gatewayOverrides, { redis: { sentinels: [`127.0.0.1:${port}`] } }),
      });
      try {
        const user = 9000 + Math.floor(Math.random() * 1000);
        const statuses: number[] = [];
        const blindClient = gatewayApi(blind.url);
        for (let i = 0; i < 4; i++) statuses.push((await claim(blindClient, user)).response.status);
        expect(statuses).to.deep.equal([503, 503, 503, 503]);
        expect(await metricTotal(blind.managementUrl, 'gateway_rate_limiter_unavailable_total')).to.equal(4);
        expect((await http('GET', `${blind.managementUrl}/health/ready`)).body).to.deep.include({ status: 'UP', checks: { redis: 'DOWN', config: 'UP' } });
      } finally {
        await blind.stop();
      }
    });
  });

  describe('login', () => {
    it('when an unknown email and a wrong password log in, then the answers are identical and take the same time (medians of 20 alternated tries within 0.5–2×)', async () => {
      // One try per account: no account comes near its lockout.
      const known = Array.from({ length: 20 }, (_, i) => `timing-${i}-${RUN_ID}@example.com`);
      for (const email of known) await signUp(email);
      const timed = async (email: string) => {
        const started = performance.now();
        const res = await logIn(email, 'wrong-password');
        return { res, ms: performance.now() - started };
      };
      const unknownMs: number[] = [];
      const wrongMs: number[] = [];
      for (let i = 0; i < known.length; i++) {
        const unknown = await timed(`ghost-${i}-${RUN_ID}@example.com`);
        const wrong = await timed(known[i]);
        expect(sameness(unknown.res), `try ${i}`).to.deep.equal(sameness(wrong.res));
        expect([wrong.res.response.status, wrong.res.error?.code]).to.deep.equal([401, 'BAD_CREDENTIALS']);
        unknownMs.push(unknown.ms);
        wrongMs.push(wrong.ms);
      }
      const ratio = median(unknownMs) / median(wrongMs);
      expect(ratio, `median unknown ${median(unknownMs).toFixed(1)} ms, wrong ${median(wrongMs).toFixed(1)} ms`).to.be.within(0.5, 2);
    });

    it('when an account fails 5 times, then it is locked (429, Retry-After) even for its right password, alike for an unknown account; a bystander logs in meanwhile; after the wait the right password logs in', async () => {
      const victim = `victim-${RUN_ID}@example.com`;
      const bystander = `bystander-${RUN_ID}@example.com`;
      const ghost = `ghost-locked-${RUN_ID}@example.com`;
      await signUp(victim);
      await signUp(bystander);
      const statusOf = async (email: string, password: string) => (await logIn(email, password)).response.status;
      for (let i = 0; i < 5; i++) {
        expect(await statusOf(victim, `wrong-${i}-password`)).to.equal(401);
        expect(await statusOf(ghost, `wrong-${i}-password`)).to.equal(401);
      }
      const locked = await logIn(victim, PASSWORD);
      expect([locked.response.status, locked.error?.code]).to.deep.equal([429, 'RATE_LIMITED']);
      expect(Number(locked.response.headers.get('retry-after'))).to.be.within(1, LOCK_WAIT_SECONDS[0]);
      expect(sameness(await logIn(ghost, 'wrong-password')), 'an unknown account locked alike').to.deep.equal(sameness(locked));

      expect(await statusOf(bystander, PASSWORD), 'the bystander').to.equal(200);

      await sleep(LOCK_WAIT_SECONDS[0] * 1000 + 100);
      expect(await statusOf(victim, PASSWORD), 'after the lock').to.equal(200);
      // The success forgot the failures and the lock count: four more failures lock nothing.
      for (let i = 0; i < 4; i++) expect(await statusOf(victim, 'wrong-password')).to.equal(401);
      expect(await statusOf(victim, PASSWORD)).to.equal(200);
    });

    it('when user-service’s Redis does not answer, then logins are refused 503 (fail closed), without telling known from unknown accounts', async () => {
      const port = await deadPort();
      const blind = await startUser({ port: 0, configServerUrl: null, overrides: deepMerge(overrides, { redis: { sentinels: [`127.0.0.1:${port}`] }, consul: { register: false } }) });
      try {
        const blindUsers = serviceApi(blind.url);
        const known = await blindUsers.POST('/api/users/login', { body: { email: 'admin@coupon.local', password: 'admin1234!' } });
        const unknown = await blindUsers.POST('/api/users/login', { body: { email: `ghost-${RUN_ID}@example.com`, password: 'whatever-1' } });
        expect([known.response.status, known.error?.code, known.response.headers.get('retry-after')]).to.deep.equal([503, 'LOGIN_UNAVAILABLE', '1']);
        expect(sameness(unknown)).to.deep.equal(sameness(known));
      } finally {
        await blind.stop();
      }
    });
  });
});
