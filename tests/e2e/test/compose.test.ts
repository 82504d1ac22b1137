import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { REPO_ROOT, createLogger, resolveServiceConfig } from '@coupon-rush/platform';
import { CONFIG as CONFIG_SERVER } from '@coupon-rush/config-server';
import { CONFIG as CONSOLE_SERVICE } from '@coupon-rush/console-service';
import { CONFIG as COUPON_SERVICE } from '@coupon-rush/coupon-service';
import { CONFIG as ISSUE_COUPON_SERVICE } from '@coupon-rush/issue-coupon-service';
import { CONFIG as USER_SERVICE } from '@coupon-rush/user-service';
import { CONFIG as GATEWAY } from '@coupon-rush/gateway';

/**
 * The compose path, checked without a Docker engine (none runs here): the image's build over
 * exactly what the Dockerfile copies, and each service's configuration as its container would
 * resolve it. Where `docker` is installed, `docker compose config` must accept the file too.
 */
describe('the compose path (Dockerfile, docker-compose.yml)', () => {
  const compose = YAML.parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });

  /** A service's environment as `docker compose up` gives it with no variables set: `${X:-default}` is the default. */
  function containerEnvironment(service: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries<unknown>(compose.services[service].environment ?? {})) {
      const text = String(value);
      const required = /\$\{(\w+):?\?[^}]*\}/.exec(text);
      if (required) throw new Error(`${service}: ${name} needs ${required[1]} set`);
      env[name] = text.replace(/\$\{\w+:?-([^}]*)\}/g, '$1');
    }
    return env;
  }

  const SERVICES = {
    'config-server': CONFIG_SERVER,
    'user-service': USER_SERVICE,
    'coupon-service': COUPON_SERVICE,
    'issue-coupon-service': ISSUE_COUPON_SERVICE,
    'console-service': CONSOLE_SERVICE,
    gateway: GATEWAY,
  };
  const logger = createLogger('compose-test', 'error');

  /** A service's configuration from config-repo's files (the config server serves the same ones) and `env`; a failure names the service and profile. */
  const resolveIn = (name: string, env: Record<string, string>) =>
    resolveServiceConfig(SERVICES[name as keyof typeof SERVICES] as typeof GATEWAY, { configServerUrl: null }, logger, env).catch((err: Error) => {
      throw new Error(`${name} (profile ${env.APP_PROFILE ?? 'dev'}): ${err.message}`);
    });

  it("when each service's container resolves its configuration (profile, variables, config-repo), then every value it needs is there and valid", async () => {
    for (const name of Object.keys(SERVICES)) {
      const env = containerEnvironment(name);
      const { config } = await resolveIn(name, env);
      expect(config.platform.port, name).to.equal(Number(env.PORT));
    }
  });

  it('when each service resolves its configuration on a developer machine (dev profile, config-repo, only the secrets set), then every value it needs is there: config-repo holds every default', async () => {
    // scripts/lib.sh's SERVICES: the port npm start waits on for each service.
    const ports = Object.fromEntries([...fs.readFileSync(path.join(REPO_ROOT, 'scripts/lib.sh'), 'utf8').matchAll(/"([a-z-]+):[\w/-]+:(\d+)"/g)].map((m) => [m[1], Number(m[2])]));
    expect(Object.keys(SERVICES), 'every service npm start starts').to.have.members(Object.keys(ports));
    for (const name of Object.keys(SERVICES)) {
      const { config } = await resolveIn(name, { JWT_SECRET: 'x'.repeat(32), DB_PASSWORD: 'coupon' });
      expect(config.platform.port, `${name}'s server.port in config-repo`).to.equal(ports[name]);
    }
  });

  it('when the sources the Dockerfile copies are built as its RUN line builds them, then tsc -b and the console page build succeed', function () {
    this.timeout(300_000);
    const dockerfile = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const copied = dockerfile
      .split('\n')
      .filter((l) => /^COPY /.test(l))
      .flatMap((l) =>
        l
          .replace(/^COPY\s+/, '')
          .split(/\s+/)
          .slice(0, -1),
      );
    expect(dockerfile, 'the image builds with tsc -b tsconfig.json').to.match(/npx tsc -b tsconfig\.json/);
    const ignored = fs
      .readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const isIgnored = (rel: string) => ignored.some((p) => rel === p || rel.split('/').includes(p) || (p.startsWith('**/') && rel.split('/').includes(p.slice(3))));
    const image = fs.mkdtempSync(path.join(os.tmpdir(), 'coupon-rush-image-'));
    try {
      for (const pattern of copied) {
        const names = pattern.includes('*') ? fs.readdirSync(REPO_ROOT).filter((n) => new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(n)) : [pattern];
        for (const name of names) fs.cpSync(path.join(REPO_ROOT, name), path.join(image, name), { recursive: true, filter: (src) => !isIgnored(path.relative(REPO_ROOT, src)) });
      }
      // npm ci's tree without the download: every package linked from this checkout's, the
      // workspaces linked to the image's own copies (and missing if the Dockerfile left them out).
      fs.mkdirSync(path.join(image, 'node_modules/@coupon-rush'), { recursive: true });
      for (const entry of fs.readdirSync(path.join(REPO_ROOT, 'node_modules'))) {
        if (entry !== '@coupon-rush') fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', entry), path.join(image, 'node_modules', entry));
      }
      for (const entry of fs.readdirSync(path.join(REPO_ROOT, 'node_modules/@coupon-rush'))) {
        const target = fs.readlinkSync(path.join(REPO_ROOT, 'node_modules/@coupon-rush', entry));
        fs.symlinkSync(target, path.join(image, 'node_modules/@coupon-rush', entry));
      }
      const build = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-b', 'tsconfig.json'], { cwd: image, encoding: 'utf8', timeout: 280_000 });
      expect(build.status, `${build.stdout}${build.stderr}`).to.equal(0);
      expect(dockerfile, 'the image bundles the console page').to.match(/node services\/console\/page\/build\.mjs/);
      const page = spawnSync(process.execPath, ['services/console/page/build.mjs'], { cwd: image, encoding: 'utf8', timeout: 120_000 });
      expect(page.status, `${page.stdout}${page.stderr}`).to.equal(0);
      expect(fs.existsSync(path.join(image, 'services/console/dist/page/assets/console.js')), 'the bundle in the image').to.equal(true);
    } finally {
      fs.rmSync(image, { recursive: true, force: true });
    }
  });

  it('when docker is installed, then docker compose config accepts the file', function () {
    // The docker CLI may be here without its compose plugin (it is on this machine).
    if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status !== 0) this.skip();
    const docker = spawnSync('docker', ['compose', 'config', '--quiet'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(docker.status, docker.stderr).to.equal(0);
  });
});
