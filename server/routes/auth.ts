import Router from '@koa/router';
import { Messages, badRequest } from '../errors.js';
import { jsonBody } from '../middleware/json-body.js';
import { bearerSecret } from '../middleware/authenticate.js';
import type { AppContext } from '../context.js';

/** POST /v1/auth/login: a session token, as IoTaaP's dashboard and scripts get one; logout ends it. */
export function authRoutes({ auth }: AppContext): Router {
  const router = new Router({ prefix: '/v1/auth' });
  router.post('/login', jsonBody, async (ctx) => {
    const { email, password } = ctx.request.body as Record<string, unknown>;
    if (typeof email !== 'string' || email === '')
      throw badRequest(Messages.mandatoryField('email'));
    if (typeof password !== 'string' || password === '')
      throw badRequest(Messages.mandatoryField('password'));
    // ctx.ip: the socket's address, or X-Forwarded-For's with --trust-proxy (app.ts).
    const { user, token } = await auth.login(email, password, ctx.ip);
    ctx.body = { user: { id: user.id, role: user.role }, token };
  });
  router.post('/logout', (ctx) => {
    auth.logout(bearerSecret(ctx) ?? '');
    ctx.status = 204;
  });
  return router;
}
