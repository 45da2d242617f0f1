import Router from '@koa/router';
import { OPENAPI } from '../openapi.js';

/** GET /openapi.json: the contract as an OpenAPI 3.1 document (server/openapi.ts), as is. */
export function openapiRoutes(): Router {
  const router = new Router();
  const body = JSON.stringify(OPENAPI);
  router.get('/openapi.json', (ctx) => {
    ctx.type = 'application/json';
    ctx.body = body;
  });
  return router;
}
