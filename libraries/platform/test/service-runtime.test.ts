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
      { port: 0, configServerUrl: null, overrides: { consul: { register: false, checkTimeout } } },
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
