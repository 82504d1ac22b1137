import { Router } from 'express';
import type { Knex } from 'knex';
import { callerOf } from '@coupon-rush/platform';
import { logIn, me, signUp, type LoginGuard, type TokenSettings } from '../domain/accounts';

export function userRoutes(db: Knex, tokens: () => TokenSettings, rounds: () => number, guard: () => LoginGuard): Router {
  const router = Router();
  router.post('/users/signup', async (req, res) => {
    res.status(201).json(await signUp(db, req.body, rounds()));
  });
  router.post('/users/login', async (req, res) => {
    res.json(await logIn(db, req.body, tokens(), guard()));
  });
  router.get('/users/me', async (req, res) => {
    res.json(await me(db, callerOf(req).userId));
  });
  return router;
}
