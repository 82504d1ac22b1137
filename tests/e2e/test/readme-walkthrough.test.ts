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
const README = path.join(REPO_ROOT, 'README.md');

/** The bash block that follows a `<!-- walkthrough:NAME -->` marker in the README. */
function walkthrough(name: string): string {
  const text = fs.readFileSync(README, 'utf8');
  const m = new RegExp(`<!-- walkthrough:${name} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!m) throw new Error(`README.md has no walkthrough:${name} block`);
  return m[1];
}

/**
 * The README's walk-through, run as written (bash, curl, jq) against a gateway and services of this
 * run, with the demo coupon seeded by the script `npm start` uses: if the README's commands go
 * stale, this fails.
 */
describe('the README walk-through after the claim: claim, use at checkout, cancel, use again', function () {
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

  it('when the block is run as written, then each step answers what its comment says', async () => {
    const block = walkthrough('after-the-claim');
    expect(block).to.match(/^G=http:\/\/127\.0\.0\.1:8080$/m);
    const script = block.replace(/^G=.*$/m, `G=${gateway}`);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { timeout: 60_000 });
    const lines = stdout.trim().split('\n');
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
    expect(usage).to.include({ couponId: claimed.couponId, issued: 1, used: 1, expired: 0, usable: 0 });
    expect(lines.slice(-2)).to.deep.equal(['userId,issuedAt,state,usableUntil,usedAt,orderId', `${claimed.userId},${held.issuedAt},USED,,${usedAgain.usedAt},order-2`]);
  });
});
