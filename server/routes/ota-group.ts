import type Router from '@koa/router';
import type { AppContext } from '../context.js';
import { otaRoutes } from './ota.js';

/** IoTaaP's group OTA endpoints: the device ones with `group` for `device` (see routes/ota.ts). */
export function otaGroupRoutes(context: AppContext): Router {
  return otaRoutes(context, 'group');
}
