import type Router from '@koa/router';
import type { AppContext } from '../context.js';
import { otaRoutes } from './ota.js';

/** IoTaaP's "Device OTA Update" endpoints (see routes/ota.ts). */
export function otaDeviceRoutes(context: AppContext): Router {
  return otaRoutes(context, 'device');
}
