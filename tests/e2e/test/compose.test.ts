import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import YAML from 'yaml';
import { REPO_ROOT, consulTokenVariable, createLogger, resolveServiceConfig } from '@coupon-rush/platform';
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

  /**
   * The secrets an operator sets for `docker compose up`: what scripts/compose-env.sh writes into
   * .env (README, Compose), here into a file of its own.
   */
  const operator: Record<string, string> = (() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coupon-rush-compose-env-'));
    try {
      const file = path.join(dir, '.env');
      const run = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/compose-env.sh'), file], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`scripts/compose-env.sh: ${run.stderr}`);
      return Object.fromEntries(
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  })();

  /** A service's environment as `docker compose up` gives it with `vars` set: `${X:?…}` is X's value (compose refuses to start without it). */
  function containerEnvironment(service: string, vars: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries<unknown>(compose.services[service].environment ?? {})) {
      env[name] = String(value).replace(/\$\{(\w+):\?[^}]*\}/g, (_, variable: string) => {
        if (!vars[variable]) throw new Error(`${service}: ${name} needs ${variable} set`);
        return vars[variable];
      });
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

  it("when each service's container resolves its configuration (profile, the operator's secrets, config-repo), then every value it needs is there and valid, and it holds its own Consul token only", async () => {
    for (const name of Object.keys(SERVICES)) {
      const env = containerEnvironment(name, operator);
      const { config } = await resolveIn(name, env);
      expect(config.platform.port, name).to.equal(Number(env.PORT));
      expect(
        Object.keys(env).filter((v) => v.startsWith('CONSUL_TOKEN_')),
        name,
      ).to.deep.equal([consulTokenVariable(name)]);
    }
  });

  it('when compose starts without its secrets, then it refuses: every secret is a required variable with no default, no password or token is written in the file, and every published port is on 127.0.0.1', () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8').replace(/^ *#.*$/gm, '');
    const secretLike = /PASSWORD|SECRET|TOKEN|_AUTH\b/;
    for (const m of text.matchAll(/\$\{(\w+)([^}]*)\}/g)) {
      expect(m[2], `\${${m[1]}${m[2]}}: required, with the README's message`).to.equal(`:?set ${m[1]}: see README (Compose)`);
    }
    for (const [name, svc] of Object.entries<any>(compose.services)) {
      for (const [variable, value] of Object.entries<unknown>(svc.environment ?? {})) {
        if (secretLike.test(variable)) expect(String(value), `${name}: ${variable}`).to.match(/^\$\{\w+:\?[^}]+\}$/);
      }
      // A secret a command or healthcheck reads inside the container ($$X) is one compose hands it.
      const scripts = JSON.stringify([svc.entrypoint, svc.command, svc.healthcheck?.test]);
      for (const [, variable] of scripts.matchAll(/\$\$\{?(\w+)/g)) expect(svc.environment ?? {}, `${name} reads ${variable}`).to.have.property(variable);
      for (const port of (svc.ports ?? []) as string[]) expect(port, `${name}'s published port`).to.match(/^127\.0\.0\.1:\d+:\d+$/);
      for (const [, argument] of scripts.matchAll(/password=(\S+)/gi)) expect(argument, `${name}: a password given on a command line`).to.match(/^\\?"?\$\$/);
    }
    for (const constant of [/change-me/i, /-p(root|coupon)\b/, /PASSWORD: '?(root|coupon)'?$/m]) expect(text, 'a constant credential').not.to.match(constant);
    // Every variable the file requires is one the operator sets (scripts/compose-env.sh writes them all).
    for (const m of text.matchAll(/\$\{(\w+):\?/g)) expect(operator, m[1]).to.have.property(m[1]);
    expect(() => containerEnvironment('user-service', { ...operator, ADMIN_PASSWORD: '' })).to.throw('ADMIN_PASSWORD needs ADMIN_PASSWORD set');
    for (const variable of Object.keys(operator).filter((v) => v.startsWith('CONSUL_')))
      expect(operator[variable], variable).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('when each service resolves its configuration on a developer machine (dev profile, config-repo, only the secrets set), then every value it needs is there: config-repo holds every default', async () => {
    // scripts/lib.sh's SERVICES: the port npm start waits on for each service.
    const ports = Object.fromEntries([...fs.readFileSync(path.join(REPO_ROOT, 'scripts/lib.sh'), 'utf8').matchAll(/"([a-z-]+):[\w/-]+:(\d+)"/g)].map((m) => [m[1], Number(m[2])]));
    expect(Object.keys(SERVICES), 'every service npm start starts').to.have.members(Object.keys(ports));
    // What load_secrets exports to every process npm start starts: each of infra/lib.sh's SECRET_NAMES.
    const names = /^SECRET_NAMES=\(([^)]*)\)/m
      .exec(fs.readFileSync(path.join(REPO_ROOT, 'infra/lib.sh'), 'utf8'))![1]
      .split(/\s+/)
      .filter(Boolean);
    expect(names, "infra/lib.sh's SECRET_NAMES").to.include.members(['JWT_SECRET', 'DB_PASSWORD', ...Object.keys(SERVICES).map(consulTokenVariable)]);
    const secrets = Object.fromEntries(names.map((name) => [name, name.startsWith('CONSUL_') ? randomUUID() : `${name}-${'x'.repeat(32)}`]));
    for (const name of Object.keys(SERVICES)) {
      const { config } = await resolveIn(name, secrets);
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
