import { Router } from 'express';
import type { GitConfigRepository } from '../data/git-config-repository';
import { findEnvironment } from '../domain/environment';

export function environmentRoutes(repo: GitConfigRepository, searchPath: string, defaultLabel: () => string): Router {
  const router = Router();
  router.get('/:application/:profile{/:label}', async (req, res) => {
    const { application, profile, label } = req.params as Record<string, string>;
    res.json(await findEnvironment(repo, searchPath, application, profile, label ?? defaultLabel()));
  });
  return router;
}
