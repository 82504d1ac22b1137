import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from '@coupon-rush/platform';

/** A process listening on an ephemeral port with `cwd` as its working directory, the way start_bg leaves a service. */
async function listenerIn(cwd: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', "const s = require('node:http').createServer((q, r) => r.end()).listen(0, '127.0.0.1', () => console.log(s.address().port))"], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
  });
  return { port, child };
}

/** JWT_SECRET after a scripts/lib.sh function (platform_secrets for a port, load_secrets), and what it said. */
function secretAfter(call: string): { secret: string; said: string; status: number | null } {
  const run = spawnSync('bash', ['-c', `source scripts/lib.sh && ${call} && printf 'SECRET=%s\\n' "$JWT_SECRET"`], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  return { secret: /^SECRET=(.*)$/m.exec(run.stdout)?.[1] ?? '', said: run.stderr, status: run.status };
}
const secretFor = (port: number) => secretAfter(`platform_secrets ${port}`);

describe('load runs against a platform another checkout started (platform_secrets)', () => {
  // This checkout's secrets: its run folder's, or those of the checkout whose components run (load_secrets).
  const own = secretAfter('load_secrets').secret;
  const listeners: ChildProcess[] = [];
  after(() => listeners.forEach((c) => c.kill()));

  it("when the gateway's port is held by this checkout, then the run keeps this checkout's secret", async () => {
    const { port, child } = await listenerIn(REPO_ROOT);
    listeners.push(child);
    expect(secretFor(port)).to.include({ secret: own, status: 0 });
  });

  it("when it is held by another checkout's process, then the run signs with that checkout's secret and says so", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'coupon-rush-other-checkout-'));
    fs.mkdirSync(path.join(other, '.run'));
    fs.writeFileSync(path.join(other, '.run/secrets.env'), 'JWT_SECRET=the-other-checkouts-secret\nDB_PASSWORD=coupon\n');
    const { port, child } = await listenerIn(other);
    listeners.push(child);
    const found = secretFor(port);
    expect(found).to.include({ secret: 'the-other-checkouts-secret', status: 0 });
    expect(found.said).to.include(`runs from ${other}`);
  });

  it('when the process holding it has no secrets this checkout can read, then the run stops with the reason', async () => {
    const stranger = fs.mkdtempSync(path.join(os.tmpdir(), 'coupon-rush-stranger-'));
    const { port, child } = await listenerIn(stranger);
    listeners.push(child);
    const found = secretFor(port);
    expect(found.status).to.equal(1);
    expect(found.said).to.match(/whose secrets this checkout cannot read/);
  });
});
