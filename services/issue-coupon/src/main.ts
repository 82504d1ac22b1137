import crypto from 'node:crypto';
import { Router } from 'express';
import { Counter, Gauge, Histogram } from 'prom-client';
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
  scrapeInstance,
  startService,
  type StartOptions,
  type ServiceConfigSource,
} from '@coupon-rush/platform';
import { ClaimLedger, WaitingLine, issueTopics, ledgerRebuildChannel } from '@coupon-rush/issue-contract';
import { parseConfig, type IssueCouponConfig } from './config';
import { fetchPolicy } from './data/coupon-policy-source';
import { IssueEventPublisher } from './data/issue-event-publisher';
import { PolicyCache } from './data/policy-cache';
import { AnswerTally } from './domain/answer-tally';
import { AdmissionGovernor } from './domain/admission-governor';
import { SoldOutFlags } from './domain/issue-coupon';
import { QueuePasses } from './domain/queue-pass';
import { hotRoutes } from './routes/issue-routes';

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

        const outcomes = new Counter({ name: 'coupon_issue_requests_total', help: 'Issue requests by outcome code', labelNames: ['code'], registers: [ctx.metrics] });
        // Per coupon too, but only for the coupons answered in the last 10 minutes (as for the
        // stock gauge): the live console's answers by code for the coupon it watches.
        const tally = new AnswerTally();
        new Counter({
          name: 'coupon_issue_answers_total',
          help: 'Issue answers by coupon and outcome code, for coupons answered in the last 10 minutes (a coupon answered again starts from 0)',
          labelNames: ['coupon_id', 'code'],
          registers: [ctx.metrics],
          collect() {
            this.reset();
            for (const t of tally.recent(600_000)) this.inc({ coupon_id: String(t.couponId), code: t.code }, t.answers);
          },
        });
        const policyLoads = new Counter({ name: 'coupon_policy_loads_total', help: 'Coupon policies loaded from the coupon service (cache misses)', registers: [ctx.metrics] });
        const cacheServed = new Counter({
          name: 'coupon_policy_cache_requests_total',
          help: 'Policy lookups by the tier that answered (local and redis are hits)',
          labelNames: ['tier'],
          registers: [ctx.metrics],
        });
        const sendMetrics = {
          batchSize: new Histogram({ name: 'issue_event_batch_size', help: 'Issue events per Kafka send', buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [ctx.metrics] }),
          sendSeconds: new Histogram({
            name: 'issue_event_send_seconds',
            help: 'Kafka send latency of one batch (acks=all), by result',
            labelNames: ['result'],
            buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            registers: [ctx.metrics],
          }),
        };

        const cache = new PolicyCache(
          redis,
          cfg.redis.keyPrefix,
          () => ctx.config().cache,
          async (id) => {
            policyLoads.inc();
            return fetchPolicy(directory, couponService, ctx.serviceCredential(cfg.couponService), id, ctx.logger);
          },
          (tier) => cacheServed.inc({ tier }),
        );
        const ledger = new ClaimLedger(redis, cfg.redis.keyPrefix, { replicas: cfg.redis.durableReplicas, timeoutMs: cfg.redis.replicaAckTimeoutMs }, cfg.answer.withinMs);
        // Read from Redis when Prometheus scrapes: the live stock of the coupons being rushed here.
        new Gauge({
          name: 'coupon_stock_remaining',
          help: 'Coupons left to claim (total quantity minus claims in Redis), for limited coupons served in the last 10 minutes',
          labelNames: ['coupon_id'],
          registers: [ctx.metrics],
          async collect() {
            this.reset();
            const policies = cache.recentlyServed(600_000);
            const claimed = await ledger.claimedCounts(policies.map((p) => p.id)).catch(() => []);
            policies.forEach((p, i) => {
              if (Number.isFinite(claimed[i])) this.set({ coupon_id: String(p.id) }, Math.max(0, p.totalQuantity! - claimed[i]));
            });
          },
        });
        // Idempotent: a retried batch is written once. acks=all is set per send.
        const producer = new RenewingProducer(() => kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 50, maxRetryTime: 500 } }));
        await producer.connect();
        const publisher = new IssueEventPublisher(producer, topic, () => ctx.config().publisher, sendMetrics);
        // Sold-out announcements between instances travel over Redis pub/sub (a subscriber needs
        // its own connection).
        const channel = `${cfg.redis.keyPrefix}coupon-sold-out`;
        const soldOut = new SoldOutFlags(
          () => ctx.config().cache.localTtlMs,
          (id) => void redis.publish(channel, String(id)).catch(() => {}),
        );
        // A coupon whose sets await a rebuild is asked for at most twice a second per instance.
        const rebuildAsked = new Map<number, number>();
        const rebuildChannel = ledgerRebuildChannel(cfg.redis.keyPrefix);
        const rebuildNeeded = (id: number) => {
          const now = Date.now();
          if (now - (rebuildAsked.get(id) ?? 0) < 500) return;
          if (rebuildAsked.size > 10_000) rebuildAsked.clear();
          rebuildAsked.set(id, now);
          void redis.publish(rebuildChannel, String(id)).catch(() => {});
        };
        const failovers = new FailoverWatch(cfg.redis);
        const line = new WaitingLine(redis, cfg.redis.keyPrefix, ledger);
        const issueLatency = new RouteLatencyWindow(
          () => ctx.config().gateway.issueRoute,
          () => ctx.config().queue.auto.windowSeconds,
        );
        const autoRates = new Gauge({
          name: 'coupon_queue_auto_rate',
          help: 'Admissions a second of automatic waiting rooms, as this instance last set or confirmed them',
          labelNames: ['coupon_id'],
          registers: [ctx.metrics],
        });
        const governor = new AdmissionGovernor(
          line,
          async () => {
            const gateways = directory.known(gatewayService);
            const scrapes = await Promise.all(
              gateways.map(async (instance) => ({ instance, samples: await scrapeInstance(instance, [GATEWAY_DURATION_BUCKETS], ctx.config().gateway.scrapeTimeoutMs) })),
            );
            return issueLatency.observe(scrapes);
          },
          () => ctx.config().queue.auto,
          crypto.randomUUID(),
          ctx.logger,
          (couponId, perSecond) => autoRates.set({ coupon_id: String(couponId) }, perSecond),
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
                outcomes.inc({ code });
                if (couponId !== undefined) tally.count(couponId, code);
              },
              rebuildNeeded,
              failovers,
              answerWithinMs: ctx.config().answer.withinMs,
              claimTimeoutMs: ctx.config().answer.claimTimeoutMs,
              releaseReserveMs: ctx.config().answer.releaseReserveMs,
              room: { line, passes: new QueuePasses(cfg.platform.internalToken.secret), governor, settings: () => ctx.config().queue },
            },
            ctx.logger,
          ),
          readiness: { redis: () => redis.ping(), kafka: () => kafkaProbe.ready() },
          close: async () => {
            governor.stop();
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
