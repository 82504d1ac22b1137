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

  it('when a service depends on another, then it waits for that one to be healthy and the other has a healthcheck', () => {
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      for (const [dep, cond] of Object.entries<any>(svc.depends_on && !Array.isArray(svc.depends_on) ? svc.depends_on : {})) {
        expect(cond.condition, `${name} -> ${dep}`).to.equal('service_healthy');
        expect(compose.services[dep].healthcheck, `${dep} healthcheck`).to.be.an('object');
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
    const mounts: string[] = compose.services.grafana.volumes;
    for (const mount of mounts) expect(fs.existsSync(path.join(REPO_ROOT, mount.split(':')[0])), mount).to.equal(true);
    const prometheus = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'infra/config/prometheus-compose.yml'), 'utf8'));
    expect(prometheus.scrape_configs[1].consul_sd_configs[0].server).to.equal('consul:8500');
  });
});
