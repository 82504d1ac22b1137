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
      'mysql', 'redis-master', 'redis-replica', 'redis-sentinel', 'kafka', 'consul', 'jaeger', 'prometheus', 'grafana',
      'config-server', 'user-service', 'coupon-service', 'issue-coupon-service', 'gateway',
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
});
