import Router from '@koa/router';
import { authenticate, type AuthState } from '../middleware/authenticate.js';
import { parseGroupFilter } from './parsers/group-filter.js';
import { FleetService } from '../services/fleet-service.js';
import { FleetSummaryStore } from '../storage/sqlite/fleet-summary.js';
import type { AppContext } from '../context.js';

/** `GET /v1/fleet/summary[?group=ID]`: how many devices run which version, and in which state. */
export function fleetRoutes({
  auth,
  counting,
  groups,
  checkins,
  reports,
  config,
}: AppContext): Router<AuthState> {
  const router = new Router<AuthState>({ prefix: '/v1/fleet' });
  const requireUser = authenticate(auth);
  const fleet = new FleetService(
    new FleetSummaryStore(counting),
    groups,
    checkins,
    reports,
    config.silentAfterSeconds,
  );

  router.get('/summary', requireUser, async (ctx) => {
    const summary = await fleet.summary(ctx.state.user.id, parseGroupFilter(ctx.query));
    ctx.body = {
      group: summary.group,
      silent_after: summary.silentAfterSeconds,
      devices: summary.devices,
      states: summary.states,
      versions: summary.versions,
    };
  });

  return router;
}
