import Router from '@koa/router';
import { parseMqttUser } from './parsers/account-body.js';
import { jsonBody } from '../middleware/json-body.js';
import { authenticate, type AuthState } from '../middleware/authenticate.js';
import { accountView } from '../views.js';
import type { AppContext } from '../context.js';

/** `/v1/account`: who the caller is, and the MQTT user name its devices' topics carry. */
export function accountRoutes({ auth, push }: AppContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/v1/account' });
  router.use(authenticate(auth));

  router.get('/', (ctx) => {
    ctx.body = accountView(ctx.state.user);
  });

  router.put('/', jsonBody, (ctx) => {
    const mqttUser = parseMqttUser(ctx.request.body as Record<string, unknown>);
    const user = auth.setMqttUser(ctx.state.user, mqttUser);
    // This process's subscriptions follow at once; other processes within seconds.
    push.accountsChanged();
    ctx.body = accountView(user);
  });

  return router;
}
