import path from 'node:path';
import { Router } from 'express';
import {
  KafkaProbe,
  KAFKA_ENVIRONMENT,
  MYSQL_ENVIRONMENT,
  REDIS_ENVIRONMENT,
  RenewingProducer,
  connectRedis,
  ensureTopics,
  kafkaClient,
  openDatabase,
  runFromCommandLine,
  startService,
  type StartOptions,
  type ServiceConfigSource,
} from '@coupon-rush/platform';
import { ClaimLedger, issueTopics, ledgerRebuildChannel } from '@coupon-rush/issue-contract';
import { parseConfig, type CouponServiceConfig } from './config';
import { CampaignArchiveSchedule } from './domain/archive-campaigns';
import { LedgerRebuild } from './domain/ledger-rebuild';
import { StrandedClaimSweep } from './domain/stranded-claims';
import { IssuedQuantityWriteBack } from './domain/write-back';
import { CouponExpiry } from './domain/expire-coupons';
import { campaignRoutes } from './routes/campaign-routes';
import { couponRoutes } from './routes/coupon-routes';
import { redemptionHotRoute } from './routes/redemption-routes';
import { runIssueEventConsumer } from './routes/issue-event-consumer';
import { couponServiceMetrics } from './metrics';

export const NAME = 'coupon-service';

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<CouponServiceConfig> = { name: NAME, parseConfig, environment: { ...MYSQL_ENVIRONMENT, ...REDIS_ENVIRONMENT, ...KAFKA_ENVIRONMENT } };

export function start(opts: StartOptions = {}) {
  return startService<CouponServiceConfig>(
    {
      ...CONFIG,
      async build(ctx) {
        const cfg = ctx.config();
        const db = await openDatabase(cfg.mysql, { directory: path.join(__dirname, 'data/migrations'), ledger: 'knex_migrations_coupon' });
        const redis = connectRedis(cfg.redis);
        redis.on('error', (err) => ctx.logger.warn('redis unavailable', { err: String(err) }));
        const ledger = new ClaimLedger(redis, cfg.redis.keyPrefix, { replicas: cfg.redis.durableReplicas, timeoutMs: cfg.redis.replicaAckTimeoutMs });
        const kafka = kafkaClient(cfg.kafka, NAME);
        const { issued: topic, deadLetter: deadLetterTopic, specs } = issueTopics(cfg.kafka.topicPrefix);
        await ensureTopics(cfg.kafka, NAME, specs);
        const kafkaProbe = new KafkaProbe(kafka);
        const metrics = couponServiceMetrics(ctx.metrics, () => kafkaProbe.lag(cfg.consumer.groupId, topic));

        const writeBack = new IssuedQuantityWriteBack(db, ctx.logger);
        await writeBack.start(() => ctx.config().writeBack.intervalMs);
        const expiry = new CouponExpiry(db, metrics.expired, ctx.logger);
        expiry.start(() => ctx.config().expiry);
        const deadLetters = new RenewingProducer(() => kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
        await deadLetters.connect();
        // The broker holds a fetch until 16 kB (~150 events) or 100 ms have gathered: under a crowd
        // a batch then carries a hundred rows instead of a dozen, and each batch is a transaction.
        // A killed consumer holds its partitions until its session expires, and the restarted one
        // joins only then: 10 s instead of kafkajs' 30 s (heartbeats every second keep it alive).
        const consumer = kafka.consumer({
          groupId: cfg.consumer.groupId,
          maxBytesPerPartition: 4 * 1024 * 1024,
          minBytes: 16 * 1024,
          maxWaitTimeInMs: 100,
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
        });
        await consumer.connect();
        await runIssueEventConsumer({
          consumer,
          deadLetters,
          topic,
          deadLetterTopic,
          db,
          ledger,
          logger: ctx.logger,
          retries: cfg.consumer.retries,
          deadLettered: metrics.deadLettered,
          persistRetries: metrics.persistRetries,
          onPersisted: (ids, rows) => {
            writeBack.mark(ids);
            metrics.rowsPersisted.inc(rows);
          },
        });

        const strandedSweep = new StrandedClaimSweep(
          db,
          ledger,
          () => ctx.config().strandedClaims,
          ctx.logger,
          (n) => metrics.strandedReleased.inc(n),
        );
        strandedSweep.start();

        const ledgerRebuild = new LedgerRebuild({
          redis,
          ledger,
          db,
          kafka: kafkaProbe,
          redisSettings: cfg.redis,
          topic,
          groupId: cfg.consumer.groupId,
          settings: () => ctx.config().ledgerRebuild,
          logger: ctx.logger,
          rebuilt: () => metrics.rebuilds.inc(),
        });
        // issue-coupon asks over pub/sub (a subscriber needs a connection of its own). Not awaited:
        // campaigns and codes serve without Redis, and the subscription is made once it is back.
        const rebuildRequests = redis.duplicate();
        rebuildRequests.on('error', () => {});
        void rebuildRequests.subscribe(ledgerRebuildChannel(cfg.redis.keyPrefix)).catch((err) => ctx.logger.warn('rebuild requests not subscribed', { err: String(err) }));
        rebuildRequests.on('message', (_channel: string, id: string) => {
          const couponId = Number(id);
          if (Number.isSafeInteger(couponId) && couponId > 0) ledgerRebuild.request(couponId);
        });

        const archive = new CampaignArchiveSchedule(db, () => ctx.config().archive, ctx.logger, metrics.archiveRun);
        archive.start();

        const router = Router();
        // An unpublished claim is in flight until the sweep would deem it stranded.
        router.use(couponRoutes(db, ledger, () => ctx.config().strandedClaims.staleAfterMs));
        router.use(
          campaignRoutes({
            db,
            archive,
            codeBatchSize: () => ctx.config().codes.batchSize,
          }),
        );
        return {
          router,
          hotRoute: redemptionHotRoute(db, (code) => metrics.redemptions.inc({ code }), ctx.logger),
          // Redis serves only reconciliation and the consumer's confirmations (which retry on their
          // own), Kafka only the consumer; campaigns and code redemptions are MySQL only and must
          // stay routable without either: both are reported, neither takes the instance out.
          readiness: { mysql: () => db.raw('SELECT 1') },
          reported: { redis: () => redis.ping(), kafka: () => kafkaProbe.ready() },
          close: async () => {
            await archive.stop();
            await strandedSweep.stop();
            rebuildRequests.disconnect();
            await ledgerRebuild.stop();
            await consumer.disconnect();
            await kafkaProbe.close();
            await deadLetters.disconnect();
            await writeBack.stop();
            await expiry.stop();
            redis.disconnect();
            await db.destroy();
          },
        };
      },
    },
    opts,
  );
}

if (require.main === module) runFromCommandLine(start);
