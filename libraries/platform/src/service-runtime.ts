import type http from 'node:http';
import path from 'node:path';
import express, { type Express, type Router } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { loadConfig, type LoadedConfig } from './config-client';
import { ConfigReader, durationMillis } from './config-reader';
import { registerInstance, type ConsulSettings } from './discovery';
import { errorHandler, notFoundHandler } from './errors';
import { listen } from './http-server';
import { httpRequestTimer, routeOf } from './http-metrics';
import { createLogger, type Logger } from './logger';
import { deepMerge } from './property-sources';
import { bindIdentity } from './identity';
import { InternalTokenMinter, createInternalTokenVerifier, createTokenKey } from './tokens';
import { shutdownTelemetry, traceSampler, tracedRequests } from './tracing';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** Settings every service has, read from application.yml. */
export interface PlatformSettings {
  port: number;
  /** Interface to listen on: loopback natively, 0.0.0.0 in a container. */
  host: string;
  bodyLimit: string;
  requestTimeoutMs: number;
  consul: ConsulSettings & { register: boolean; serviceSuffix: string; advertiseAddress: string; registrationCheckMs: number };
  /** Share of new traces recorded (requests arriving with a sampled parent always are). */
  traceSampleRatio: number;
  /**
   * Where /metrics, /refresh and the detailed /health/ready are served when they must not be on
   * the public port (Spring Boot's management.server.port): absent, they share the service's port.
   */
  management?: { port: number; host: string };
  /** The key of the tokens the platform's processes relay to one another (not the users' JWT key), and their life. */
  internalToken: { secret: string; ttlSeconds: number };
}

/**
 * Consul's check of every instance, Prometheus and compose's healthcheck all ask /health/ready;
 * one round of dependency probes answers every ask within this window (and every ask made while
 * it runs), so readiness costs one query per dependency a second however often it is asked.
 */
const READINESS_REUSE_MS = 1000;

/** The last result of `produce`, reused while it runs and for `reuseMs` after it settled. */
function sharedFor<T>(reuseMs: number, produce: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | undefined;
  let staleAt = Infinity;
  return () => {
    if (!current || Date.now() >= staleAt) {
      const next = produce();
      current = next;
      staleAt = Infinity;
      void next
        .finally(() => {
          if (current === next) staleAt = Date.now() + reuseMs;
        })
        .catch(() => {});
    }
    return current;
  };
}

export function readPlatformSettings(r: ConfigReader): PlatformSettings {
  return {
    port: r.number('server.port', { min: 0, max: 65535 }),
    host: r.string('server.host'),
    bodyLimit: r.string('server.bodyLimit'),
    requestTimeoutMs: r.number('server.requestTimeoutMs', { min: 100 }),
    consul: {
      host: r.string('consul.host'),
      port: r.number('consul.port'),
      token: r.string('consul.token'),
      // No fallbacks here: application.yml holds these defaults, the one place to read them.
      checkInterval: r.duration('consul.checkInterval'),
      checkTimeout: r.duration('consul.checkTimeout'),
      deregisterCriticalAfter: r.duration('consul.deregisterCriticalAfter'),
      register: r.boolean('consul.register'),
      // The address other processes reach this instance at (a container's name under compose).
      advertiseAddress: r.string('consul.advertiseAddress'),
      registrationCheckMs: r.number('consul.registrationCheckMs', { min: 100 }),
      // Appended to every service name registered or looked up: a test run's instances form a
      // separate set that never mixes with those of a running `npm start`.
      serviceSuffix: r.optionalString('consul.serviceSuffix') ?? '',
    },
    traceSampleRatio: r.number('tracing.sampleRatio', { min: 0, max: 1 }),
    management: readManagement(r),
    internalToken: { secret: r.string('internalToken.secret'), ttlSeconds: r.number('internalToken.ttlSeconds', { min: 1, max: 300 }) },
  };
}

function readManagement(r: ConfigReader): PlatformSettings['management'] {
  const port = r.optionalNumber('management.port', { min: 0, max: 65535 });
  if (port === undefined) return undefined;
  // An extra instance on an ephemeral port (PORT=0) would collide with the first one on a fixed
  // management port: its management port is ephemeral too (Consul's meta says which).
  return { port: r.number('server.port', { min: 0, max: 65535 }) === 0 ? 0 : port, host: r.string('management.host') };
}

