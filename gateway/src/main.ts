import fs from 'node:fs';
import path from 'node:path';
import { Router } from 'express';
import { Counter, Gauge } from 'prom-client';
import YAML from 'yaml';
import {
  ServiceDirectory,
  REDIS_ENVIRONMENT,
  connectRedis,
  failFastRedisOptions,
  firstConnection,
  runFromCommandLine,
  startService,
  type StartOptions,
  type ServiceConfigSource,
} from '@coupon-rush/platform';
import { parseConfig, type GatewayConfig } from './config';
import { TokenBuckets } from './data/token-buckets';
import { UpstreamProxy } from './domain/upstream-proxy';
import { WaitingDoor } from './domain/waiting-door';
import { gatewayRoutes } from './routes/gateway-routes';

export const NAME = 'gateway';

/** The OpenAPI document of the public API, kept as YAML in the repo, served as JSON. */
export const OPENAPI_FILE = path.resolve(__dirname, '../../openapi.yaml');

function bytes(limit: string): number {
  const m = /^(\d+)\s*(kb|mb|b)?$/i.exec(limit.trim());
  if (!m) throw new Error(`bad size ${limit}`);
  return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? 'b').toLowerCase() as 'b'];
}

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<GatewayConfig> = { name: NAME, parseConfig, environment: { ...REDIS_ENVIRONMENT, JWT_SECRET: 'jwt.secret', GATEWAY_TRACE_KEY: 'gateway.traceTrust.value' } };

export function start(opts: StartOptions = {}) {
  return startService<GatewayConfig>(
    {
      ...CONFIG,
      parseJson: false,
      announceInstance: false,
      async build(ctx) {
        const cfg = ctx.config();
        // The limiters' own client: never queues a command while Redis is away and gives up on one
        // it does not answer, so a down or frozen Redis costs a request at most that timeout.
        const limiterRedis = connectRedis(cfg.redis, failFastRedisOptions(cfg.rateLimiterTimeoutMs));
        limiterRedis.on('error', () => {});
        await firstConnection(limiterRedis);
        const buckets = new TokenBuckets(limiterRedis, `${cfg.redis.keyPrefix}rate:`);
        const directory = new ServiceDirectory(cfg.platform.consul, ctx.logger, cfg.upstream.benchMillis);
        // The door's own fail-fast client: a Redis that does not answer sends the turn on to
        // issue-coupon instead of holding it. Not the limiters' 200 ms: under a crowd's backlog a
        // reply can sit unread that long, and every such turn sent on costs the platform more.
        const doorRedis = connectRedis(cfg.redis, failFastRedisOptions(cfg.waitingRoomTimeoutMs));
        doorRedis.on('error', () => {});
        await firstConnection(doorRedis);
        const door = new WaitingDoor(doorRedis, cfg.redis.keyPrefix, cfg.platform.internalToken.secret);
        const proxy = new UpstreamProxy(directory, cfg.upstream.maxSockets, cfg.platform.consul.serviceSuffix);
        const failures = new Counter({
          name: 'gateway_upstream_failures_total',
          help: 'Requests the gateway answered itself because the upstream could not (no instance, refused, timeout, failed)',
          labelNames: ['route', 'outcome'],
          registers: [ctx.metrics],
        });
        new Gauge({
          name: 'gateway_upstream_instances',
          help: 'Instances per upstream service: in rotation, or benched after refusing a connection',
          labelNames: ['service', 'state'],
          registers: [ctx.metrics],
          collect() {
            this.reset();
            for (const r of directory.rotation()) {
              this.set({ service: r.service, state: 'in_rotation' }, r.inRotation);
              this.set({ service: r.service, state: 'benched' }, r.benched);
            }
          },
        });
        new Gauge({
          name: 'gateway_discovery_panic',
          help: 'Per upstream service: 1 while every registered instance fails its health check and traffic goes to all of them anyway (panic mode), else 0',
          labelNames: ['service'],
          registers: [ctx.metrics],
          collect() {
            this.reset();
            for (const r of directory.rotation()) this.set({ service: r.service }, r.panic ? 1 : 0);
          },
        });
        const limited = new Counter({ name: 'gateway_rate_limited_total', help: 'Requests refused 429 by a rate limit', labelNames: ['limit'], registers: [ctx.metrics] });
        const unlimited = new Counter({
          name: 'gateway_rate_limiter_unavailable_total',
          help: "Requests let through unlimited because the limiter's Redis did not answer (fail open)",
          labelNames: ['limit'],
          registers: [ctx.metrics],
        });
        const turns = new Counter({
          name: 'gateway_waiting_room_turns_total',
          help: "Waiting-room turns (joins and polls): answered at the gateway's door from the room in Redis (answered_by=gateway; why: ticket, refusal), or by the service behind the route (why: no-terms, let-in, claimant, not-in-line, redis, path)",
          labelNames: ['answered_by', 'why'],
          registers: [ctx.metrics],
        });
        let warnedAt = 0;
        const { hotRoute, trustsInboundTrace, table } = gatewayRoutes(ctx.config, proxy, buckets, door, bytes(cfg.platform.bodyLimit), ctx.logger, {
          upstreamFailure: (route, outcome) => failures.inc({ route, outcome }),
          turn: (answeredBy, why) => turns.inc({ answered_by: answeredBy, why }),
          refused: (limit) => limited.inc({ limit: limit.name }),
          unavailable: (limit, err) => {
            unlimited.inc({ limit: limit.name });
            // One line every 10 s at most: an outage must not turn every request into a log line.
            if (Date.now() - warnedAt < 10_000) return;
            warnedAt = Date.now();
            ctx.logger.warn('rate limiter unavailable, letting requests through unlimited', { limit: limit.name, err: String((err as Error)?.message ?? err) });
          },
        });
        const watchAll = () =>
          Promise.all(
            table()
              .services()
              .map((s) => directory.watch(s + cfg.platform.consul.serviceSuffix)),
          );
        await watchAll();
        ctx.onRefresh(async () => {
          await watchAll();
        });
        const apiDocument = JSON.stringify(YAML.parse(fs.readFileSync(OPENAPI_FILE, 'utf8')));
        const router = Router();
        router.get('/api/docs', (_req, res) => {
          res.type('application/json').send(apiDocument);
        });
        return {
          router,
          hotRoute,
          trustsInboundTrace,
          reported: { redis: () => limiterRedis.ping() },
          close: async () => {
            directory.stop();
            proxy.close();
            limiterRedis.disconnect();
            doorRedis.disconnect();
          },
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
