import crypto from 'node:crypto';
import { Router } from 'express';
import {
  FailoverWatch,
  KAFKA_ENVIRONMENT,
  REDIS_ENVIRONMENT,
  KafkaProbe,
  GATEWAY_DURATION_BUCKETS,
  RenewingProducer,
  RouteLatencyWindow,
  ServiceDirectory,
  connectRedis,
  ensureTopics,
  kafkaClient,
  runFromCommandLine,
  scrapeEach,
  startService,
  type StartOptions,
  type ServiceConfigSource,
} from '@coupon-rush/platform';
import { ClaimLedger, QueuePasses, WaitingLine, issueTopics } from '@coupon-rush/issue-contract';
import { parseConfig, type IssueCouponConfig } from './config';
import { fetchPolicy } from './data/coupon-policy-source';
import { IssueEventPublisher } from './data/issue-event-publisher';
import { PolicyCache } from './data/policy-cache';
import { RebuildRequests } from './data/rebuild-requests';
import { AnswerTally } from './domain/answer-tally';
import { AdmissionGovernor } from './domain/admission-governor';
import { SoldOutFlags } from './domain/issue-coupon';
import { hotRoutes } from './routes/issue-routes';
import { issueCouponMetrics } from './metrics';

export const NAME = 'issue-coupon-service';

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<IssueCouponConfig> = { name: NAME, parseConfig, environment: { ...REDIS_ENVIRONMENT, ...KAFKA_ENVIRONMENT } };

export function start(opts: StartOptions = {}) {
  return startService<IssueCouponConfig>(
    {
      ...CONFIG,
      async build(ctx) {
        const cfg = ctx.config();
        const redis = connectRedis(cfg.redis);
        const kafka = kafkaClient(cfg.kafka, NAME);
        const { issued: topic, specs } = issueTopics(cfg.kafka.topicPrefix);
        await ensureTopics(cfg.kafka, NAME, specs);
        const kafkaProbe = new KafkaProbe(kafka);

        const directory = new ServiceDirectory(cfg.platform.consul, ctx.logger);
        const couponService = cfg.couponService + cfg.platform.consul.serviceSuffix;
        await directory.watch(couponService);
        // The automatic admission rate reads the issue route's latency where users meet it: the gateway.
        const gatewayService = cfg.gateway.service + cfg.platform.consul.serviceSuffix;
        await directory.watch(gatewayService);

        const tally = new AnswerTally();
        const ledger = new ClaimLedger(redis, cfg.redis.keyPrefix, { replicas: cfg.redis.durableReplicas, timeoutMs: cfg.redis.replicaAckTimeoutMs }, cfg.answer.withinMs);
        // The gauges read the cache only when scraped, which starts once build has returned.
        const metrics = issueCouponMetrics(ctx.metrics, { tally, recentlyServed: (ms) => cache.recentlyServed(ms), claimedCounts: (ids) => ledger.claimedCounts(ids) });

        const cache = new PolicyCache(
          redis,
          cfg.redis.keyPrefix,
          () => ctx.config().cache,
          async (id) => {
            metrics.policyLoads.inc();
            return fetchPolicy(directory, couponService, ctx.serviceCredential(cfg.couponService), id, ctx.logger);
          },
          (tier) => metrics.cacheServed.inc({ tier }),
        );
        // Idempotent: a retried batch is written once. acks=all is set per send.
        const producer = new RenewingProducer(() => kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 50, maxRetryTime: 500 } }));
        await producer.connect();
        const publisher = new IssueEventPublisher(producer, topic, () => ctx.config().publisher, metrics.publisher);
        // Sold-out announcements between instances travel over Redis pub/sub (a subscriber needs
        // its own connection).
        const channel = `${cfg.redis.keyPrefix}coupon-sold-out`;
        const soldOut = new SoldOutFlags(
          () => ctx.config().cache.localTtlMs,
          (id) => void redis.publish(channel, String(id)).catch(() => {}),
        );
        const rebuilds = new RebuildRequests(redis, cfg.redis.keyPrefix);
        const failovers = new FailoverWatch(cfg.redis);
        const line = new WaitingLine(redis, cfg.redis.keyPrefix);
        const issueLatency = new RouteLatencyWindow(
          () => ctx.config().gateway.issueRoute,
          () => ctx.config().queue.auto.windowSeconds,
        );
        const governor = new AdmissionGovernor(
          line,
          async () => {
            // All or none: a window summed over part of the gateways would read as a quieter route.
            const { scrapes, failures } = await scrapeEach(directory.known(gatewayService), [GATEWAY_DURATION_BUCKETS], ctx.config().gateway.scrapeTimeoutMs);
            if (failures.length > 0) throw new Error(failures.map((f) => `${f.instance.id}: ${f.reason}`).join('; '));
            return issueLatency.observe(scrapes);
          },
          () => ctx.config().queue.auto,
          crypto.randomUUID(),
          ctx.logger,
          (couponId, perSecond) => metrics.queueAutoRate.set({ coupon_id: String(couponId) }, perSecond),
        );
        governor.start();
        const subscriber = redis.duplicate();
        await subscriber.subscribe(channel);
        subscriber.on('message', (_channel: string, id: string) => soldOut.mark(Number(id)));
        return {
          router: Router(),
          hotRoute: hotRoutes(
            {
              policy: (id) => cache.get(id),
              soldOut,
              ledger,
              publisher,
              outcome: (code, couponId) => {
                metrics.outcomes.inc({ code });
                if (couponId !== undefined) tally.count(couponId, code);
              },
              rebuildNeeded: (id) => rebuilds.ask(id),
              failovers,
              answerWithinMs: ctx.config().answer.withinMs,
              claimTimeoutMs: ctx.config().answer.claimTimeoutMs,
              releaseReserveMs: ctx.config().answer.releaseReserveMs,
              room: { line, passes: new QueuePasses(cfg.platform.internalToken.secret), governor, settings: () => ctx.config().queue, termsHoldMs: cfg.cache.localTtlMs },
            },
            ctx.logger,
          ),
          readiness: { redis: () => redis.ping(), kafka: () => kafkaProbe.ready() },
          close: async () => {
            await governor.stop();
            await publisher.close();
            directory.stop();
            await kafkaProbe.close();
            subscriber.disconnect();
            failovers.close();
            redis.disconnect();
          },
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
