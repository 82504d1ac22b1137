import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import type { RunningService } from '@coupon-rush/platform';
import { consulApi, eventually, http, inParallel, isolatedOverrides, RUN_ID, spawnService, tally } from '@coupon-rush/testkit';
import { start as startGateway } from '@coupon-rush/gateway';

const CROWD = 200;

function p99(millis: number[]): number {
  const sorted = [...millis].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1];
}

/** Fires `CROWD` calls at once; returns each answer's status and how long it took. */
async function surge(call: (i: number) => Promise<{ status: number }>): Promise<{ statuses: number[]; p99: number; wallMs: number }> {
  const started = Date.now();
  const answers = await inParallel(CROWD, CROWD, async (i) => {
    const t = performance.now();
    const res = await call(i);
    return { status: res.status, ms: performance.now() - t };
  });
  return { statuses: answers.map((a) => a.status), p99: p99(answers.map((a) => a.ms)), wallMs: Date.now() - started };
}

describe('a login surge through the gateway', function () {
  this.timeout(240_000);
  let child: ChildProcess;
  let gateway: RunningService<unknown>;

  /** This test's instance as Consul sees it (other tests of the run may leave instances behind). */
  const ownInstance = async () => {
    const entries = (await (await consulApi(`/v1/health/service/user-service-test-${RUN_ID}`)).json()) as Array<{
      Service: { Meta: Record<string, string> };
      Checks: Array<{ Status: string; Output: string }>;
    }>;
    const own = entries.find((e) => e.Service.Meta.pid === String(child.pid));
    if (!own) return undefined;
    const failing = own.Checks.filter((c) => c.Status !== 'passing');
    return { passing: failing.length === 0, failing: failing.map((c) => `${c.Status}: ${c.Output.slice(0, 300)}`).join('; ') };
  };

  before(async () => {
    // Its own process, as in production: the hashing load lands on the service, not on the gateway.
    child = spawnService('services/user');
    await eventually(async () => (await ownInstance())?.passing, 30_000, 200);
    gateway = await startGateway({ port: 0, configServerUrl: null, overrides: isolatedOverrides() });
  });

  after(async () => {
    await gateway?.stop();
    child?.kill('SIGTERM');
  });

  it(`when ${CROWD} users sign up at once and then log in at once, then every sign-up is 201, every login 200, and the instance never fails its health check`, async () => {
    // Sampled from Consul itself: the gateway's panic mode would hide a failed check from the answers.
    const failedChecks: string[] = [];
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const own = await ownInstance();
        samples++;
        if (!own?.passing) failedChecks.push(`${new Date().toISOString()} ${own ? own.failing : 'not registered'}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const email = (i: number) => `surge-${i}-${RUN_ID}@example.com`;
    const signUps = await surge((i) => http('POST', `${gateway.url}/api/users/signup`, { body: { email: email(i), password: `surge-pass-${i}` } }));
    const logIns = await surge((i) => http('POST', `${gateway.url}/api/users/login`, { body: { email: email(i), password: `surge-pass-${i}` } }));
    sampling = false;
    await sampler;

    for (const [phase, r] of [
      ['sign-ups', signUps],
      ['logins', logIns],
    ] as const) {
      console.log(`      ${CROWD} ${phase}: p99 ${r.p99.toFixed(0)} ms, all answered in ${r.wallMs} ms, statuses ${JSON.stringify(tally(r.statuses))}`);
    }
    expect(tally(signUps.statuses)).to.deep.equal({ 201: CROWD });
    expect(tally(logIns.statuses)).to.deep.equal({ 200: CROWD });
    expect(failedChecks, `Consul samples without the one passing instance (of ${samples})`).to.deep.equal([]);
  });
});
