import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT, type RunningService } from '@coupon-rush/platform';
import { isolatedOverrides } from '@coupon-rush/testkit';
import { start as startCoupon } from '@coupon-rush/coupon-service';
import { start as startIssue } from '@coupon-rush/issue-coupon-service';
import { start as startUser } from '@coupon-rush/user-service';
import { start as startGateway } from '@coupon-rush/gateway';

const run = promisify(execFile);
/** The bash block that follows a `<!-- walkthrough:NAME -->` marker in `file` (README.md or a page of docs/). */
function walkthrough(file: string, name: string): string {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const m = new RegExp(`<!-- walkthrough:${name} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!m) throw new Error(`${file} has no walkthrough:${name} block`);
  return m[1];
}

/** Runs a walk-through as written, its gateway replaced by this run's; its output lines. */
async function runAgainst(gateway: string, block: string): Promise<string[]> {
  expect(block).to.match(/^G=http:\/\/127\.0\.0\.1:8080$/m);
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', block.replace(/^G=.*$/m, `G=${gateway}`)], { timeout: 60_000 });
  return stdout.trim().split('\n');
}

/**
 * The README's walk-through, run as written (bash, curl, jq) against a gateway and services of this
 * run, with the demo coupon seeded by the script `npm start` uses: if the README's commands go
 * stale, this fails.
 */
describe('the walk-throughs of README.md and docs/, run as written', function () {
  this.timeout(120_000);
  const services: Array<RunningService<unknown>> = [];
  let gateway: string;

  before(async () => {
    const overrides = isolatedOverrides();
    services.push(await startUser({ port: 0, configServerUrl: null, overrides }));
    services.push(await startCoupon({ port: 0, configServerUrl: null, overrides }));
    services.push(await startIssue({ port: 0, configServerUrl: null, overrides }));
    const gw = await startGateway({ port: 0, configServerUrl: null, overrides });
    services.push(gw);
    gateway = gw.url;
    await run(process.execPath, [path.join(REPO_ROOT, 'scripts/seed-demo.js')], { env: { ...process.env, GATEWAY_URL: gateway } });
  });
  after(async () => {
    for (const s of services.reverse()) await s.stop();
  });

  it("when the README's first rush is run, then the user signs up, logs in, is issued the demo coupon, holds it, and is told where to watch it", async () => {
    const lines = await runAgainst(gateway, walkthrough('README.md', 'first-rush'));
    const [signedUp, claimed, held] = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(signedUp)
      .to.have.property('email')
      .that.match(/^first-/);
    expect(claimed).to.include({ status: 'ACCEPTED' });
    expect(held).to.include({ couponId: claimed.couponId, state: 'USABLE', title: 'Demo flash coupon' });
    expect(lines).to.include(`console: ${gateway}/console/ (admin@coupon.local / admin1234!), open coupon ${claimed.couponId}`);
    expect(lines.at(-1)).to.match(/^trace: (http:\/\/127\.0\.0\.1:9411\/zipkin\/traces\/[0-9a-f]{32}|not sampled; )/);
  });

  it('when the after-the-claim walk-through (docs/coupons.md) is run, then each step answers what its comment says', async () => {
    const lines = await runAgainst(gateway, walkthrough('docs/coupons.md', 'after-the-claim'));
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const [signedUp, claimed, held, used, refused, usedAgain, usage] = json;
    expect(signedUp)
      .to.have.property('email')
      .that.match(/^shopper-/);
    expect(claimed).to.include({ status: 'ACCEPTED' });
    expect(held).to.include({ couponId: claimed.couponId, state: 'USABLE', title: 'Demo flash coupon' });
    expect(used).to.include({ orderId: 'order-1', orderAmount: 25000, discountAmount: 3000, payableAmount: 22000 });
    expect(refused).to.include({ status: 409, code: 'COUPON_ALREADY_USED' });
    expect(lines).to.include('cancel order-1: 204');
    expect(usedAgain).to.include({ orderId: 'order-2', payableAmount: 22000 });
    // The first rush's user holds the demo coupon too, unused.
    expect(usage).to.include({ couponId: claimed.couponId, issued: 2, used: 1, expired: 0, usable: 1 });
    expect(lines.slice(-2)).to.deep.equal(['userId,issuedAt,state,usableUntil,usedAt,orderId', `${claimed.userId},${held.issuedAt},USED,,${usedAgain.usedAt},order-2`]);
  });
});
