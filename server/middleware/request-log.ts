import type { Context, Next } from 'koa';
import { logRequest } from '../log.js';

// Not anchored, any case, any run of slashes: the router matches paths case-insensitively, an
// absolute-form request target (`GET http://host/v1/...`) is routed by its path too, and a path
// the router does not take must not leave a token in the log either.
const DOWNLOAD = /(\/+v1\/+ota\/+(?:device|group)\/+download\/+[^/?#]{0,24})[^/?#]*/gi;
/** A percent-encoded letter, digit or `-._~`: spelt out before matching. */
const ENCODED_UNRESERVED = /%(?:[46][1-9a-f]|[57][0-9a]|3[0-9]|2d|2e|5f|7e)/gi;
const SECRET_QUERY = /([?&](?:token|api_?key|apiKey|password|access_token)=)[^&]*/gi;

/**
 * The path as it may be logged. Download URLs end in the device (or group) token, so all
 * that follows the 24-character id is replaced, whatever the path's letter case; so are
 * secret-looking query parameters.
 */
export function redactPath(url: string): string {
  return url
    .replace(ENCODED_UNRESERVED, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)))
    .replace(DOWNLOAD, '$1[redacted]')
    .replace(SECRET_QUERY, '$1[redacted]');
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
