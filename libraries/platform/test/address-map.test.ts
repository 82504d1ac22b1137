import { expect } from 'chai';
import { ConfigReader, reach, readAddressMap, readKafkaSettings, readRedisSettings } from '../src';

describe('address maps (where a client connects for an address a server hands out)', () => {
  it('when config maps announced addresses, then Redis and Kafka settings carry them and unmapped ones stay as they are', () => {
    const r = new ConfigReader(
      {
        redis: {
          masterName: 'm',
          sentinels: ['127.0.0.1:26379'],
          keyPrefix: 'cr:',
          durableReplicas: 1,
          replicaAckTimeoutMs: 500,
          protocol: 3,
          username: 'app',
          password: 'secret',
          addressMap: [{ announced: '127.0.0.1:6379', connect: '127.0.0.1:30150' }],
        },
        kafka: { brokers: ['127.0.0.1:9092'], replicationFactor: 3, username: 'app', password: 'secret', addressMap: [{ announced: '127.0.0.1:9092', connect: 'proxy.local:30170' }] },
      },
      'test',
    );
    const redis = readRedisSettings(r);
    const kafka = readKafkaSettings(r);
    r.done(null);
    expect(reach(redis.addressMap, '127.0.0.1', 6379)).to.deep.equal({ host: '127.0.0.1', port: 30150 });
    expect(reach(redis.addressMap, '127.0.0.1', 6380)).to.deep.equal({ host: '127.0.0.1', port: 6380 });
    expect(reach(kafka.addressMap, '127.0.0.1', 9092)).to.deep.equal({ host: 'proxy.local', port: 30170 });
  });

  it('when an entry is malformed, then the service refuses to boot with every bad entry named; absent means no map', () => {
    const r = new ConfigReader({ kafka: { addressMap: [{ announced: '127.0.0.1:9092' }, { announced: 'x:99999', connect: 'y:1' }, 'a:1=b:2'] } }, 'test');
    expect(readAddressMap(r, 'kafka.addressMap').size).to.equal(0);
    expect(() => r.done(null)).to.throw(/kafka\.addressMap\[0\][\s\S]*kafka\.addressMap\[1\][\s\S]*kafka\.addressMap\[2\]/);
    const none = new ConfigReader({}, 'test');
    expect(readAddressMap(none, 'redis.addressMap').size).to.equal(0);
    none.done(null);
  });
});
