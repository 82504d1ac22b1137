import { type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { REPO_ROOT, type RunningService } from '@coupon-rush/platform';
import { start as startConfigServer } from '@coupon-rush/config-server';
import { consulApi, eventually, http as call, isolatedOverrides, metricTotal, passingInstances, RUN_ID, spawnService } from '@coupon-rush/testkit';
import { start as startGateway } from '@coupon-rush/gateway';

const passing = async (service: string) => (await passingInstances(service)).map((i) => i.id);
/** A user-service instance in its own process, so it can be killed for real. */
const spawnUserService = () => spawnService('services/user');

describe('discovery and refresh at the gateway, with user-service instances and the config server', function () {
  this.timeout(90_000);
  const stops: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('when two instances run on ephemeral ports, then both get traffic; when one is SIGKILLed, then the other takes it all with no 5xx', async () => {
    const children: ChildProcess[] = [];
    stops.push(() => children.forEach((c) => c.kill('SIGTERM')));
    // One after the other: two first boots on a fresh database would race for the migration lock.
    for (const expected of [1, 2]) {
      children.push(spawnUserService());
      await eventually(async () => (await passing('user-service')).length === expected, 30_000, 200);
    }
    const gateway = await startGateway({ port: 0, configServerUrl: null, overrides: isolatedOverrides() });
    stops.push(() => gateway.stop());
    // Neither limited nor counted as a login failure: the same request as often as the test likes.
    const token = (await call('POST', `${gateway.url}/api/users/login`, { body: { email: 'admin@coupon.local', password: 'admin1234!' } })).body.accessToken;
    const me = () => call('GET', `${gateway.url}/api/users/me`, { token });
    // The gateway names no instance in its answers: each instance's own count of /users/me says who served.
    const served = async () => {
      const counts = new Map<string, number>();
      for (const i of await passingInstances('user-service'))
        counts.set(i.id, await metricTotal(`http://127.0.0.1:${i.metricsPort}`, 'http_server_request_duration_seconds_count\\{[^}]*route="/users/me"[^}]*\\}'));
      return counts;
    };

    const before = await served();
    for (let i = 0; i < 10; i++) {
      const res = await me();
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-served-by')).to.equal(null);
    }
    const after = await served();
    expect([...after].filter(([id, n]) => n > (before.get(id) ?? 0)).length, 'instances that served').to.equal(2);

    children[0].kill('SIGKILL');
    // A request in flight on the killed instance's connection may fail (a POST is not retried):
    // what is asserted is the gateway once it has seen the death, one health-check interval plus
    // the watch's propagation later — its rotation down to the one instance Consul still passes.
    const inRotation = async () => {
      const text = (await call('GET', `${gateway.managementUrl}/metrics`)).body as string;
      return Number(new RegExp(`^gateway_upstream_instances\\{service="user-service-test-${RUN_ID}",state="in_rotation"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1]);
    };
    await eventually(async () => (await passing('user-service')).length === 1 && (await inRotation()) === 1, 10_000, 100);
    const statuses: number[] = [];
    const until = Date.now() + 3000;
    while (Date.now() < until) statuses.push((await me()).status);
    expect(statuses.filter((s) => s >= 500)).to.deep.equal([]);
  });

  it('when the only instance fails its check (SIGSTOPped past the check timeout), then the gateway keeps routing to it in panic mode until it passes again; once it is deregistered, 503', async () => {
    // A set of its own: other tests of this file leave user-service instances of this run behind.
    const suffix = `-test-${RUN_ID}-panic`;
    const service = `user-service${suffix}`;
    const health = async (): Promise<Array<{ id: string; port: number; passing: boolean }>> => {
      const body = (await (await consulApi(`/v1/health/service/${service}`)).json()) as Array<{ Service: { ID: string; Port: number }; Checks: Array<{ Status: string }> }>;
      return body.map((e) => ({ id: e.Service.ID, port: e.Service.Port, passing: e.Checks.every((c) => c.Status === 'passing') }));
    };
    // The real registration path, with a check timeout short enough to fail within the test.
    const child = spawnService('services/user', { overrides: { consul: { serviceSuffix: suffix, checkInterval: '1s', checkTimeout: '1s', registrationCheckMs: 600_000 } } });
    stops.push(() => {
      child.kill('SIGCONT');
      child.kill('SIGTERM');
    });
    const [instance] = await eventually(
      async () => {
        const all = await health();
        return all.length === 1 && all[0].passing && all;
      },
      30_000,
      200,
    );
    const gateway = await startGateway({ port: 0, configServerUrl: null, overrides: isolatedOverrides({ consul: { serviceSuffix: suffix } }) });
    stops.push(() => gateway.stop());
    const token = (await call('POST', `${gateway.url}/api/users/login`, { body: { email: 'admin@coupon.local', password: 'admin1234!' } })).body.accessToken;
    const login = () => call('GET', `${gateway.url}/api/users/me`, { token });
    const panicGauge = async () => {
      const text = (await call('GET', `${gateway.managementUrl}/metrics`)).body as string;
      return Number(new RegExp(`^gateway_discovery_panic\\{service="${service}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1]);
    };
    expect((await login()).status).to.equal(200);
    expect(await panicGauge()).to.equal(0);

    child.kill('SIGSTOP');
    await eventually(async () => (await health()).every((i) => !i.passing), 10_000, 200);
    await eventually(async () => (await panicGauge()) === 1, 5_000, 100);
    // Sent while Consul holds the only instance critical: without panic mode this is a 503 at once.
    const duringPanic = login();
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGCONT');
    const answer = await duringPanic;
    expect(answer.status).to.equal(200);
    await eventually(async () => (await health()).every((i) => i.passing), 10_000, 200);
    await eventually(async () => (await panicGauge()) === 0, 5_000, 100);

    // Deregistered while the process still runs and answers: gone from Consul means gone from the gateway.
    await consulApi(`/v1/agent/service/deregister/${encodeURIComponent(instance.id)}`, { method: 'PUT' });
    expect((await call('GET', `http://127.0.0.1:${instance.port}/health/live`)).status).to.equal(200);
    const gone = await eventually(
      async () => {
        const res = await login();
        return res.status === 503 && res;
      },
      5_000,
      100,
    );
    expect(gone.body.code).to.equal('SERVICE_UNAVAILABLE');
    expect(await panicGauge()).to.equal(0);
  });

  it('when a route change is committed to the config repo and the gateway is refreshed, then it applies without a restart', async () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'config-repo-'));
    stops.push(() => fs.rmSync(repo, { recursive: true, force: true }));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args]);
    fs.cpSync(path.join(REPO_ROOT, 'config-repo'), path.join(repo, 'config-repo'), { recursive: true });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'initial');
    const configServer = await startConfigServer({ port: 0, overrides: { ...isolatedOverrides(), git: { uri: repo } } });
    stops.push(() => configServer.stop());
    const gateway = await startGateway({ port: 0, configServerUrl: configServer.url, overrides: isolatedOverrides() });
    stops.push(() => gateway.stop());
    expect(gateway.configOrigin()).to.equal('config-server');
    const route = (path: string) => call('GET', `${gateway.url}${path}`);
    expect((await route('/api/flash-sales')).status).to.equal(404);

    const file = path.join(repo, 'config-repo/gateway.yml');
    // The default document gets the route; the profile documents after it stay as they are.
    const [doc, ...profiles] = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    const routes = doc.toJS();
    routes.gateway.routes.unshift({ id: 'flash-sales', path: '/api/flash-sales', service: 'coupon-service', public: false, stripPrefix: 1, timeoutMs: 1000 });
    fs.writeFileSync(file, [YAML.stringify(routes), ...profiles.map((p) => p.toString())].join('---\n'));
    git('commit', '-qam', 'add a route');
    expect((await call('POST', `${gateway.url}/refresh`)).status, 'refresh on the public port').to.equal(404);
    const refreshed = await call('POST', `${gateway.managementUrl}/refresh`);
    expect(refreshed.body.version).to.equal(execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim());
    const res = await route('/api/flash-sales');
    expect([res.status, res.body.code]).to.deep.equal([401, 'UNAUTHORIZED']);
  });
});
