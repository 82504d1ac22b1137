import { AppError, badRequest, resolvePropertySources, type Environment } from '@coupon-rush/platform';
import type { GitConfigRepository } from '../data/git-config-repository';

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The Spring Cloud Config "Environment" of an application and profiles at a label. */
export async function findEnvironment(repo: GitConfigRepository, searchPath: string, application: string, profile: string, label: string): Promise<Environment> {
  const profiles = profile.split(',').map((p) => p.trim());
  if (!NAME.test(application) || profiles.some((p) => !NAME.test(p))) {
    throw badRequest('application and profile must be lower-case names');
  }
  const commit = await repo.resolve(label);
  if (!commit) throw new AppError('LABEL_NOT_FOUND', 404, `No branch, tag or commit named ${label}`);
  const files = await repo.snapshot(commit);
  const propertySources = resolvePropertySources(
    application,
    profiles,
    (file) => files.get(file),
    (file) => `git:${label}:${searchPath}/${file}`,
  );
  return { name: application, profiles, label, version: commit, propertySources };
}
