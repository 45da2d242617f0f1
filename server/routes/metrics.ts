import Router from '@koa/router';
import type { AppContext } from '../context.js';
import { unauthorized } from '../errors.js';
import { bearerSecret } from '../middleware/authenticate.js';
import { hashSecret, secretMatches } from '../secrets.js';

/**
 * GET /metrics: Prometheus text format. Open unless a metrics token is configured; then only
 * `Authorization: Bearer <token>` (compared in constant time) gets it, anything else 401.
 */
export function metricsRoutes({ config, metrics }: AppContext): Router {
  const router = new Router();
  const tokenHash = config.metricsToken === null ? null : hashSecret(config.metricsToken);
  router.get('/metrics', async (ctx) => {
    if (tokenHash !== null) {
      const secret = bearerSecret(ctx);
      if (secret === undefined || !secretMatches(secret, tokenHash)) throw unauthorized();
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = await metrics.text();
  });
  return router;
}
