import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'winston';
import { composeSources, resolvePropertySources, type Environment } from './property-sources';

export interface ConfigLocation {
  application: string;
  profile: string;
  /** Spring Cloud Config-style server; undefined means "local copy only". */
  serverUrl?: string;
  label?: string;
  /** Working-tree copy of config-repo used when the server cannot be reached. */
  fallbackRepoDir: string;
}

export interface LoadedConfig {
  values: Record<string, unknown>;
  origin: 'config-server' | 'local-fallback';
  version: string | null;
}

export async function fetchEnvironment(serverUrl: string, application: string, profile: string, label?: string): Promise<Environment> {
  const url = `${serverUrl.replace(/\/$/, '')}/${encodeURIComponent(application)}/${encodeURIComponent(profile)}${label ? `/${encodeURIComponent(label)}` : ''}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`config server answered ${res.status} for ${url}`);
  return (await res.json()) as Environment;
}

/**
 * The config server's property sources or, when it is down, the same files read from the local
 * config-repo copy, composed in Spring's order. Every default is there: a service has no local
 * layer of its own (node-config, which would have been it, writes a `__proto__` key of its files
 * into Object.prototype, and config text must never reach a prototype).
 */
export async function loadConfig(loc: ConfigLocation, logger: Logger): Promise<LoadedConfig> {
  const profiles = loc.profile
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (loc.serverUrl) {
    try {
      const env = await fetchEnvironment(loc.serverUrl, loc.application, loc.profile, loc.label);
      return { values: composeSources(env.propertySources), origin: 'config-server', version: env.version };
    } catch (err) {
      logger.warn('config server unreachable, using the local config-repo copy', { url: loc.serverUrl, err: String(err) });
    }
  }
  const read = (file: string) => {
    const p = path.join(loc.fallbackRepoDir, file);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  };
  const sources = resolvePropertySources(loc.application, profiles, read, (f) => `file:${f}`);
  return { values: composeSources(sources), origin: 'local-fallback', version: null };
}
