import Router from '@koa/router';
import type { AppContext } from '../context.js';
import { Messages, badRequest } from '../errors.js';
import { authenticate, type AuthState } from '../middleware/authenticate.js';
import { jsonBody } from '../middleware/json-body.js';
import { parseRolloutPlan } from './parsers/rollout-plan.js';
import type { RolloutAction } from '../services/rollout-service.js';

const ACTIONS: readonly RolloutAction[] = ['advance', 'pause', 'resume', 'abort'];

/** `/v1/ota/group/{id}/rollout`: staged rollouts (API.md "Staged rollouts", docs/rollouts.md). */
export function rolloutRoutes({ auth, rollouts }: AppContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/v1/ota/group/:id/rollout' });
  router.use(authenticate(auth));

  router.post('/', jsonBody, (ctx) => {
    const body = ctx.request.body as Record<string, unknown>;
    const { version } = body;
    if (typeof version !== 'string' || version === '') {
      throw badRequest(Messages.mandatoryField('version'));
    }
    if (body.phases === undefined) throw badRequest(Messages.mandatoryField('phases'));
    const plan = parseRolloutPlan({
      phases: body.phases,
      halt_after_failures: body.halt_after_failures,
      advance: body.advance,
      advance_at: body.advance_at,
    });
    const owner = ctx.state.user.id;
    rollouts.start(owner, ctx.params.id, version, plan);
    ctx.status = 201;
    ctx.body = rollouts.view(owner, ctx.params.id);
  });

  router.get('/', (ctx) => {
    ctx.body = rollouts.view(ctx.state.user.id, ctx.params.id);
  });

  for (const action of ACTIONS) {
    router.post(`/${action}`, (ctx) => {
      ctx.body = rollouts.act(ctx.state.user.id, ctx.params.id, action);
    });
  }

  return router;
}
