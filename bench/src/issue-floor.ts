import http from 'node:http';
import { bindIdentity, callerOf, connectRedis, createInternalTokenVerifier, createLogger, createTokenKey, resolveServiceConfig } from '@coupon-rush/platform';
import { ClaimLedger } from '@coupon-rush/issue-contract';
import { CONFIG as ISSUE_COUPON } from '@coupon-rush/issue-coupon-service';
import { deleteRedisKeys } from '@coupon-rush/testkit';

/**
 * The bench's floor for issue-coupon: the least a claim needs behind the door — `node:http`, the
 * internal token verified as issue-coupon verifies it, the platform's claim (the same Lua script and the same WAIT for a replica, through
 * Sentinel) and the answer — and nothing else: no policy lookup or window check, no sold-out flags,
 * no Kafka record, no metrics, access log or tracing. issue-coupon's CPU per claim is read against
 * it. Its claims live under a prefix of their own (`BENCH_FLOOR_PREFIX`), which nothing of the
 * platform reads, and are deleted when it stops. Any coupon id is an unlimited coupon: it serves
 * the claims workload only. Prints `ISSUE_FLOOR_LISTENING <port>` once it listens.
 */
const prefix = process.env.BENCH_FLOOR_PREFIX ?? '';
if (!/^bench-floor:[\w-]+:$/.test(prefix)) throw new Error('BENCH_FLOOR_PREFIX must be bench-floor:<run>:');
const ISSUE_PATH = /^\/coupons\/(\d{1,15})\/issues$/;

function answer(res: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function main() {
  // issue-coupon's own configuration, resolved as it resolves it (config server, or config-repo): the same Redis.
  const { config } = await resolveServiceConfig(ISSUE_COUPON, {}, createLogger('issue-floor', 'warn'));
  const settings = config.redis;
  const redis = connectRedis(settings);
  const verify = createInternalTokenVerifier(createTokenKey(config.platform.internalToken.secret), ISSUE_COUPON.name);
  const ledger = new ClaimLedger(redis, prefix, { replicas: settings.durableReplicas, timeoutMs: settings.replicaAckTimeoutMs });

  // The bench's coupons are new: their claim sets open on first use, as coupon-service opens them at creation.
  const opened = new Map<number, Promise<void>>();
  const open = (couponId: number) => opened.get(couponId) ?? opened.set(couponId, ledger.open(couponId)).get(couponId)!;

  const server = http.createServer((req, res) => {
    req.resume();
    const m = req.method === 'POST' ? ISSUE_PATH.exec(req.url ?? '') : null;
    bindIdentity(req, verify);
    // How many claims it holds on `count` coupons from `from`, for the bench's count check.
    const held = req.method === 'GET' ? /^\/claims\?from=(\d{1,12})&count=(\d{1,4})$/.exec(req.url ?? '') : null;
    if (held) {
      const ids = Array.from({ length: Number(held[2]) }, (_, i) => Number(held[1]) + i);
      ledger.claimedCounts(ids).then(
        (counts) => answer(res, 200, { claims: counts.reduce((a, b) => a + b, 0) }),
        () => answer(res, 503, { code: 'CLAIM_STORE' }),
      );
      return;
    }
    if (!m) return answer(res, 404, { code: 'NOT_FOUND' });
    let userId: number;
    try {
      userId = callerOf(req).userId;
    } catch {
      return answer(res, 401, { status: 401, code: 'UNAUTHORIZED' });
    }
    const couponId = Number(m[1]);
    open(couponId)
      .then(() => ledger.claim(couponId, userId, null))
      .then(
        (claim) => (claim === 'ACCEPTED' ? answer(res, 202, { couponId, userId }) : answer(res, 409, { status: 409, code: claim })),
        () => answer(res, 503, { status: 503, code: 'ISSUE_UNAVAILABLE' }),
      );
  });
  server.keepAliveTimeout = 65_000;
  const stop = async () => {
    server.close();
    server.closeAllConnections();
    await deleteRedisKeys(redis, `${prefix}*`);
    redis.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  server.listen(0, '127.0.0.1', () => console.log(`ISSUE_FLOOR_LISTENING ${(server.address() as { port: number }).port}`));
}

main().catch((err) => {
  console.error(`issue floor failed: ${err.message}`);
  process.exit(1);
});
