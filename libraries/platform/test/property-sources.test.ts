import { expect } from 'chai';
import { composeSources, deepMerge, flatten, resolvePropertySources, unflatten } from '../src';

describe('property sources', () => {
  const files: Record<string, string> = {
    'application.yml': 'a: 1\nshared: app\nlist: [1, 2, 3]\n---\non-profile: dev\nshared: app-dev\n',
    'svc.yml': 'shared: svc\nlist: [9]\n---\non-profile: dev\nonly: svc-dev\n',
  };
  const sources = resolvePropertySources(
    'svc',
    ['dev'],
    (f) => files[f],
    (f) => f,
  );

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

  it('when config text names __proto__, constructor or prototype in a key, then it is refused and no object of the process changes', () => {
    const before = Object.keys(Object.prototype);
    for (const key of ['__proto__.polluted', 'a.__proto__.polluted', 'a.constructor.prototype.polluted', 'list[0].__proto__.polluted']) {
      expect(() => unflatten({ [key]: 'yes' }), key).to.throw(/not allowed in a key/);
    }
    const yaml = resolvePropertySources(
      'svc',
      [],
      (f) => (f === 'svc.yml' ? '__proto__:\n  polluted: yes\n' : undefined),
      (f) => f,
    );
    expect(() => composeSources(yaml)).to.throw(/not allowed in a key/);
    expect(() => deepMerge({}, JSON.parse('{"__proto__": {"polluted": "yes"}}'))).to.throw(/not allowed in a key/);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(Object.keys(Object.prototype)).to.deep.equal(before);
  });
});
