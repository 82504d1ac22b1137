import fs from 'node:fs';
import path from 'node:path';
// Only node-config's file loader is used (per service directory), never its process-wide
// NODE_CONFIG_DIR, so its warning about that directory is noise.
process.env.SUPPRESS_NO_CONFIG_WARNING ??= 'true';
import nodeConfig from 'config';
import type { Logger } from 'winston';
import { composeSources, deepMerge, resolvePropertySources, type Environment } from './property-sources';

export interface ConfigLocation {
  application: string;
  profile: string;
  /** Spring Cloud Config-style server; undefined means "local copy only". */
  serverUrl?: string;
  label?: string;
  /** Directory holding the service's node-config files (its local defaults). */
  localDefaultsDir?: string;
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

function localDefaults(dir?: string): Record<string, unknown> {
  if (!dir || !fs.existsSync(dir)) return {};
  return (nodeConfig.util.loadFileConfigs(dir) ?? {}) as Record<string, unknown>;
}

/**
 * Layers, lowest to highest: the service's node-config defaults, then the config server's
 * property sources (or, when it is down, the same files read from the local config-repo copy).
 */
export async function loadConfig(loc: ConfigLocation, logger: Logger): Promise<LoadedConfig> {
  const defaults = localDefaults(loc.localDefaultsDir);
  const profiles = loc.profile.split(',').map((p) => p.trim()).filter(Boolean);
  if (loc.serverUrl) {
    try {
      const env = await fetchEnvironment(loc.serverUrl, loc.application, loc.profile, loc.label);
      return { values: deepMerge(defaults, composeSources(env.propertySources)), origin: 'config-server', version: env.version };
    } catch (err) {
      logger.warn('config server unreachable, using the local config-repo copy', { url: loc.serverUrl, err: String(err) });
    }
  }
  const read = (file: string) => {
    const p = path.join(loc.fallbackRepoDir, file);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  };
  const sources = resolvePropertySources(loc.application, profiles, read, (f) => `file:${f}`);
  return { values: deepMerge(defaults, composeSources(sources)), origin: 'local-fallback', version: null };
}
