import Router from '@koa/router';
import type { AppContext } from '../context.js';

/** GET /healthz: 200 while the process serves and its database answers; the broker link's state with --mqtt. */
export function healthRoutes({ db, push }: AppContext): Router {
  const router = new Router();
  const ping = db.prepare('SELECT 1');
  router.get('/healthz', (ctx) => {
    ping.get();
    ctx.set('Cache-Control', 'no-store');
    // The broker being down is not the registry being down: still 200, with the link's state.
    const mqtt = push.mqttState();
    ctx.body = mqtt === null ? { status: 'ok' } : { status: 'ok', mqtt };
  });
  return router;
}
