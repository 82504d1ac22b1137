import http from 'node:http';
import { expect } from 'chai';
import { consulApi, eventually, http as call, isolatedOverrides, passingInstances, RUN_ID } from '@coupon-rush/testkit';
import { start as startGateway } from '../src/main';

const passing = async (service: string) => (await passingInstances(service)).map((i) => i.id);

describe('the gateway on its own: route timeout, configuration fallback, re-registration', function () {
  this.timeout(90_000);
  const stops: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('when an upstream is slower than its route timeout, then 504 GATEWAY_TIMEOUT', async () => {
    const slow = http.createServer((req, res) => {
      if (req.url === '/health') res.end('ok');
      else setTimeout(() => res.end('late'), 1500);
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    const port = (slow.address() as { port: number }).port;
    const id = `slow-service-test-${RUN_ID}`;
    await consulApi('/v1/agent/service/register', {
      method: 'PUT',
      body: JSON.stringify({ Name: id, ID: id, Address: '127.0.0.1', Port: port, Check: { HTTP: `http://127.0.0.1:${port}/health`, Interval: '1s', Status: 'passing' } }),
    });
    stops.push(async () => {
      await consulApi(`/v1/agent/service/deregister/${id}`, { method: 'PUT' });
      slow.closeAllConnections();
      slow.close();
    });
    const gateway = await startGateway({
      port: 0,
      configServerUrl: null,
      overrides: isolatedOverrides({ gateway: { routes: [{ id: 'slow', path: '/api/slow', service: 'slow-service', public: true, stripPrefix: 1, timeoutMs: 300 }] } }),
    });
    stops.push(() => gateway.stop());
    const started = Date.now();
    const res = await call('GET', `${gateway.url}/api/slow/anything`);
    expect([res.status, res.body.code]).to.deep.equal([504, 'GATEWAY_TIMEOUT']);
    expect(Date.now() - started).to.be.below(1400);
  });

  it('when the config server is down, then a service boots from the local config-repo copy', async () => {
    const gateway = await startGateway({ port: 0, configServerUrl: 'http://127.0.0.1:9', overrides: isolatedOverrides() });
    stops.push(() => gateway.stop());
    expect(gateway.configOrigin()).to.equal('local-fallback');
    expect((await call('GET', `${gateway.url}/api/nowhere`)).status).to.equal(404);
  });

  it('when Consul forgets an instance (a dev agent restarted), then the instance registers itself again', async () => {
    const gateway = await startGateway({ port: 0, configServerUrl: null, overrides: isolatedOverrides({ consul: { registrationCheckMs: 200 } }) });
    stops.push(() => gateway.stop());
    await consulApi(`/v1/agent/service/deregister/${gateway.instanceId}`, { method: 'PUT' });
    expect(await passing('gateway')).not.to.include(gateway.instanceId);
    await eventually(async () => (await passing('gateway')).includes(gateway.instanceId!), 5000, 100);
  });
});
