import { expect } from 'chai';
import { RouteTable } from '../src/domain/route-table';

describe('gateway route table', () => {
  const table = new RouteTable([
    { id: 'issue', path: '/api/coupons/*/issues', service: 'issue-coupon-service', public: false, stripPrefix: 1, timeoutMs: 3000, rateLimits: [], waitingRoom: false },
    { id: 'read', path: '/api/coupons', methods: ['GET'], service: 'coupon-service', public: true, stripPrefix: 1, timeoutMs: 5000, rateLimits: [], waitingRoom: false },
    { id: 'page', path: '/console', methods: ['GET', 'HEAD'], service: 'console-service', public: true, stripPrefix: 0, timeoutMs: 5000, rateLimits: [], waitingRoom: false },
  ]);
  const upstream = (method: string, url: string) => {
    const m = table.match(method, url);
    return m && [m.route.id, m.upstreamPath];
  };

  it('when a path matches, then the first matching route wins and its prefix is stripped, the query kept', () => {
    expect(upstream('POST', '/api/coupons/7/issues')).to.deep.equal(['issue', '/coupons/7/issues']);
    expect(upstream('GET', '/api/coupons?page=2')).to.deep.equal(['read', '/coupons?page=2']);
    expect(upstream('POST', '/api/coupons')).to.equal(undefined);
  });

  it('when a path ends with a slash, then the upstream path does too: a directory is not a file', () => {
    expect(upstream('GET', '/console/')).to.deep.equal(['page', '/console/']);
    expect(upstream('GET', '/console')).to.deep.equal(['page', '/console']);
    expect(upstream('GET', '/console/assets/console.js')).to.deep.equal(['page', '/console/assets/console.js']);
    expect(upstream('GET', '/api/coupons/')).to.deep.equal(['read', '/coupons/']);
  });
});
