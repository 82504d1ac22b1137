import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { RunningService } from '@coupon-rush/platform';
import { http, inParallel, isolatedOverrides, RUN_ID } from '@coupon-rush/testkit';
import { start as startUser } from '@coupon-rush/user-service';
import { start as startGateway } from '@coupon-rush/gateway';
import { createTokenCsv } from '@coupon-rush/jmeter/token-csv';

describe('token CSV for the JMeter plans', function () {
  this.timeout(60_000);
  const services: Array<RunningService<unknown>> = [];
  const overrides = isolatedOverrides();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jmeter-csv-')), 'tokens.csv');
  let gateway: string;

  before(async () => {
    services.push(await startUser({ port: 0, configServerUrl: null, overrides }));
    const gw = await startGateway({ port: 0, configServerUrl: null, overrides });
    services.push(gw);
    gateway = gw.url;
  });

  after(async () => {
    for (const s of services.reverse()) await s.stop();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('when N users are created, then the CSV holds N "userId,token" lines and each token is that real user through the gateway', async () => {
    const users = await createTokenCsv(file, 40, `csv-test-${RUN_ID}`, (overrides.mysql as { database: string }).database);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).to.have.length(40);
    expect(new Set(lines.map((l) => l.split(',')[0])).size).to.equal(40);
    const answers = await inParallel(lines.length, 10, async (i) => {
      const [userId, token] = lines[i].split(',');
      return { userId: Number(userId), me: await http('GET', `${gateway}/api/users/me`, { token }) };
    });
    for (const { userId, me } of answers) {
      expect(me.status, JSON.stringify(me.body)).to.equal(200);
      expect(me.body).to.include({ id: userId, role: 'USER' });
    }
    expect(answers.map((a) => a.userId)).to.deep.equal(users.map((u) => u.id));
    expect(fs.statSync(file).mode & 0o077).to.equal(0);
  });
});