export interface ServiceContext<C> {
  name: string;
  logger: Logger;
  metrics: Registry;
  config(): C;
  /** Runs after a refresh produced a new valid configuration. */
  onRefresh(listener: (next: C) => void | Promise<void>): void;
  /**
   * The `Authorization` value of a call this service makes to `service` (its name without the run's
   * Consul suffix): an internal token for this service's own identity, reused while it is fresh.
   */
  serviceCredential(service: string): string;
}

export interface ServiceParts {
  /** Mounted at the root; routes are thin and call domain functions. */
  router: Router;
  /** Each named dependency must answer for /health/ready to pass. */
  readiness?: Record<string, () => Promise<unknown>>;
  /** Dependencies shown in /health/ready without failing it: the routes keep working without them. */
  reported?: Record<string, () => Promise<unknown>>;
  /**
   * A hot route answered straight from node's HTTP server, before Express: returns true when it
   * took the request. Express costs several times a plain handler per request (measured).
   */
  hotRoute?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /**
   * For the service at the edge: whether this request's traceparent is honoured. Without it every
   * caller's is (the services behind the gateway trust the gateway's).
   */
  trustsInboundTrace?: (req: http.IncomingMessage) => boolean;
  close?: () => Promise<void>;
}

export interface ServiceDefinition<C extends { platform: PlatformSettings }> {
  name: string;
  parseConfig(reader: ConfigReader): C;
  /** Environment variables that override config keys (secrets, ports). */
  environment?: Record<string, string>;
  build(ctx: ServiceContext<C>): Promise<ServiceParts>;
  /** False for services that stream bodies through (the gateway). */
  parseJson?: boolean;
  /**
   * False at the edge: its public answers name no instance (x-served-by is for the traffic
   * between the gateway and the services, where it shows the round-robin).
   */
  announceInstance?: boolean;
}

export interface StartOptions {
  port?: number;
  profile?: string;
  configServerUrl?: string | null;
  configLabel?: string;
  /** Highest-precedence values; tests use them for their own databases, topics and prefixes. */
  overrides?: Record<string, unknown>;
}

export interface RunningService<C> {
  name: string;
  port: number;
  url: string;
  /** Where /metrics, /refresh and the detailed readiness are: the management port, or `url`. */
  managementUrl: string;
  instanceId?: string;
  config(): C;
  configOrigin(): LoadedConfig['origin'];
  refresh(): Promise<{ version: string | null; origin: LoadedConfig['origin'] }>;
  stop(): Promise<void>;
}

/** The environment variable that carries the internal token key (a secret, never in config-repo). */
export const INTERNAL_TOKEN_ENVIRONMENT = { INTERNAL_TOKEN_SECRET: 'internalToken.secret' };

/** Every process reads these (the internal token key too: each one verifies, and may call, the others). */
const BASE_ENVIRONMENT: Record<string, string> = {
  ...INTERNAL_TOKEN_ENVIRONMENT,
  PORT: 'server.port',
  HOST: 'server.host',
  CONSUL_HOST: 'consul.host',
  CONSUL_PORT: 'consul.port',
  ADVERTISE_ADDRESS: 'consul.advertiseAddress',
};

