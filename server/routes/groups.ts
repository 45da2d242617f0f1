import Router from '@koa/router';
import { parseGroupName, parseNewGroup } from './parsers/group-body.js';
import { parseListQuery } from './parsers/list-query.js';
import { jsonBody } from '../middleware/json-body.js';
import { authenticate, type AuthState } from '../middleware/authenticate.js';
import { Messages } from '../errors.js';
import { listView, groupView } from '../views.js';
import type { AppContext } from '../context.js';

/** IoTaaP's `/v1/groups`: the caller's groups. A group token is shown only when created or rotated. */
export function groupRoutes({ auth, groups }: AppContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/v1/groups' });
  // On each route, not router.use(): @koa/router matches routes case-insensitively but runs
  // router.use() middleware only for the path's exact case, so /V1/DEVICES skipped it.
  const requireUser = authenticate(auth);

  router.get('/', requireUser, (ctx) => {
    const query = parseListQuery(ctx.query);
    const page = groups.list(ctx.state.user.id, query);
    ctx.body = listView('groups', page, groupView, query.draw);
  });

  router.post('/', requireUser, jsonBody, (ctx) => {
    const { name, chip } = parseNewGroup(ctx.request.body as Record<string, unknown>);
    const { group, token } = groups.create(ctx.state.user.id, name, chip);
    ctx.status = 201;
    ctx.body = { ...groupView(group), token };
  });

  router.get('/:id', requireUser, (ctx) => {
    ctx.body = groupView(groups.get(ctx.state.user.id, ctx.params.id));
  });

  router.put('/:id', requireUser, jsonBody, (ctx) => {
    const name = parseGroupName(ctx.request.body as Record<string, unknown>);
    ctx.body = groupView(groups.rename(ctx.state.user.id, ctx.params.id, name));
  });

  router.delete('/:id', requireUser, (ctx) => {
    groups.delete(ctx.state.user.id, ctx.params.id);
    ctx.body = { message: Messages.groupRemoved };
  });

  router.post('/:id/token', requireUser, (ctx) => {
    ctx.body = { token: groups.rotateToken(ctx.state.user.id, ctx.params.id) };
  });

  return router;
}
