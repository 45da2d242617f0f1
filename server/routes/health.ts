import Router from '@koa/router';
import type { AppContext } from '../context.js';

/** GET /healthz: 200 while the process serves and its database answers. */
export function healthRoutes({ db }: AppContext): Router {
  const router = new Router();
  const ping = db.prepare('SELECT 1');
  router.get('/healthz', (ctx) => {
    ping.get();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  return router;
}
