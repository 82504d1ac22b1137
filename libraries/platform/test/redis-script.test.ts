import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { expect } from 'chai';
import Redis from 'ioredis';
import { RedisScript } from '../src';

/** A loopback port free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('RedisScript: loaded once, called by SHA', () => {
  // A Redis of this test's own: its script cache is flushed, which the platform's must never be.
  let server: ChildProcess;
  let redis: Redis;

  before(async () => {
    const port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    // It takes a moment to listen: the client retries until it is ready.
    redis = new Redis({ port, host: '127.0.0.1', retryStrategy: (n) => (n > 50 ? null : 100) });
    redis.on('error', () => {});
    await new Promise((r) => redis.once('ready', r));
  });

  after(() => {
    redis?.disconnect();
    server?.kill('SIGTERM');
  });

  it('when the server forgot the script (SCRIPT FLUSH, as after a restart or failover), then the next call loads it again and answers', async () => {
    const script = new RedisScript(redis, "return redis.call('INCR', KEYS[1])");
    expect(await script.run(['counter'], [])).to.equal(1);
    await redis.script('FLUSH');
    expect(await script.run(['counter'], [])).to.equal(2);
    expect(await script.run(['counter'], [])).to.equal(3);
  });
});
