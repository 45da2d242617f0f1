import Koa from 'koa';
import cluster from 'node:cluster';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext } from './context.js';
import { errorMiddleware } from './middleware/errors.js';
import { limitDeviceFailures } from './middleware/device-failures.js';
import { DeviceFailureLimit } from './http/device-failure-limit.js';
import { requestLog } from './middleware/request-log.js';
import { answerClientError } from './http/client-error.js';
import { trackConnections } from './http/graceful-close.js';
import { pollFastPath } from './http/poll-fast-path.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import { deviceRoutes } from './routes/devices.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { fleetRoutes } from './routes/fleet.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { openapiRoutes } from './routes/openapi.js';
import { groupRoutes } from './routes/groups.js';
import { otaDeviceRoutes } from './routes/ota-device.js';
import { otaGroupRoutes } from './routes/ota-group.js';
import { rolloutRoutes } from './routes/rollouts.js';
import { startCheckpointer } from './storage/sqlite/checkpointer.js';
import { startReportSubscriptions } from './services/device-reports.js';

/**
 * The Koa application: logging, then errors, then one router per resource. `failures` is shared
 * with the poll fast path when startServer runs both.
 */
export function createApp(
  context: AppContext,
  failures = new DeviceFailureLimit(context.config.deviceFailureLimit),
): Koa {
  const app = new Koa();
  // ctx.ip is the socket's address unless the operator says a proxy sets X-Forwarded-For; then
  // its last entry, the one the proxy added (the ones before it are whatever the client sent).
  app.proxy = context.config.trustProxy;
  app.maxIpsCount = 1;
  // Errors are answered (and 5xx logged) by errorMiddleware; keep Koa from printing them again.
  app.silent = true;
  if (context.config.logRequests) app.use(requestLog);
  app.use(errorMiddleware);
  app.use(noStoreByDefault);
  app.use(limitDeviceFailures(failures));
  for (const router of [
    healthRoutes(context),
    metricsRoutes(context),
    openapiRoutes(),
    authRoutes(context),
    accountRoutes(context),
    deviceRoutes(context),
    otaDeviceRoutes(context),
    groupRoutes(context),
    otaGroupRoutes(context),
    rolloutRoutes(context),
    fleetRoutes(context),
    dashboardRoutes(),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/**
 * Management answers carry secrets (a login's session token, a new device's or group's token, a
 * rotated one) or an owner's private data: no cache keeps them unless a route says otherwise
 * (downloads do: `no-cache`, revalidated by ETag).
 */
async function noStoreByDefault(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  ctx.set('Cache-Control', 'no-store');
  await next();
}

/** How long in-flight requests get to finish on SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 30_000;

export interface RunningServer {
  server: http.Server;
  url: string;
  /** Stops accepting, lets in-flight requests finish, writes pending check-ins, closes the database. */
  close(): Promise<void>;
}

/** Starts listening; resolves once the port is bound. */
export async function startServer(context: AppContext): Promise<RunningServer> {
  const failures = new DeviceFailureLimit(context.config.deviceFailureLimit);
  const app = createApp(context, failures);
  const koa = app.callback();
  const fastPath = pollFastPath(context, failures);
  const server = http.createServer((req, res) => {
    // Every answer, the fast path's and Koa's: no browser may guess a type for our bodies.
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (!fastPath(req, res)) void koa(req, res);
  });
  server.on('clientError', answerClientError);
  const closeGracefully = trackConnections(server);
  // Devices on slow links take a while to send headers; keep the defaults generous but finite.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(context.config.port, context.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const checkpointer = context.sqlite ? startCheckpointer(context.sqlite) : null;
  // With --workers, the primary subscribes (cli/cluster.ts): N subscribers would record every report N times.
  const subscriptions = cluster.isWorker ? undefined : startReportSubscriptions(context);
  const { port } = server.address() as AddressInfo;
  const host = ['0.0.0.0', '::'].includes(context.config.host) ? 'localhost' : context.config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    server,
    url,
    close: async () => {
      await closeGracefully(SHUTDOWN_GRACE_MS);
      subscriptions?.stop();
      await context.push.close();
      // Check-ins and MQTT reports wait in memory: write them before closing.
      context.checkins.close();
      context.reports.flush();
      await checkpointer?.stop();
      await context.counting.stop();
      await context.servedCache?.close();
      context.files.close();
      context.db.close();
    },
  };
}
