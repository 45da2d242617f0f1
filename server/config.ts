import path from 'node:path';
import { LOG_FORMATS, type LogFormat } from './log.js';

/** Everything the registry reads from its environment, read once at the edge (cli/). */
export interface Config {
  /** Port to listen on; 0 picks a free one (tests). */
  port: number;
  host: string;
  /** Holds registry.db, the firmware files and tmp/. */
  dataDir: string;
  /** Largest firmware file accepted, in bytes. */
  maxUploadBytes: number;
  /** How many versions per device are kept, the served one included. */
  historyDepth: number;
  /** One log line per request on stdout. */
  logRequests: boolean;
  /** How log lines are written: readable text, or one JSON object per line (server/log.ts). */
  logFormat: LogFormat;
  /**
   * Processes serving requests. Above 1, `serve` forks them (node:cluster) and they share the
   * port; they share nothing else but the database and the files, so no in-memory state may
   * assume it sees every write (SQLite's `PRAGMA data_version` tells a process when another
   * one wrote).
   */
  workers: number;
  /** When set, `GET /metrics` requires `Authorization: Bearer <this>`; else it is open. */
  metricsToken: string | null;
}

export const DEFAULTS = {
  port: 3080,
  host: '0.0.0.0',
  dataDir: './data',
  maxUploadBytes: 8 * 1024 * 1024,
  historyDepth: 5,
  workers: 1,
} as const;

/** A setting that cannot be used; the message names the flag or variable it came from. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One setting as given: the value, and where it came from for error messages. */
interface Raw {
  value: string;
  source: string;
}

/** Flags win over environment variables, which win over the defaults. */
function pick(
  flag: string,
  flagValue: string | undefined,
  envName: string,
  env: NodeJS.ProcessEnv,
): Raw | undefined {
  if (flagValue !== undefined) return { value: flagValue, source: `--${flag}` };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: envName };
  return undefined;
}

function integer(raw: Raw, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(raw.value.trim()) || Number(raw.value) < min || Number(raw.value) > max) {
    throw new ConfigError(
      `${raw.source} is "${raw.value}": expected ${what} from ${min} to ${max}`,
    );
  }
  return Number(raw.value);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** "8388608", "8MiB", "8M", "512k": sizes in bytes, binary units. */
function parseSize(raw: Raw): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.value.trim());
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new ConfigError(
      `${raw.source} is "${raw.value}": expected a size such as 8388608, 8MiB or 512KiB`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1024 || bytes > 1024 ** 3) {
    throw new ConfigError(`${raw.source} is "${raw.value}": expected a size from 1KiB to 1GiB`);
  }
  return bytes;
}

export interface ConfigFlags {
  port?: string;
  host?: string;
  data?: string;
  'max-upload-size'?: string;
  history?: string;
  workers?: string;
  'no-request-log'?: boolean;
  'log-format'?: string;
  'metrics-token'?: string;
}

/** Builds and validates the configuration; throws ConfigError naming the bad setting. */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  const port = pick('port', flags.port, 'OTA_PORT', env);
  const host = pick('host', flags.host, 'OTA_HOST', env);
  const data = pick('data', flags.data, 'OTA_DATA_DIR', env);
  const size = pick('max-upload-size', flags['max-upload-size'], 'OTA_MAX_UPLOAD_SIZE', env);
  const history = pick('history', flags.history, 'OTA_HISTORY', env);
  const workers = pick('workers', flags.workers, 'OTA_WORKERS', env);
  const log = pick('no-request-log', undefined, 'OTA_REQUEST_LOG', env);
  const logFormat = pick('log-format', flags['log-format'], 'OTA_LOG_FORMAT', env);
  const metricsToken = pick('metrics-token', flags['metrics-token'], 'OTA_METRICS_TOKEN', env);

  if (host && !/^[A-Za-z0-9.:[\]-]+$/.test(host.value)) {
    throw new ConfigError(`${host.source} is "${host.value}": expected a host name or IP address`);
  }
  if (data && data.value.trim() === '')
    throw new ConfigError(`${data.source} is empty: expected a directory`);
  if (log && !['on', 'off', 'true', 'false', '1', '0'].includes(log.value)) {
    throw new ConfigError(`${log.source} is "${log.value}": expected on or off`);
  }
  if (logFormat && !(LOG_FORMATS as readonly string[]).includes(logFormat.value)) {
    throw new ConfigError(
      `${logFormat.source} is "${logFormat.value}": expected ${LOG_FORMATS.join(' or ')}`,
    );
  }
  // It travels in a header: printable ASCII, no spaces.
  if (metricsToken && !/^[\x21-\x7e]+$/.test(metricsToken.value)) {
    throw new ConfigError(
      `${metricsToken.source} is not valid: expected printable ASCII characters without spaces`,
    );
  }
  return {
    port: port ? integer(port, 0, 65535, 'a port number') : DEFAULTS.port,
    host: host?.value ?? DEFAULTS.host,
    dataDir: path.resolve(data?.value ?? DEFAULTS.dataDir),
    maxUploadBytes: size ? parseSize(size) : DEFAULTS.maxUploadBytes,
    historyDepth: history
      ? integer(history, 1, 1000, 'a number of versions')
      : DEFAULTS.historyDepth,
    workers: workers ? integer(workers, 1, 64, 'a number of processes') : DEFAULTS.workers,
    logRequests: flags['no-request-log']
      ? false
      : log
        ? ['on', 'true', '1'].includes(log.value)
        : true,
    logFormat: (logFormat?.value as LogFormat | undefined) ?? 'text',
    metricsToken: metricsToken?.value ?? null,
  };
}

/** Only the data directory: what the operator commands (user, key, device) need. */
export function loadDataDir(
  flagValue: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const data = pick('data', flagValue, 'OTA_DATA_DIR', env);
  if (data && data.value.trim() === '')
    throw new ConfigError(`${data.source} is empty: expected a directory`);
  return path.resolve(data?.value ?? DEFAULTS.dataDir);
}
