import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigReader, REPO_ROOT, composeSources, deepMerge, resolvePropertySources } from '@coupon-rush/platform';
import { parseConfig } from '../src/config';

/** The gateway's configuration as the config server composes it from config-repo, with routes replaced when given. */
function gatewayConfig(routes?: unknown[], profile = 'dev', extra: Record<string, unknown> = {}) {
  const read = (file: string) => {
    const p = path.join(REPO_ROOT, 'config-repo', file);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  };
  const raw = deepMerge(
    composeSources(resolvePropertySources('gateway', [profile], read, (f) => f)),
    { jwt: { secret: 'a'.repeat(32) }, internalToken: { secret: 'i'.repeat(32) }, redis: { password: 'p' }, consul: { token: 't' } },
    routes ? { gateway: { routes } } : {},
    extra,
  );
  return parseConfig(new ConfigReader(raw, `gateway/${profile} from the test`));
}

describe('gateway configuration: the route table', () => {
  const good = { id: 'r', path: '/api/r', service: 'coupon-service', public: false, stripPrefix: 1, timeoutMs: 1000 };

  it("when the internal token key is the users' JWT key, then the configuration is refused: a user's own token would pass as the gateway's", () => {
    expect(() => gatewayConfig(undefined, 'dev', { internalToken: { secret: 'a'.repeat(32) } })).to.throw(/internalToken.secret must differ from jwt.secret/);
  });

  it('when config-repo is read, then every route is valid and typed', () => {
    const routes = gatewayConfig().routes;
    expect(routes.length).to.be.greaterThan(5);
    for (const r of routes) {
      expect(Number.isInteger(r.timeoutMs) && r.timeoutMs > 0, r.id).to.equal(true);
      expect(Number.isInteger(r.stripPrefix), r.id).to.equal(true);
    }
  });

  it('when a route lacks a field or holds a value that is not one, then the configuration is refused with the route and the reason', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...good, timeoutMs: undefined }, /r: timeoutMs is a whole number/],
      [{ ...good, timeoutMs: 'soon' }, /r: timeoutMs is a whole number/],
      [{ ...good, timeoutMs: 0 }, /r: timeoutMs is a whole number/],
      [{ ...good, stripPrefix: 1.5 }, /r: stripPrefix is a whole number/],
      [{ ...good, stripPrefix: 3 }, /r: stripPrefix is a whole number of the path's segments/],
      [{ ...good, public: 'yes' }, /r: public is true or false/],
      [{ ...good, methods: ['GET', 'FETCH'] }, /r: methods is a non-empty list/],
      [{ ...good, methods: [] }, /r: methods is a non-empty list/],
      [{ ...good, path: 'api/r' }, /r: path is a \/-rooted prefix/],
      [{ ...good, path: '/health/ready', stripPrefix: 0 }, /r: path \/health\/ready is the gateway's own/],
      [{ ...good, path: '/metrics', stripPrefix: 0 }, /r: path \/metrics is the gateway's own/],
      [{ ...good, service: '' }, /r: service is a Consul service name/],
      [{ ...good, id: 'a b' }, /id: letters, digits/],
      [{ ...good, rateLimits: ['nope'] }, /r: rateLimits names nope, which is not one of gateway.rateLimits/],
      [{ ...good, public: true, rateLimits: ['issues-per-user'] }, /r: a public route has no verified user to limit by/],
      [{ ...good, waitingRoom: 'yes' }, /r: waitingRoom is true or false/],
      [{ ...good, public: true, waitingRoom: true }, /r: a waiting room's turns are a verified user's/],
    ];
    for (const [route, reason] of cases) {
      let refusal = '';
      try {
        gatewayConfig([route]);
      } catch (err) {
        refusal = (err as Error).message;
      }
      expect(refusal, JSON.stringify(route))
        .to.match(/gateway\.routes\[0\]: /)
        .and.to.match(reason);
    }
  });

  it('when two routes share an id, then the configuration is refused', () => {
    expect(() => gatewayConfig([good, { ...good, path: '/api/other' }])).to.throw(/the id r is used twice/);
  });

  it('when a route is valid, then it is read as written, methods upper-cased and a trailing slash dropped', () => {
    const [route] = gatewayConfig([{ ...good, path: '/api/r/', methods: ['get'] }]).routes;
    expect(route).to.deep.equal({ ...good, path: '/api/r', methods: ['GET'], rateLimits: [], waitingRoom: false });
  });

  it('when config-repo is read for prod and for dev, then sign-ups per client are strict in prod and generous in dev, and the login and issue routes are limited', () => {
    const limitsOf = (profile: string) =>
      Object.fromEntries(gatewayConfig(undefined, profile).routes.map((r) => [r.id, r.rateLimits.map((l) => `${l.name} ${l.key} ${l.replenishRate}/s burst ${l.burstCapacity}`)]));
    expect(limitsOf('prod')).to.deep.include({
      'user-public': ['signups-per-client client 0.0167/s burst 5'],
      'user-login': ['logins-per-client client 1/s burst 30', 'logins-per-account account 0.5/s burst 10'],
      'coupon-issue': ['issues-per-user user 5/s burst 10'],
    });
    expect(limitsOf('dev')['user-public']).to.deep.equal(['signups-per-client client 100/s burst 1000']);
  });

  it('when a limiter would cost more than its burst or has an unknown key, then the configuration is refused', () => {
    const refusal = (limit: Record<string, unknown>) => () => gatewayConfig(undefined, 'dev', { gateway: { rateLimits: { odd: limit } } });
    expect(refusal({ key: 'user', replenishRate: 1, burstCapacity: 2, requestedTokens: 3 })).to.throw(/odd: requestedTokens 3 is more than burstCapacity 2/);
    expect(refusal({ key: 'ip', replenishRate: 1, burstCapacity: 2 })).to.throw(/odd.key: expected user, client or account/);
  });
});
