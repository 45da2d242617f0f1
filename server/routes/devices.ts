import Router from '@koa/router';
import { parseDeviceChanges, parseNewDevice } from './parsers/device-body.js';
import { parseListQuery } from './parsers/list-query.js';
import { parseGroupFilter } from './parsers/group-filter.js';
import { jsonBody } from '../middleware/json-body.js';
import { authenticate, type AuthState } from '../middleware/authenticate.js';
import { Messages } from '../errors.js';
import { deviceView, listView, newDeviceView } from '../views.js';
import type { AppContext } from '../context.js';

/** IoTaaP's `/v1/devices`: the caller's devices. Tokens are shown only when created or rotated. */
export function deviceRoutes({ auth, devices, groups }: AppContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/v1/devices' });
  // On each route, not router.use(): @koa/router matches routes case-insensitively but runs
  // router.use() middleware only for the path's exact case, so /V1/DEVICES skipped it.
  const requireUser = authenticate(auth);

  router.get('/', requireUser, (ctx) => {
    const query = parseListQuery(ctx.query);
    const group = parseGroupFilter(ctx.query);
    // Another owner's group is as missing as an unknown one (404).
    if (group !== null) groups.get(ctx.state.user.id, group);
    const page = devices.list(ctx.state.user.id, query, group);
    ctx.body = listView('devices', page, deviceView, query.draw);
  });

  router.post('/', requireUser, jsonBody, (ctx) => {
    const { name, chip } = parseNewDevice(ctx.request.body as Record<string, unknown>);
    const { device, token } = devices.create(ctx.state.user.id, name, undefined, chip);
    ctx.status = 201;
    ctx.body = { ...newDeviceView(device), token };
  });

  router.get('/:id', requireUser, (ctx) => {
    ctx.body = deviceView(devices.get(ctx.state.user.id, ctx.params.id));
  });

  router.put('/:id', requireUser, jsonBody, (ctx) => {
    const changes = parseDeviceChanges(ctx.request.body as Record<string, unknown>);
    ctx.body = deviceView(devices.update(ctx.state.user.id, ctx.params.id, changes));
  });

  router.delete('/:id', requireUser, (ctx) => {
    devices.delete(ctx.state.user.id, ctx.params.id);
    ctx.body = { message: Messages.deviceRemoved };
  });

  router.post('/:id/token', requireUser, (ctx) => {
    ctx.body = { token: devices.rotateToken(ctx.state.user.id, ctx.params.id) };
  });

  return router;
}
