import { expect } from 'chai';
import { Router } from 'express';
import Redis from 'ioredis';
import { readPlatformSettings, startService, type PlatformSettings, type RunningService } from '../src';

/** Blocks the event loop, as CPU work on it (bcryptjs hashing, a huge JSON parse) does. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('service runtime: readiness', () => {
  let redis: Redis;
  const services: Array<RunningService<unknown>> = [];

  before(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, username: 'app', password: process.env.REDIS_PASSWORD, lazyConnect: true });
    await redis.connect();
  });

  after(async () => {
    for (const s of services) await s.stop();
    redis.disconnect();
  });

  /**
   * A service whose one dependency is a real Redis PING, with the event loop stalled for 2 s right
   * after the PING is on the wire: the answer is back in time, but read only after the stall.
   */
  const serviceWithStalledProbe = async (checkTimeout: string) => {
    const svc = await startService<{ platform: PlatformSettings }>(
      {
        name: 'readiness-test',
        parseConfig: (r) => r.done({ platform: readPlatformSettings(r) }),
        async build() {
          return {
            router: Router(),
            readiness: {
              redis: () => {
                const pong = redis.ping();
                setImmediate(() => stall(2000));
                return pong;
              },
            },
          };
        },
      },
      { port: 0, configServerUrl: null, overrides: { consul: { register: false, token: 'unused', checkTimeout } } },
    );
    services.push(svc);
    return svc;
  };

  it('when the event loop stalls for 2 s while a dependency probe is in flight, then /health/ready answers 200 within a 5 s check timeout', async function () {
    this.timeout(20_000);
    const svc = await serviceWithStalledProbe('5s');
    const res = await fetch(`${svc.url}/health/ready`);
    expect([res.status, ((await res.json()) as { checks: unknown }).checks]).to.deep.equal([200, { redis: 'UP', config: 'UP' }]);
  });

  it('when the same stall outlasts the check timeout (1 s), then /health/ready answers 503', async function () {
    this.timeout(20_000);
    const svc = await serviceWithStalledProbe('1s');
    const res = await fetch(`${svc.url}/health/ready`);
    expect([res.status, ((await res.json()) as { checks: unknown }).checks]).to.deep.equal([503, { redis: 'DOWN', config: 'UP' }]);
  });
});

describe('service runtime: the management port', () => {
  const services: Array<RunningService<unknown>> = [];
  after(async () => {
    for (const s of services) await s.stop();
  });

  const start = (management: Record<string, unknown> | undefined) =>
    startService<{ platform: PlatformSettings }>(
      { name: 'management-test', parseConfig: (r) => r.done({ platform: readPlatformSettings(r) }), build: async () => ({ router: Router(), readiness: { dependency: async () => 'ok' } }) },
      { port: 0, configServerUrl: null, overrides: { consul: { register: false, token: 'unused' }, ...(management ? { management } : {}) } },
    ).then((svc) => (services.push(svc), svc));

  it('when a service sets management.port, then /metrics, /refresh and the detailed readiness are served there only, and its own port keeps a bare /health/*', async () => {
    // A fixed management port with PORT=0 (an extra instance) would collide: it becomes ephemeral too.
    const svc = await start({ port: 65_000 });
    expect(svc.managementUrl).to.not.equal(svc.url);
    expect(svc.managementUrl).to.not.match(/:65000$/);
    const at = async (base: string, path: string, method = 'GET') => {
      const res = await fetch(`${base}${path}`, { method });
      return [res.status, res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : undefined];
    };
    expect(await at(svc.url, '/metrics')).to.deep.include(404);
    expect((await at(svc.url, '/refresh', 'POST'))[0]).to.equal(404);
    expect(await at(svc.url, '/health/ready')).to.deep.equal([200, { status: 'UP' }]);
    expect(await at(svc.url, '/health/live')).to.deep.equal([200, { status: 'UP' }]);
    expect(await at(svc.managementUrl, '/health/ready')).to.deep.equal([200, { status: 'UP', checks: { dependency: 'UP', config: 'UP' }, config: 'local-fallback' }]);
    expect((await fetch(`${svc.managementUrl}/metrics`)).status).to.equal(200);
    expect((await at(svc.managementUrl, '/refresh', 'POST'))[0]).to.equal(200);
  });

  it('when a service sets no management.port, then everything stays on its one port, as before', async () => {
    const svc = await start(undefined);
    expect(svc.managementUrl).to.equal(svc.url);
    expect((await fetch(`${svc.url}/metrics`)).status).to.equal(200);
    expect(((await (await fetch(`${svc.url}/health/ready`)).json()) as { checks: unknown }).checks).to.deep.equal({ dependency: 'UP', config: 'UP' });
  });
});
