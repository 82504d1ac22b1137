import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { positiveId, requireAdmin } from '@coupon-rush/platform';
import type { CouponTick, LiveConsole } from '../domain/live-console';

/** The page loads only its own scripts and styles and talks only to its own origin (the gateway). */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The page under /console (public: it holds no data, the API behind it asks for an admin token),
 * the coupon list and the live view's event stream under /api/console.
 */
export function consoleRoutes(live: LiveConsole, pageDir: string): Router {
  if (!fs.existsSync(path.join(pageDir, 'index.html'))) throw new Error(`the console page is not built (no ${pageDir}/index.html): npm run build builds it`);
  const router = Router();
  router.use(
    '/console',
    express.static(pageDir, {
      // Fixed asset names: the browser asks again (If-Modified-Since) instead of keeping an old build.
      cacheControl: true,
      maxAge: 0,
      setHeaders: (res) => {
        res.setHeader('content-security-policy', PAGE_POLICY);
        res.setHeader('x-content-type-options', 'nosniff');
      },
    }),
  );
  router.get('/api/console/coupons', async (req, res) => {
    requireAdmin(req);
    res.json({ items: await live.coupons() });
  });
  router.get('/api/console/coupons/:id/stream', async (req, res) => {
    requireAdmin(req);
    const couponId = positiveId(req.params.id);
    // A slow page skips ticks instead of queueing them: each tick holds the whole state.
    const event = (tick: CouponTick) => `event: tick\ndata: ${JSON.stringify(tick)}\n\n`;
    const sink = {
      send: (tick: CouponTick) => {
        if (!res.writableNeedDrain) res.write(event(tick));
      },
    };
    // Refusals (no such coupon, the console at its limit) come before the head: a problem answer.
    const { stop, latest } = await live.watch(couponId, sink);
    res.on('close', stop);
    if (res.destroyed) return stop();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    // The reconnect delay a client should use, then the last tick other pages saw, if any.
    res.write(`retry: 1000\n: live\n\n${latest ? event(latest) : ''}`);
  });
  return router;
}
