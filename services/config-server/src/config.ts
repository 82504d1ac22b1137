import { type ConfigReader, type PlatformSettings, readPlatformSettings, REPO_ROOT } from '@coupon-rush/platform';

export interface ConfigServerConfig {
  platform: PlatformSettings;
  git: { uri: string; searchPath: string; defaultLabel: string };
}

export function parseConfig(r: ConfigReader): ConfigServerConfig {
  return r.done({
    platform: readPlatformSettings(r),
    git: {
      uri: r.optionalString('git.uri') ?? REPO_ROOT,
      searchPath: r.string('git.searchPath'),
      defaultLabel: r.string('git.defaultLabel'),
    },
  });
}
