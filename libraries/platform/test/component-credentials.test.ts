import { expect } from 'chai';
import Redis from 'ioredis';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import mysql from 'mysql2/promise';

/**
 * One question to a Redis node or Sentinel, with no retry: the answer, or the server's refusal
 * (ioredis reports a refused login as an error event and then a closed connection).
 */
async function ask(port: number, command: string[], login: { username?: string; password?: string } = {}): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', ...login, enableReadyCheck: false, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let refusal: string | undefined;
  client.on('error', (err: Error) => (refusal ??= err.message));
  try {
    await client.connect();
    return String(await client.call(command[0], ...command.slice(1)));
  } catch (err) {
    return refusal ?? (err as Error).message;
  } finally {
    client.disconnect();
  }
}

/** Lists the topics as `sasl` (none: an anonymous client), with no retry: the topic count, or the error's name. */
async function topicsAs(sasl: SASLOptions | undefined): Promise<string> {
  const admin = new Kafka({ clientId: 'credentials-test', brokers: ['127.0.0.1:9092'], ...(sasl ? { sasl } : {}), logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    return `${(await admin.listTopics()).length} topics`;
  } catch (err) {
    return (err as Error).name;
  } finally {
    await admin.disconnect();
  }
}

/** One call of Consul's HTTP API with `token` (none: anonymous): the status and the body's text. */
async function consul(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:8500${path}`, { method, headers: token ? { 'x-consul-token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

async function sqlAs(user: string, password: string | undefined): Promise<string> {
  try {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password });
    await connection.end();
    return 'allowed';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

// The components npm start runs keep out whoever has no credential (infra/components: the users
// and passwords come from the run's generated secrets).
describe('every component behind a credential', () => {
  const app = { username: 'app', password: process.env.REDIS_PASSWORD };

  it('when a client without credentials asks the Redis master, a replica or a Sentinel, then each refuses it (NOAUTH)', async () => {
    for (const port of [6379, 6380, 6381]) expect(await ask(port, ['GET', 'cr:anything']), `redis ${port}`).to.match(/^NOAUTH/);
    for (const port of [26379, 26380, 26381]) expect(await ask(port, ['SENTINEL', 'get-master-addr-by-name', 'coupon-master']), `sentinel ${port}`).to.match(/^NOAUTH/);
  });

  it('when a client gives a wrong password, then Redis refuses the login (WRONGPASS)', async () => {
    expect(await ask(6379, ['PING'], { username: 'app', password: 'guessed' })).to.match(/WRONGPASS/);
    expect(await ask(26379, ['PING'], { username: 'app', password: 'guessed' })).to.match(/WRONGPASS/);
  });

  it("when the services' user asks for an admin command or a key outside the platform's prefixes, then Redis refuses it (NOPERM)", async () => {
    expect(await ask(6379, ['PING'], app)).to.equal('PONG');
    for (const command of [['FLUSHALL'], ['KEYS', '*'], ['CONFIG', 'GET', 'requirepass'], ['GET', 'elsewhere:key']]) {
      expect(await ask(6379, command, app), command.join(' ')).to.match(/^NOPERM/);
    }
    expect(await ask(26379, ['SENTINEL', 'get-master-addr-by-name', 'coupon-master'], app)).to.match(/127\.0\.0\.1/);
    expect(await ask(26379, ['SENTINEL', 'FAILOVER', 'coupon-master'], app)).to.match(/^NOPERM/);
  });

  it('when a Kafka client connects without SASL or with a wrong password, then the brokers refuse it; the application user lists the topics', async () => {
    // Before a login the brokers answer only ApiVersions: an anonymous client's first real request is cut.
    expect(await topicsAs(undefined)).to.match(/KafkaJS(ConnectionClosedError|NumberOfRetriesExceeded|ConnectionError)/);
    expect(await topicsAs({ mechanism: 'scram-sha-512', username: 'app', password: 'guessed' })).to.equal('KafkaJSSASLAuthenticationError');
    expect(await topicsAs({ mechanism: 'scram-sha-512', username: 'app', password: process.env.KAFKA_PASSWORD! })).to.match(/^\d+ topics$/);
  });

  it("when an instance registers in Consul without a token, or with another service's, then Consul refuses it; a service's own token registers only its own name", async () => {
    const instance = (name: string) => ({ Name: name, ID: `${name}-credentials-test`, Address: '127.0.0.1', Port: 9 });
    const own = process.env.CONSUL_TOKEN_COUPON_SERVICE;
    expect(await consul('PUT', '/v1/agent/service/register', undefined, instance('user-service'))).to.include({ status: 403 });
    expect(await consul('PUT', '/v1/agent/service/register', own, instance('user-service'))).to.include({ status: 403 });
    expect(await consul('PUT', '/v1/agent/service/register', own, instance('coupon-service-evil'))).to.include({ status: 403 });
    expect(await consul('PUT', '/v1/agent/service/register', process.env.CONSUL_READ_TOKEN, instance('coupon-service'))).to.include({ status: 403 });
    expect(await consul('PUT', '/v1/agent/service/register', 'a0b1c2d3-0000-4000-8000-000000000000', instance('coupon-service'))).to.deep.include({ status: 403, text: 'ACL not found' });
    const registered = await consul('PUT', '/v1/agent/service/register', own, instance('coupon-service-test-credentials'));
    expect(registered.status).to.equal(200);
    expect((await consul('PUT', '/v1/agent/service/deregister/coupon-service-test-credentials-credentials-test', undefined)).status, 'anonymous deregistration').to.equal(403);
    expect((await consul('PUT', '/v1/agent/service/deregister/coupon-service-test-credentials-credentials-test', own)).status).to.equal(200);
  });

  it('when a client reads the catalogue without a token, then Consul lists nothing (its answer to a missing token); the read token sees the services', async () => {
    expect(JSON.parse((await consul('GET', '/v1/health/service/user-service', undefined)).text)).to.deep.equal([]);
    expect(JSON.parse((await consul('GET', '/v1/agent/services', undefined)).text)).to.deep.equal({});
    const { status, text } = await consul('GET', '/v1/catalog/services', process.env.CONSUL_READ_TOKEN);
    expect(status).to.equal(200);
    expect(Object.keys(JSON.parse(text))).to.include('consul');
  });

  it('when a client reaches MariaDB over TCP as root, anonymously or with a guessed password, then it is refused; the application account gets in with its generated password', async () => {
    expect(await sqlAs('root', undefined)).to.equal('ER_ACCESS_DENIED_ERROR');
    expect(await sqlAs('', undefined)).to.equal('ER_ACCESS_DENIED_ERROR');
    expect(await sqlAs('coupon', 'coupon')).to.equal('ER_ACCESS_DENIED_ERROR');
    expect(process.env.DB_PASSWORD).to.not.equal('coupon');
    expect(await sqlAs('coupon', process.env.DB_PASSWORD)).to.equal('allowed');
  });
});
