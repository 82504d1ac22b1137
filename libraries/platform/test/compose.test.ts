import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { REPO_ROOT } from '../src';

// No Docker engine runs here, so the compose file is checked structurally instead of by
// `docker compose config`.
describe('docker-compose.yml', () => {
  const compose = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });

  it('when parsed, then it declares every component and every service of the platform', () => {
    expect(Object.keys(compose.services)).to.include.members([
      'mysql',
      'redis-master',
      'redis-replica',
      'redis-sentinel',
      'kafka',
      'consul',
      'consul-acl',
      'jaeger',
      'prometheus',
      'grafana',
      'config-server',
      'user-service',
      'coupon-service',
      'issue-coupon-service',
      'gateway',
    ]);
  });

  // Containers that do their work and exit (Consul's tokens): the others wait for them to have succeeded.
  const ONE_SHOT = ['consul-acl'];

  it('when a service depends on another, then it waits for that one to be healthy (it has a healthcheck) or, for a one-shot, to have succeeded', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      for (const [dep, cond] of Object.entries<any>(svc.depends_on && !Array.isArray(svc.depends_on) ? svc.depends_on : {})) {
        if (ONE_SHOT.includes(dep)) {
          expect(cond.condition, `${name} -> ${dep}`).to.equal('service_completed_successfully');
          expect(compose.services[dep].restart ?? 'no', `${dep} runs once`).to.equal('no');
        } else {
          expect(cond.condition, `${name} -> ${dep}`).to.equal('service_healthy');
          expect(compose.services[dep].healthcheck, `${dep} healthcheck`).to.be.an('object');
        }
      }
    }
  });

  it('when a container mounts a file or folder of this repository, then it exists', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      for (const mount of (svc.volumes ?? []) as string[]) {
        const source = mount.split(':')[0];
        if (source.startsWith('./')) expect(fs.existsSync(path.join(REPO_ROOT, source)), `${name}: ${mount}`).to.equal(true);
      }
    }
  });

  it('when services run in containers, then they listen on every interface and register their container name, and Grafana is provisioned', () => {
    for (const name of ['config-server', 'user-service', 'coupon-service', 'issue-coupon-service', 'gateway']) {
      const env = compose.services[name].environment;
      expect(env.HOST, name).to.equal('0.0.0.0');
      expect(env.ADVERTISE_ADDRESS, name).to.equal(name);
      expect(compose.services[name].command.slice(0, 3), name).to.deep.equal(['node', '--require', './libraries/platform/dist/src/telemetry/register.js']);
    }
    expect(compose.services.grafana.volumes.map((m: string) => m.split(':')[0])).to.deep.equal(['./infra/grafana/provisioning', './infra/grafana/dashboards']);
    const prometheus = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'infra/config/prometheus-compose.yml'), 'utf8'));
    const discovery = prometheus.scrape_configs[1].consul_sd_configs[0];
    expect(discovery.server).to.equal('consul:8500');
    // The catalogue-read token from a file the container writes; a token that may not read the agent needs the datacenter named.
    expect(discovery.authorization.credentials_file).to.equal('/prometheus/consul-token');
    expect(compose.services.prometheus.entrypoint.join(' ')).to.include('> /prometheus/consul-token');
    expect(discovery.datacenter).to.equal('dc1');
  });
});
