import Router from '@koa/router';
import { setTimeout as sleep } from 'node:timers/promises';
import { Messages, badRequest } from '../errors.js';
import { jsonBody } from '../middleware/json-body.js';
import { requestSecret } from '../middleware/authenticate.js';
import { REFUSAL_DELAY_MS } from '../http/device-failure-limit.js';
import { clearSessionCookie, refuseCrossSite, setSessionCookie } from '../http/session-cookie.js';
import type { AppContext } from '../context.js';

/** POST /v1/auth/login: a session token, as IoTaaP's dashboard and scripts get one; logout ends it. */
export function authRoutes({ auth }: AppContext): Router {
  const router = new Router({ prefix: '/v1/auth' });
  router.post('/login', jsonBody, async (ctx) => {
    const { email, password, cookie } = ctx.request.body as Record<string, unknown>;
    if (cookie !== undefined && typeof cookie !== 'boolean')
      throw badRequest(Messages.cookieInvalid);
    // A login that sets the cookie is the dashboard's: another site may not log a browser in.
    if (cookie === true) refuseCrossSite(ctx);
    if (typeof email !== 'string' || email === '')
      throw badRequest(Messages.mandatoryField('email'));
    if (typeof password !== 'string' || password === '')
      throw badRequest(Messages.mandatoryField('password'));
    // ctx.ip: the socket's address, or X-Forwarded-For's with --trust-proxy (app.ts).
    const { user, token } = await auth.login(email, password, ctx.ip).catch(async (err) => {
      // A throttled login waits before its 429, as a throttled device request does: a flood
      // on keep-alive connections then asks once a second per connection, not as fast as the
      // registry can refuse (each refusal still reads the failure counts).
      if ((err as { status?: number }).status === 429) await sleep(REFUSAL_DELAY_MS);
      throw err;
    });
    if (cookie === true) {
      // The page never sees the token: it lives in the HttpOnly cookie only.
      setSessionCookie(ctx, token);
      ctx.body = { user: { id: user.id, role: user.role } };
    } else {
      ctx.body = { user: { id: user.id, role: user.role }, token };
    }
  });
  router.post('/logout', (ctx) => {
    const secret = requestSecret(ctx);
    // Whatever happens to the token, the browser forgets the cookie.
    clearSessionCookie(ctx);
    auth.logout(secret ?? '');
    ctx.status = 204;
  });
  return router;
}
