import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import knex from 'knex';
import { asUser, eventually, http, isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import { start as startCoupon } from '../src/main';

const ADMIN = asUser('coupon-service', 1, 'ADMIN');

describe('coupon-service at start', function () {
  this.timeout(120_000);
  const overrides = isolatedOverrides({ kafka: { topicPrefix: `test-${RUN_ID}-start.` }, coupon: { writeBack: { intervalMs: 200 } } });

  it('when issued counts were left out of sync (a crash between rows and write-back), then the first pass after start repairs them', async () => {
    let coupon = await startCoupon({ port: 0, configServerUrl: null, overrides });
    const now = Date.now();
    const created = await http('POST', `${coupon.url}/coupons`, {
      headers: ADMIN,
      body: { title: `repair ${RUN_ID}`, totalQuantity: 10, discountAmount: 100, issueStartAt: new Date(now - 60_000).toISOString(), issueEndAt: new Date(now + 3_600_000).toISOString() },
    });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const id = created.body.id as number;
    const m = coupon.config().mysql;
    await coupon.stop();
    const db = knex({ client: 'mysql2', connection: { host: m.host, port: m.port, user: m.user, password: m.password, database: m.database, timezone: 'Z' }, pool: { min: 0, max: 1 } });
    try {
      // Three rows the consumer wrote, and a count that never caught up.
      await db('issued_coupons').insert([1, 2, 3].map((u) => ({ coupon_id: id, user_id: 900_000 + u, event_id: `repair-${RUN_ID}-${u}`, issued_at: new Date() })));
      await db('coupons').where({ id }).update({ issued_quantity: 0 });
      coupon = await startCoupon({ port: 0, configServerUrl: null, overrides });
      try {
        await eventually(async () => Number((await db('coupons').where({ id }).first('issued_quantity')).issued_quantity) === 3, 10_000);
        expect((await http('GET', `${coupon.url}/coupons/${id}`)).body.issuedQuantity).to.equal(3);
      } finally {
        await coupon.stop();
      }
    } finally {
      await db.destroy();
    }
  });

  it('when a value of its configuration is invalid, then the process refuses to start, naming the key, and exits 1', () => {
    const main = path.join(__dirname, '../src/main.js');
    const run = spawnSync(process.execPath, [main], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        ...process.env,
        PORT: '0',
        CONFIG_SERVER_URL: 'http://127.0.0.1:9',
        APP_CONFIG_JSON: JSON.stringify(isolatedOverrides({ coupon: { writeBack: { intervalMs: 'often' }, codes: { batchSize: 0 } } })),
      },
    });
    expect(run.status).to.equal(1);
    const failure = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((l) => l.message === 'startup failed');
    expect(failure?.err, run.stderr.slice(-500))
      .to.match(/invalid configuration/)
      .and.to.match(/coupon\.writeBack\.intervalMs/)
      .and.to.match(/coupon\.codes\.batchSize/);
  });
});
