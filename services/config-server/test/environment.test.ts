import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { RunningService } from '@coupon-rush/platform';
import { http, isolatedOverrides } from '@coupon-rush/testkit';
import { start } from '../src/main';

describe('config server', () => {
  let server: RunningService<unknown>;
  let repo: string;
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { encoding: 'utf8' }).trim();

  before(async () => {
    repo = fs.mkdtempSync(path.join(os.tmpdir(), 'config-repo-'));
    git('init', '-q', '-b', 'main');
    fs.mkdirSync(path.join(repo, 'config-repo'));
    fs.writeFileSync(path.join(repo, 'config-repo/application.yml'), 'greeting: hello\nshared: base\n---\non-profile: dev\nshared: dev\n');
    fs.writeFileSync(path.join(repo, 'config-repo/demo-service.yml'), 'greeting: from-demo\n');
    git('add', '.');
    git('commit', '-qm', 'first');
    git('tag', 'v1');
    server = await start({ port: 0, overrides: { ...isolatedOverrides(), git: { uri: repo } } });
  });

  after(async () => {
    await server?.stop();
    fs.rmSync(repo, { recursive: true, force: true });
  });

  it('when an application and profile are asked, then property sources come in Spring order with the commit as version', async () => {
    const res = await http('GET', `${server.url}/demo-service/dev`);
    expect(res.status).to.equal(200);
    expect(res.body.version).to.equal(git('rev-parse', 'HEAD'));
    expect(res.body.propertySources.map((s: any) => s.source)).to.deep.equal([{ greeting: 'from-demo' }, { shared: 'dev' }, { greeting: 'hello', shared: 'base' }]);
  });

  it('when a file changes in the work tree only, then it is not served until committed', async () => {
    fs.writeFileSync(path.join(repo, 'config-repo/demo-service.yml'), 'greeting: uncommitted\n');
    expect((await http('GET', `${server.url}/demo-service/default`)).body.propertySources[0].source.greeting).to.equal('from-demo');
    git('commit', '-qam', 'second');
    expect((await http('GET', `${server.url}/demo-service/default`)).body.propertySources[0].source.greeting).to.equal('uncommitted');
  });

  it('when a tag is given as label, then the files of that tag are served', async () => {
    const res = await http('GET', `${server.url}/demo-service/default/v1`);
    expect(res.body.label).to.equal('v1');
    expect(res.body.propertySources[0].source.greeting).to.equal('from-demo');
  });

  it('when the label does not exist or names are malformed, then 4xx with a code', async () => {
    expect((await http('GET', `${server.url}/demo-service/default/nope`)).body.code).to.equal('LABEL_NOT_FOUND');
    expect((await http('GET', `${server.url}/demo-service/default/..%2F..`)).status).to.be.within(400, 404);
    expect((await http('GET', `${server.url}/Demo_Service/default`)).body.code).to.equal('VALIDATION_FAILED');
  });
});
