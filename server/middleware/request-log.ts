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

/** Writes to a pipe up to this size are atomic (POSIX); larger ones may interleave with other writers'. */
const PIPE_BUF = 4096;

/**
 * Gathers lines and hands them to `sink` once per turn of the event loop. Writing each line on
 * its own cost one write() system call per request, 28% of `latest` throughput (npm run bench);
 * under load one call now carries many lines. Each call is at most PIPE_BUF (4096) bytes of
 * whole lines, so the workers of `serve --workers N`, sharing one stdout pipe, never interleave
 * inside a line. Lines still leave within the turn they were logged in, and what is pending when
 * the process exits is written then (stdout to a file or a pipe is synchronous on Linux).
 */
export function batchedLines(sink: (text: string) => void): {
  write(line: string): void;
  flush(): void;
} {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const lines = pending;
    pending = [];
    let chunk = '';
    for (const line of lines) {
      if (chunk !== '' && Buffer.byteLength(chunk) + Buffer.byteLength(line) + 1 > PIPE_BUF) {
        sink(chunk);
        chunk = '';
      }
      chunk += line + '\n';
    }
    if (chunk !== '') sink(chunk);
  };
  return {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

let stdoutLines: ReturnType<typeof batchedLines> | undefined;

/** One batcher for the process's stdout, however many apps are created (tests make many). */
function stdoutLine(line: string): void {
  if (!stdoutLines) {
    const lines = batchedLines((text) => process.stdout.write(text));
    process.once('exit', lines.flush);
    stdoutLines = lines;
  }
  stdoutLines.write(line);
}

/** The request log's line: time, method, path (already redacted), status, duration. */
export function requestLine(
  method: string,
  loggedPath: string,
  status: number,
  started: bigint,
): string {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return `${new Date().toISOString()} ${method} ${loggedPath} ${status} ${ms.toFixed(1)}ms`;
}

/** One line per request on stdout: time, method, path (redacted), status, duration. */
export function requestLog(write: (line: string) => void = stdoutLine) {
  return async function requestLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    ctx.state.logPath = redactPath(ctx.originalUrl);
    try {
      await next();
    } finally {
      write(requestLine(ctx.method, ctx.state.logPath, ctx.status, started));
    }
  };
}

export { stdoutLine };
