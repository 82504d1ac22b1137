import { ConfigReader } from './config-reader';
import type { ConsulSettings } from './discovery';

/** Settings every service has, read from application.yml. */
export interface PlatformSettings {
  port: number;
  /** Interface to listen on: loopback natively, 0.0.0.0 in a container. */
  host: string;
  bodyLimit: string;
  requestTimeoutMs: number;
  consul: ConsulSettings & { register: boolean; serviceSuffix: string; advertiseAddress: string; registrationCheckMs: number };
  /** Share of new traces recorded (requests arriving with a sampled parent always are). */
  traceSampleRatio: number;
  /**
   * Where /metrics, /refresh and the detailed /health/ready are served when they must not be on
   * the public port (Spring Boot's management.server.port): absent, they share the service's port.
   */
  management?: { port: number; host: string };
  /** The key of the tokens the platform's processes relay to one another (not the users' JWT key), and their life. */
  internalToken: { secret: string; ttlSeconds: number };
}

export function readPlatformSettings(r: ConfigReader): PlatformSettings {
  return {
    port: r.number('server.port', { min: 0, max: 65535 }),
    host: r.string('server.host'),
    bodyLimit: r.string('server.bodyLimit'),
    requestTimeoutMs: r.number('server.requestTimeoutMs', { min: 100 }),
    consul: {
      host: r.string('consul.host'),
      port: r.number('consul.port'),
      token: r.string('consul.token'),
      // No fallbacks here: application.yml holds these defaults, the one place to read them.
      checkInterval: r.duration('consul.checkInterval'),
      checkTimeout: r.duration('consul.checkTimeout'),
      deregisterCriticalAfter: r.duration('consul.deregisterCriticalAfter'),
      register: r.boolean('consul.register'),
      // The address other processes reach this instance at (a container's name under compose).
      advertiseAddress: r.string('consul.advertiseAddress'),
      registrationCheckMs: r.number('consul.registrationCheckMs', { min: 100 }),
      // Appended to every service name registered or looked up: a test run's instances form a
      // separate set that never mixes with those of a running `npm start`.
      serviceSuffix: r.optionalString('consul.serviceSuffix') ?? '',
    },
    traceSampleRatio: r.number('tracing.sampleRatio', { min: 0, max: 1 }),
    management: readManagement(r),
    internalToken: { secret: r.string('internalToken.secret'), ttlSeconds: r.number('internalToken.ttlSeconds', { min: 1, max: 300 }) },
  };
}

function readManagement(r: ConfigReader): PlatformSettings['management'] {
  const port = r.optionalNumber('management.port', { min: 0, max: 65535 });
  if (port === undefined) return undefined;
  // An extra instance on an ephemeral port (PORT=0) would collide with the first one on a fixed
  // management port: its management port is ephemeral too (Consul's meta says which).
  return { port: r.number('server.port', { min: 0, max: 65535 }) === 0 ? 0 : port, host: r.string('management.host') };
}
