import { expect } from 'chai';
import { composeSources, flatten, resolvePropertySources, unflatten } from '../src';

describe('property sources', () => {
  const files: Record<string, string> = {
    'application.yml': 'a: 1\nshared: app\nlist: [1, 2, 3]\n---\non-profile: dev\nshared: app-dev\n',
    'svc.yml': 'shared: svc\nlist: [9]\n---\non-profile: dev\nonly: svc-dev\n',
  };
  const sources = resolvePropertySources('svc', ['dev'], (f) => files[f], (f) => f);

  it('when a service and profile are resolved, then the service file precedes application.yml and a profile precedes the default', () => {
    expect(sources.map((s) => s.name)).to.deep.equal(['svc.yml (document #1, profile dev)', 'svc.yml (document #0)', 'application.yml (document #1, profile dev)', 'application.yml (document #0)']);
  });

  it('when sources are composed, then higher precedence wins and lists are replaced whole', () => {
    expect(composeSources(sources)).to.deep.equal({ a: 1, shared: 'svc', list: [9], only: 'svc-dev' });
  });

  it('when nested values are flattened, then unflatten restores them', () => {
    const value = { routes: [{ id: 'x', methods: ['GET'] }], server: { port: 1 } };
    expect(flatten(value)).to.deep.equal({ 'routes[0].id': 'x', 'routes[0].methods[0]': 'GET', 'server.port': 1 });
    expect(unflatten(flatten(value))).to.deep.equal(value);
  });
});
