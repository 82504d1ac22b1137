import type http from 'node:http';
import express, { type Express, type Router } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { LoadedConfig } from './config-client';
import { durationMillis } from './config-reader';
import { registerInstance } from './discovery';
import { errorHandler, notFoundHandler } from './errors';
import { readinessOf } from './health';
import { listen } from './http-server';
import { httpRequestTimer, routeOf } from './http-metrics';
import { createLogger, type Logger } from './logger';
import { bindIdentity } from './identity';
import type { PlatformSettings } from './platform-settings';
import { resolveServiceConfig, type ServiceConfigSource, type StartOptions } from './service-config';
import { InternalTokenMinter, createInternalTokenVerifier, createTokenKey } from './tokens';
import { shutdownTelemetry, traceSampler, tracedRequests } from './tracing';

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

export interface ServiceDefinition<C extends { platform: PlatformSettings }> extends ServiceConfigSource<C> {
  build(ctx: ServiceContext<C>): Promise<ServiceParts>;
  /** False for services that stream bodies through (the gateway). */
  parseJson?: boolean;
  /**
   * False at the edge: its public answers name no instance (x-served-by is for the traffic
   * between the gateway and the services, where it shows the round-robin).
   */
  announceInstance?: boolean;
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
  // 80% of Consul's check timeout, the rest for the answer to travel (health.ts says why not less).
  const readiness = readinessOf(parts, () => Math.max(100, 0.8 * durationMillis(config.platform.consul.checkTimeout)));
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
