import Router from '@koa/router';
import type { Context } from 'koa';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Messages, notFound, serviceUnavailable } from '../errors.js';

/**
 * The page may load and call only what comes from this registry: no inline script or style,
 * no other origin, no plugin, no framing (clickjacking), no `<base>` games, forms post here only.
 */
const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Built asset names: `<name>-<hash>.<ext>` (scripts/build-web.js); nothing with a path in it. */
const ASSET_NAME = /^[A-Za-z0-9_-]+\.(js|css|svg|png)$/;

/** dist/web/ of the package this module belongs to (from server/routes/ or build/server/routes/). */
function findDashboardDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.join(dir, 'dist', 'web');
}

/**
 * `GET /`: the operator's dashboard (web/, built into dist/web/ by `npm run build`). It is a
 * page of the public API like any script: it signs in with `"cookie": true` and calls /v1/...
 * with the session cookie. index.html is revalidated on every load (`no-cache`); the assets it
 * names carry their content's hash, so they may be cached for a year.
 */
export function dashboardRoutes(dir: string = findDashboardDir()): Router {
  const router = new Router();

  router.get('/', async (ctx) => {
    const html = await readOrNull(path.join(dir, 'index.html'));
    if (html === null) throw serviceUnavailable(Messages.dashboardNotBuilt);
    pageHeaders(ctx);
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = html;
  });

  router.get('/assets/:name', async (ctx) => {
    const { name } = ctx.params;
    const body = ASSET_NAME.test(name) ? await readOrNull(path.join(dir, 'assets', name)) : null;
    if (body === null) throw notFound();
    pageHeaders(ctx);
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.type = TYPES[path.extname(name)];
    ctx.body = body;
  });

  return router;
}

function pageHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', DASHBOARD_CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await fs.promises.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
