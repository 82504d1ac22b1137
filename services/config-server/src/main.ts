import { runFromCommandLine, startService, type StartOptions, type ServiceConfigSource } from '@coupon-rush/platform';
import { parseConfig, type ConfigServerConfig } from './config';
import { GitConfigRepository } from './data/git-config-repository';
import { environmentRoutes } from './routes/environment-routes';

export const NAME = 'config-server';

/** How this service's configuration is made (also read by the compose test). */
export const CONFIG: ServiceConfigSource<ConfigServerConfig> = {
  name: NAME,
  parseConfig,
  environment: { CONFIG_GIT_URI: 'git.uri', CONFIG_GIT_SEARCH_PATH: 'git.searchPath', CONFIG_DEFAULT_LABEL: 'git.defaultLabel' },
};

export function start(opts: StartOptions = {}) {
  return startService<ConfigServerConfig>(
    {
      ...CONFIG,
      async build(ctx) {
        const { git } = ctx.config();
        const repo = new GitConfigRepository(git.uri, git.searchPath);
        return {
          router: environmentRoutes(repo, git.searchPath, () => ctx.config().git.defaultLabel),
          readiness: { git: async () => repo.resolve(git.defaultLabel).then((c) => c ?? Promise.reject(new Error('no commit'))) },
        };
      },
    },
    // It serves configuration, so it never asks a config server for its own.
    { ...opts, configServerUrl: null },
  );
}

if (require.main === module) runFromCommandLine(start);
