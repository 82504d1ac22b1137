import path from 'node:path';
import { loadConfig, type LoadedConfig } from './config-client';
import { ConfigReader } from './config-reader';
import type { Logger } from './logger';
import type { PlatformSettings } from './platform-settings';
import { deepMerge } from './property-sources';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

export interface StartOptions {
  port?: number;
  profile?: string;
  configServerUrl?: string | null;
  configLabel?: string;
  /** Highest-precedence values; tests use them for their own databases, topics and prefixes. */
  overrides?: Record<string, unknown>;
}

/** The environment variable that carries the internal token key (a secret, never in config-repo). */
export const INTERNAL_TOKEN_ENVIRONMENT = { INTERNAL_TOKEN_SECRET: 'internalToken.secret' };

/** Every process reads these (the internal token key too: each one verifies, and may call, the others). */
const BASE_ENVIRONMENT: Record<string, string> = {
  ...INTERNAL_TOKEN_ENVIRONMENT,
  PORT: 'server.port',
  HOST: 'server.host',
  CONSUL_HOST: 'consul.host',
  CONSUL_PORT: 'consul.port',
  ADVERTISE_ADDRESS: 'consul.advertiseAddress',
};

/** The variable that carries a service's own Consul token: user-service reads CONSUL_TOKEN_USER_SERVICE. */
export function consulTokenVariable(service: string): string {
  return `CONSUL_TOKEN_${service.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * Named variables (secrets, ports) plus APP_CONFIG_JSON, a JSON object merged over everything
 * else, like SPRING_APPLICATION_JSON: how a separately started instance gets test settings.
 */
function fromEnvironment(mapping: Record<string, string>, env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = env.APP_CONFIG_JSON ? JSON.parse(env.APP_CONFIG_JSON) : {};
  for (const [variable, key] of Object.entries(mapping)) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const parts = key.split('.');
    let node = out;
    parts.slice(0, -1).forEach((p) => (node = (node[p] ??= {}) as Record<string, unknown>));
    node[parts[parts.length - 1]] = value;
  }
  return out;
}

/** What a service's configuration is made of: its name, how it reads and checks the result, its variables. */
export interface ServiceConfigSource<C extends { platform: PlatformSettings }> {
  name: string;
  parseConfig(reader: ConfigReader): C;
  /** Environment variables that override config keys (secrets, ports). */
  environment?: Record<string, string>;
}

/**
 * A service's configuration as it starts with (and refreshes to): the config server's property
 * sources (or config-repo's files when it is down or not asked), the variables of `env`, then the
 * overrides; parsed and checked by the service, so a missing or bad value throws.
 */
export async function resolveServiceConfig<C extends { platform: PlatformSettings }>(
  def: ServiceConfigSource<C>,
  opts: StartOptions,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<{ config: C; loaded: LoadedConfig }> {
  const profile = opts.profile ?? env.APP_PROFILE ?? 'dev';
  const serverUrl = opts.configServerUrl === null ? undefined : (opts.configServerUrl ?? env.CONFIG_SERVER_URL ?? 'http://127.0.0.1:8888');
  const loaded = await loadConfig(
    {
      application: def.name,
      profile,
      serverUrl,
      label: opts.configLabel ?? env.CONFIG_LABEL,
      fallbackRepoDir: path.join(REPO_ROOT, 'config-repo'),
    },
    logger,
  );
  const variables = fromEnvironment({ ...BASE_ENVIRONMENT, [consulTokenVariable(def.name)]: 'consul.token', ...def.environment }, env);
  const raw = deepMerge({ app: { profile } }, loaded.values, variables, opts.port === undefined ? {} : { server: { port: opts.port } }, opts.overrides);
  return { config: def.parseConfig(new ConfigReader(raw, `${def.name}/${profile} from ${loaded.origin}`)), loaded };
}
