import { inspect } from 'node:util';

/**
 * The registry's one log. Request lines go to stdout, batched per turn of the event loop;
 * problems go to stderr at once. `text` (the default) is one readable line each; `json` is one
 * JSON object per line for log shippers (`--log-format json`, OTA_LOG_FORMAT=json).
 */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

let format: LogFormat = 'text';

/** Set once at start-up (`serve`), before anything is logged. */
export function setLogFormat(value: LogFormat): void {
  format = value;
}

/** One answered request; `path` is already redacted (middleware/request-log.ts). */
export function logRequest(method: string, path: string, status: number, started: bigint): void {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const time = new Date().toISOString();
  stdoutLine(
    format === 'json'
      ? JSON.stringify({ time, level: 'info', method, path, status, ms: Math.round(ms * 10) / 10 })
      : `${time} ${method} ${path} ${status} ${ms.toFixed(1)}ms`,
  );
}

/**
 * A change an operator wants to see that no request caused (a broker link lost, or back):
 * stderr at once, like problems, at level `info` or `warn`.
 */
export function logEvent(level: 'info' | 'warn', message: string): void {
  const time = new Date().toISOString();
  console.error(
    format === 'json' ? JSON.stringify({ time, level, message }) : `${time} ${message}`,
  );
}

/**
 * Something went wrong that no client is told about in detail (a 500, a background write, the
 * checkpoint thread): what it was and, when there is one, the error with its stack.
 */
export function logError(message: string, err?: unknown): void {
  const time = new Date().toISOString();
  if (format === 'json') {
    const error =
      err instanceof Error
        ? {
            name: err.name,
            message: err.message,
            code: (err as { code?: unknown }).code,
            stack: err.stack,
          }
        : err === undefined
          ? undefined
          : String(err);
    console.error(JSON.stringify({ time, level: 'error', message, error }));
  } else {
    console.error(err === undefined ? `${time} ${message}` : `${time} ${message}: ${inspect(err)}`);
  }
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
