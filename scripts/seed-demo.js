// Creates the demo coupon through the gateway as the seeded admin, once.
const base = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080';

const { api } = require('../libraries/loadkit/dist/src');

const call = (method, path, body, token) => api(base, method, path, body, token);

(async () => {
  // The gateway learns of new instances through Consul's watch; give it a moment on a cold start.
  for (let i = 0; ; i++) {
    try {
      await call('GET', '/api/coupons?size=1');
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const { accessToken } = await call('POST', '/api/users/login', { email: 'admin@coupon.local', password: process.env.ADMIN_PASSWORD ?? 'admin1234!' });
  const existing = await call('GET', '/api/coupons?size=100');
  let demo = existing.items.find((c) => c.title === 'Demo flash coupon');
  if (!demo) {
    const now = Date.now();
    demo = await call(
      'POST',
      '/api/coupons',
      {
        title: 'Demo flash coupon',
        totalQuantity: 500,
        discountAmount: 3000,
        minOrderAmount: 10000,
        issueStartAt: new Date(now).toISOString(),
        issueEndAt: new Date(now + 30 * 24 * 3600 * 1000).toISOString(),
      },
      accessToken,
    );
  }
  console.log(`[seed] admin ready; demo coupon id ${demo.id} (${demo.totalQuantity} coupons)`);
})().catch((err) => {
  console.error(`[seed] failed: ${err.message}`);
  process.exit(1);
});
