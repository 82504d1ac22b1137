import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigReader, REPO_ROOT, composeSources, deepMerge, resolvePropertySources } from '@coupon-rush/platform';
import { parseConfig as parseGateway } from '@coupon-rush/gateway/config';
import { parseConfig as parseCoupon } from '@coupon-rush/coupon-service/config';
import { parseConfig as parseIssue } from '@coupon-rush/issue-coupon-service/config';

/** A service's configuration as the config server composes it from config-repo (dev profile), secrets filled in. */
function configOf<T>(application: string, parse: (r: ConfigReader) => T): T {
  const read = (file: string) => {
    const p = path.join(REPO_ROOT, 'config-repo', file);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  };
  const secrets = {
    jwt: { secret: 'a'.repeat(32) },
    internalToken: { secret: 'i'.repeat(32) },
    mysql: { password: 'unused' },
    redis: { password: 'unused' },
    kafka: { password: 'unused' },
    consul: { token: 'unused' },
  };
  return parse(new ConfigReader(deepMerge(composeSources(resolvePropertySources(application, ['dev'], read, (f) => f)), secrets), `${application}/dev from the test`));
}

// The answer contract rests on these bounds: a gateway 504 must mean a dead connection, never a
// claim still being decided, and a rebuild after a failover must outwait every claim made before it.
describe('the answer bounds in config-repo hold together', () => {
  const gateway = configOf('gateway', parseGateway);
  const issue = configOf('issue-coupon-service', parseIssue);
  const coupon = configOf('coupon-service', parseCoupon);

  it("when issue-coupon answers within its bound, then the gateway's coupon-issue route waits longer than that", () => {
    const route = gateway.routes.find((r) => r.id === 'coupon-issue');
    expect(route, 'the coupon-issue route').to.not.equal(undefined);
    expect(route!.timeoutMs).to.be.at.least(issue.answer.withinMs + 500);
  });

  it('when a claim, its publish and its release take their whole shares, then they still fit the answer bound', () => {
    const { withinMs, claimTimeoutMs, releaseReserveMs } = issue.answer;
    expect(claimTimeoutMs + issue.publisher.timeoutMs + releaseReserveMs).to.be.at.most(withinMs);
    expect(claimTimeoutMs, 'a claim waits for its replica within the claim step').to.be.above(issue.redis.replicaAckTimeoutMs);
  });

  it('when claim sets are rebuilt after a failover, then the rebuild waits out every request that may still answer 202 for a claim on the old master', () => {
    expect(coupon.ledgerRebuild.settleMs).to.be.at.least(issue.answer.withinMs);
  });
});
