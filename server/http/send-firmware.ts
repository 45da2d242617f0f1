import type { Context } from 'koa';
import type { Download } from '../services/ota-service.js';

/**
 * The download response the Arduino updater accepts: it speaks HTTP/1.0, refuses a body
 * without Content-Length (so never chunked), checks x-MD5 when present, and does not follow
 * redirects. HEAD gets the same headers and no body.
 */
export async function sendFirmware(ctx: Context, { ota, handle }: Download): Promise<void> {
  ctx.status = 200;
  ctx.set('Content-Disposition', 'attachment; filename="firmware.bin"');
  ctx.set('ETag', `"${ota.sha256}"`);
  ctx.set('x-MD5', ota.md5);
  ctx.set('Cache-Control', 'no-cache');
  ctx.type = 'application/octet-stream';
  if (ctx.method === 'HEAD') {
    await handle.close();
  } else {
    ctx.body = handle.createReadStream();
  }
  // After the body: Koa drops Content-Length when a stream body is assigned.
  ctx.length = ota.size;
}