/** The variable that carries a service's own Consul token: user-service reads CONSUL_TOKEN_USER_SERVICE. */
export function consulTokenVariable(service: string): string {
  return `CONSUL_TOKEN_${service.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Named variables (secrets, ports) plus APP_CONFIG_JSON, a JSON object merged over everything
 * else, like SPRING_APPLICATION_JSON: how a separately started instance gets test settings.
 */
function fromEnvironment(mapping: Record<string, string>, env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = env.APP_CONFIG_JSON ? JSON.parse(env.APP_CONFIG_JSON) : {};
  for (const [variable, key] of Object.entries(mapping)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const parts = key.split('.');
    let node = out;
    parts.slice(0, -1).forEach((p) => (node = (node[p] ??= {}) as Record<string, unknown>));
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** What a service's configuration is made of: its name, how it reads and checks the result, its variables. */
export type ServiceConfigSource<C extends { platform: PlatformSettings }> = Pick<ServiceDefinition<C>, 'name' | 'parseConfig' | 'environment'>;

/**
 * A service's configuration as it starts with (and refreshes to): the config server's property
 * sources (or config-repo's files when it is down or not asked), the variables of `env`, then the
 * overrides; parsed and checked by the service, so a missing or bad value throws.
 */
export async function resolveServiceConfig<C extends { platform: PlatformSettings }>(
  def: ServiceConfigSource<C>,
  opts: StartOptions,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<{ config: C; loaded: LoadedConfig }> {
  const profile = opts.profile ?? env.APP_PROFILE ?? 'dev';
  const serverUrl = opts.configServerUrl === null ? undefined : (opts.configServerUrl ?? env.CONFIG_SERVER_URL ?? 'http://127.0.0.1:8888');
  const loaded = await loadConfig(
    {
      application: def.name,
      profile,
      serverUrl,
      label: opts.configLabel ?? env.CONFIG_LABEL,
      fallbackRepoDir: path.join(REPO_ROOT, 'config-repo'),
    },
    logger,
  );
  const variables = fromEnvironment({ ...BASE_ENVIRONMENT, [consulTokenVariable(def.name)]: 'consul.token', ...def.environment }, env);
  const raw = deepMerge({ app: { profile } }, loaded.values, variables, opts.port === undefined ? {} : { server: { port: opts.port } }, opts.overrides);
  return { config: def.parseConfig(new ConfigReader(raw, `${def.name}/${profile} from ${loaded.origin}`)), loaded };
}

export async function startService<C extends { platform: PlatformSettings }>(def: ServiceDefinition<C>, opts: StartOptions = {}): Promise<RunningService<C>> {
  const logger = createLogger(def.name);
  const profile = opts.profile ?? process.env.APP_PROFILE ?? 'dev';
  const resolve = () => resolveServiceConfig(def, opts, logger);

  let { config, loaded } = await resolve();
  traceSampler.setRatio(config.platform.traceSampleRatio);
  const listeners: Array<(next: C) => void | Promise<void>> = [];
  const metrics = new Registry();
  metrics.setDefaultLabels({ service: def.name });
  collectDefaultMetrics({ register: metrics });
  // Who this service is to the others: tokens addressed to its Consul name are the only ones it accepts.
  const tokensOf = (platform: PlatformSettings) => {
    const key = createTokenKey(platform.internalToken.secret);
    return {
      verifier: createInternalTokenVerifier(key, def.name + platform.consul.serviceSuffix),
      minter: new InternalTokenMinter(key, def.name, platform.internalToken.ttlSeconds),
    };
  };
  let tokens = tokensOf(config.platform);
  const ctx: ServiceContext<C> = {
    name: def.name,
    logger,
    metrics,
    config: () => config,
    onRefresh: (l) => listeners.push(l),
    serviceCredential: (service) => `Bearer ${tokens.minter.forService(service + config.platform.consul.serviceSuffix)}`,
  };
  const parts = await def.build(ctx);

  const app: Express = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const separate = config.platform.management;
  const management: Express = separate ? express() : app;
  if (separate) {
    management.disable('x-powered-by');
    management.set('etag', false);
  }
  // Which instance answered: the gateway's round-robin can be seen from outside.
  let servedBy = '';
  if (def.announceInstance !== false)
    app.use((_req, res, next) => {
      if (servedBy) res.setHeader('x-served-by', servedBy);
      next();
    });
  app.get('/health/live', (_req, res) => res.json({ status: 'UP' }));
  if (separate) management.get('/health/live', (_req, res) => res.json({ status: 'UP' }));
  const probe = async (check: () => Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    // 80% of Consul's check timeout, the rest for the answer to travel. Not shorter: after an
    // event loop stalled past the deadline, its timer runs before the dependency's answer is read
    // (timers come before I/O in a loop turn), so a healthy dependency would count as down.
    const deadlineMs = Math.max(100, 0.8 * durationMillis(config.platform.consul.checkTimeout));
    try {
      await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), deadlineMs)))]);
      return 'UP';
    } catch {
      return 'DOWN';
    } finally {
      clearTimeout(timer);
    }
  };
  const gating = Object.entries(parts.readiness ?? {});
  const reported = Object.entries(parts.reported ?? {});
  const readiness = sharedFor(READINESS_REUSE_MS, async () => {
    const states = await Promise.all([...gating, ...reported].map(([, check]) => probe(check)));
    const checks: Record<string, string> = {};
    [...gating, ...reported].forEach(([name], i) => (checks[name] = states[i]));
    // A config that loaded and validated is what `config` means here: once booted, a service
    // keeps serving with it when the config server goes away.
    checks.config = 'UP';
    return { up: states.slice(0, gating.length).every((s) => s === 'UP'), checks };
  });
  management.get('/health/ready', async (_req, res) => {
    const { up, checks } = await readiness();
    res.status(up ? 200 : 503).json({ status: up ? 'UP' : 'DOWN', checks, config: loaded.origin });
  });
  // With a management port the public one (Consul's check) learns only whether it is ready, not
  // which dependency is down or where the config came from.
  if (separate)
    app.get('/health/ready', async (_req, res) => {
      const { up } = await readiness();
      res.status(up ? 200 : 503).json({ status: up ? 'UP' : 'DOWN' });
    });
  management.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  const refresh = async () => {
    const next = await resolve();
    const nextTokens = tokensOf(next.config.platform);
    config = next.config;
    loaded = next.loaded;
    tokens = nextTokens;
    traceSampler.setRatio(config.platform.traceSampleRatio);
    for (const l of listeners) await l(config);
    logger.info('configuration refreshed', { origin: loaded.origin, version: loaded.version });
    return { version: loaded.version, origin: loaded.origin };
  };
  // Like Spring's /actuator/refresh: re-reads the config server and applies it in place.
  management.post('/refresh', async (_req, res, next) => {
    try {
      res.json(await refresh());
    } catch (err) {
      next(err);
    }
  });
  if (separate) {
    management.use(notFoundHandler);
    management.use(errorHandler(logger));
  }
  if (def.parseJson !== false) app.use(express.json({ limit: config.platform.bodyLimit }));
  app.use(parts.router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));

  const hot = parts.hotRoute;
  const timeRequest = httpRequestTimer(metrics);
  const server = await listen(
    tracedRequests(
      (req: http.IncomingMessage, res: http.ServerResponse) => {
        timeRequest(req, res);
        bindIdentity(req, tokens.verifier);
        if (!hot?.(req, res)) app(req, res);
      },
      routeOf,
      parts.trustsInboundTrace,
    ),
    config.platform.port,
    config.platform.requestTimeoutMs,
    config.platform.host,
  );
  const managementServer = separate ? await listen(management, separate.port, config.platform.requestTimeoutMs, separate.host) : undefined;
  let registration: Awaited<ReturnType<typeof registerInstance>> | undefined;
  if (config.platform.consul.register) {
    try {
      registration = await registerInstance(
        config.platform.consul,
        def.name + config.platform.consul.serviceSuffix,
        server.port,
        '/health/ready',
        logger,
        config.platform.consul.registrationCheckMs,
        managementServer?.port,
      );
    } catch (err) {
      await managementServer?.close();
      await server.close();
      await parts.close?.();
      throw new Error(`${def.name}: Consul registration failed: ${String(err)}`);
    }
  }
  servedBy = registration?.id ?? `${def.name}-${server.port}`;
  logger.info('service started', { port: server.port, managementPort: managementServer?.port, profile, config: loaded.origin, version: loaded.version });

  let stopping: Promise<void> | undefined;
  return {
    name: def.name,
    port: server.port,
    url: `http://127.0.0.1:${server.port}`,
    managementUrl: `http://127.0.0.1:${managementServer?.port ?? server.port}`,
    instanceId: registration?.id,
    config: () => config,
    configOrigin: () => loaded.origin,
    refresh,
    stop: () =>
      (stopping ??= (async () => {
        await registration?.deregister();
        await Promise.all([server.close(), managementServer?.close()]);
        await parts.close?.();
        logger.info('service stopped');
      })()),
  };
}

/** One JSON line on stderr, synchronously (stderr to a pipe or file is written at once), then exit 1. */
function die(message: string, err: unknown): never {
  console.error(JSON.stringify({ level: 'error', message, timestamp: new Date().toISOString(), err: String((err as Error)?.stack ?? err) }));
  process.exit(1);
}

/**
 * For main.ts: start, then stop gracefully on SIGTERM/SIGINT; crash loudly on startup failure. An
 * error that escapes every handler leaves the process in a state nobody reasoned about (a half-
 * written answer, a claim neither confirmed nor revoked): it is logged in the services' format and
 * the process exits, so its supervisor starts a clean one and the claim sweep settles the rest.
 */
export function runFromCommandLine<C>(start: () => Promise<RunningService<C>>): void {
  process.on('uncaughtException', (err) => die('uncaught exception', err));
  process.on('unhandledRejection', (err) => die('unhandled rejection', err));
  start()
    .then((svc) => {
      const shutdown = () => {
        svc.stop().then(
          () => shutdownTelemetry().finally(() => process.exit(0)),
          () => shutdownTelemetry().finally(() => process.exit(1)),
        );
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    })
    .catch((err) => die('startup failed', err));
}
