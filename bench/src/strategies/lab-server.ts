import http from 'node:http';
import {
  AppError,
  bindIdentity,
  bodilessPostRoute,
  callerOf,
  connectRedis,
  createInternalTokenVerifier,
  createLogger,
  createTokenKey,
  positiveId,
  resolveServiceConfig,
  sendError,
} from '@coupon-rush/platform';
import { CONFIG as COUPON_SERVICE } from '@coupon-rush/coupon-service';
import { start as startIssueCoupon } from '@coupon-rush/issue-coupon-service';
import { alreadyIssued, couponNotFound, issueUnavailable, soldOut, windowClosed } from '@coupon-rush/issue-coupon-service/refusals';
import { LAB_CLAIMS, type ClaimAnswer, type LabStrategy } from './claims';
import { openLabDatabase } from './lab-store';

/**
 * One instance of the strategy lab (the bench starts two): POST /coupons/:id/issues with the
 * internal token the gateway relays (verified as issue-coupon verifies it), answered by one strategy of claims.ts with the platform's
 * answers (202 {couponId,userId,status}, problem+json refusals), through the platform's bodiless
 * hot route. For `lua-kafka` the instance is the real issue-coupon service instead, on the run's
 * own topics, key prefix and Consul names. Environment: LAB_STRATEGY, LAB_OVERRIDES (the run's
 * config overrides: database, Redis key prefix, topic prefix, Consul suffix). Prints
 * `LAB_LISTENING <port>` once it listens; SIGTERM stops it.
 */
const strategy = process.env.LAB_STRATEGY ?? '';
const overrides = JSON.parse(process.env.LAB_OVERRIDES ?? '{}') as Record<string, unknown>;
const logger = createLogger('strategy-lab', 'warn');

// The issue path's own refusals, so a lab answer reads like the platform's.
const REFUSALS: Record<Exclude<ClaimAnswer, 'ISSUED'>, (couponId: number) => AppError> = {
  COUPON_NOT_FOUND: couponNotFound,
  ISSUE_WINDOW_CLOSED: windowClosed,
  SOLD_OUT: soldOut,
  ALREADY_ISSUED: alreadyIssued,
};

function listening(port: number, stop: () => Promise<void>): void {
  const shutdown = () =>
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  // shutdown settles both ways itself (exit 0 or 1): nothing is left to reject.
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  console.log(`LAB_LISTENING ${port}`);
}

async function serveLabStrategy(name: LabStrategy): Promise<void> {
  // coupon-service's configuration as it resolves it from config-repo: the same MariaDB and Redis.
  const { config } = await resolveServiceConfig(COUPON_SERVICE, { configServerUrl: null, overrides }, logger);
  const db = await openLabDatabase(config.mysql, config.mysql.database);
  const redis = connectRedis(config.redis);
  const claim = LAB_CLAIMS[name]({ db, redis, prefix: config.redis.keyPrefix, durability: { replicas: config.redis.durableReplicas, timeoutMs: config.redis.replicaAckTimeoutMs } });
  const issue = bodilessPostRoute(/^\/coupons\/([^/?]*)\/issues$/, '/coupons/:id/issues', logger, async (req, rawId) => {
    const [couponId, { userId }] = [positiveId(rawId), callerOf(req)];
    let answer: ClaimAnswer;
    try {
      answer = await claim(couponId, userId);
    } catch (err) {
      logger.warn('claim failed', { strategy: name, err: String(err) });
      throw issueUnavailable(name);
    }
    if (answer !== 'ISSUED') throw REFUSALS[answer](couponId);
    return { status: 202, body: { couponId, userId, status: 'ACCEPTED' } };
  });
  const verify = createInternalTokenVerifier(createTokenKey(config.platform.internalToken.secret), `issue-coupon-service${config.platform.consul.serviceSuffix}`);
  const server = http.createServer((req, res) => {
    bindIdentity(req, verify);
    if (!issue(req, res)) sendError(logger, req, res, new AppError('NOT_FOUND', 404, `No route for ${req.method} ${req.url}`));
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () =>
    listening((server.address() as { port: number }).port, async () => {
      server.close();
      server.closeAllConnections();
      redis.disconnect();
      await db.destroy();
    }),
  );
}

async function main() {
  if (strategy === 'lua-kafka') {
    // The platform's own path, unchanged: policy look-aside through coupon-service (found in
    // Consul), the Lua claim, the acknowledged Kafka record before the 202.
    const service = await startIssueCoupon({ port: 0, configServerUrl: null, overrides });
    listening(service.port, () => service.stop());
  } else if (strategy in LAB_CLAIMS) {
    await serveLabStrategy(strategy as LabStrategy);
  } else {
    throw new Error(`LAB_STRATEGY must be lua-kafka or one of ${Object.keys(LAB_CLAIMS).join(', ')}`);
  }
}

main().catch((err) => {
  console.error(`strategy lab failed: ${err.stack ?? err}`);
  process.exit(1);
});
