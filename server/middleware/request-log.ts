import type { Context, Next } from 'koa';
import { logRequest } from '../log.js';

const DOWNLOAD = /^(\/v1\/ota\/(?:device|group)\/download\/[^/?]{0,24})[^/?]*/;
const SECRET_QUERY = /([?&](?:token|api_?key|apiKey|password|access_token)=)[^&]*/gi;

/**
 * The path as it may be logged. Download URLs end in the device (or group) token, so all
 * that follows the 24-character id is replaced; so are secret-looking query parameters.
 */
export function redactPath(url: string): string {
  return url.replace(DOWNLOAD, '$1[redacted]').replace(SECRET_QUERY, '$1[redacted]');
}

/** One log line per request (server/log.ts): time, method, path (redacted), status, duration. */
export async function requestLog(ctx: Context, next: Next): Promise<void> {
  const started = process.hrtime.bigint();
  ctx.state.logPath = redactPath(ctx.originalUrl);
  try {
    await next();
  } finally {
    logRequest(ctx.method, ctx.state.logPath, ctx.status, started);
  }
}
