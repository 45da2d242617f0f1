import type { Context, Next } from 'koa';

const DOWNLOAD = /^(\/v1\/ota\/(?:device|group)\/download\/[^/?]{0,24})[^/?]*/;
const SECRET_QUERY = /([?&](?:token|api_?key|apiKey|password|access_token)=)[^&]*/gi;

/**
 * The path as it may be logged. Download URLs end in the device (or group) token, so all
 * that follows the 24-character id is replaced; so are secret-looking query parameters.
 */
export function redactPath(url: string): string {
  return url.replace(DOWNLOAD, '$1[redacted]').replace(SECRET_QUERY, '$1[redacted]');
}

/** One line per request on stdout: time, method, path (redacted), status, duration. */
export function requestLog(write: (line: string) => void = (line) => process.stdout.write(line + '\n')) {
  return async function requestLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    ctx.state.logPath = redactPath(ctx.originalUrl);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      write(`${new Date().toISOString()} ${ctx.method} ${ctx.state.logPath} ${ctx.status} ${ms.toFixed(1)}ms`);
    }
  };
}
