import path from 'node:path';
import { Messages, type UrlProblem } from './errors.js';
import { LOG_FORMATS, type LogFormat } from './log.js';
import type { S3Location } from './storage/s3/s3-firmware-store.js';
import {
  IOTAAP_OS_TOPICS,
  TEMPLATE_PLACEHOLDERS,
  templateProblem,
  type TopicTemplates,
} from './mqtt/topics.js';

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
  /**
   * Take the client's address from X-Forwarded-For (the proxy's last hop) instead of the
   * socket. Only behind a reverse proxy that sets it: otherwise any client could name any
   * address, and login throttling per address would mean nothing.
   */
  trustProxy: boolean;
  /** Seconds a download may make no progress (the client reads nothing) before it is closed. */
  downloadIdleTimeoutSeconds: number;
  /**
   * Failed device requests (`latest`/`download` answering "No such device") one client address
   * may make per minute before its device requests get `429`; 0: no limit (docs/security.md).
   */
  deviceFailureLimit: number;
  /** The broker devices use (`--mqtt`), or null: no triggers, no reports (docs/push.md). */
  mqtt: MqttConfig | null;
  /** When set, `GET /metrics` requires `Authorization: Bearer <this>`; else it is open. */
  metricsToken: string | null;
  /** `--storage s3://bucket[/prefix]`: firmware in that bucket; null: files in the data directory. */
  storage: S3Location | null;
  /** `--database postgres://...`: metadata in PostgreSQL; null: SQLite in the data directory. */
  database: DatabaseLocation | null;
  /** A device not heard from for longer than this is `silent` in the fleet summary (seconds). */
  silentAfterSeconds: number;
}

interface MqttConfig {
  /** `mqtt://` or `mqtts://`, with the registry's user name and password when it has them. */
  url: string;
  /** The same without the password, for logs and the start-up line. */
  displayUrl: string;
  topics: TopicTemplates;
}

export const DEFAULTS = {
  port: 3080,
  host: '0.0.0.0',
  dataDir: './data',
  maxUploadBytes: 8 * 1024 * 1024,
  historyDepth: 5,
  workers: 1,
  downloadIdleTimeoutSeconds: 120,
  deviceFailureLimit: 100,
  silentAfterSeconds: 24 * 60 * 60,
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
    throw new ConfigError(Messages.settingRange(raw.source, raw.value, what, min, max));
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

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** "86400", "90m", "24h", "7d": a duration in seconds, from a minute to a year. */
function parseDuration(raw: Raw): number {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(raw.value.trim());
  const seconds = match ? Number(match[1]) * DURATION_UNITS[match[2].toLowerCase()] : NaN;
  if (!(seconds >= 60 && seconds <= 366 * 86400)) {
    throw new ConfigError(
      `${raw.source} is "${raw.value}": expected a duration from 60s to 366d, such as 3600, 90m, 24h or 7d`,
    );
  }
  return seconds;
}

/** "8388608", "8MiB", "8M", "512k": sizes in bytes, binary units. */
function parseSize(raw: Raw): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.value.trim());
  const unit = match ? SIZE_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new ConfigError(Messages.sizeInvalid(raw.source, raw.value));
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1024 || bytes > 1024 ** 3) {
    throw new ConfigError(Messages.sizeOutOfRange(raw.source, raw.value));
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
  'trust-proxy'?: boolean;
  'download-idle-timeout'?: string;
  'device-failure-limit'?: string;
  mqtt?: string;
  'mqtt-device-trigger-topic'?: string;
  'mqtt-group-trigger-topic'?: string;
  'mqtt-response-topic'?: string;
  'mqtt-status-topic'?: string;
  'metrics-token'?: string;
  storage?: string;
  database?: string;
  'silent-after'?: string;
}

/** Each topic template's flag and variable (the flag is `--mqtt-<name>-topic`). */
const TOPIC_SETTINGS: Record<keyof TopicTemplates, { flag: keyof ConfigFlags; env: string }> = {
  deviceTrigger: { flag: 'mqtt-device-trigger-topic', env: 'OTA_MQTT_DEVICE_TRIGGER_TOPIC' },
  groupTrigger: { flag: 'mqtt-group-trigger-topic', env: 'OTA_MQTT_GROUP_TRIGGER_TOPIC' },
  updateResponse: { flag: 'mqtt-response-topic', env: 'OTA_MQTT_RESPONSE_TOPIC' },
  status: { flag: 'mqtt-status-topic', env: 'OTA_MQTT_STATUS_TOPIC' },
};

/** A URL setting with one of `protocols`; `invalid` words the refusal, which never echoes the value. */
function parseUrl(
  raw: Raw,
  protocols: readonly string[],
  invalid: (source: string, problem: UrlProblem) => string,
): URL {
  let url: URL;
  try {
    url = new URL(raw.value);
  } catch {
    throw new ConfigError(invalid(raw.source, 'is not a URL'));
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(invalid(raw.source, `starts with ${url.protocol}//`));
  }
  return url;
}

/** `--mqtt` / OTA_MQTT_URL and the topic templates; null without a broker URL. */
function loadMqtt(flags: ConfigFlags, env: NodeJS.ProcessEnv): MqttConfig | null {
  const topics = { ...IOTAAP_OS_TOPICS };
  for (const key of Object.keys(TOPIC_SETTINGS) as Array<keyof TopicTemplates>) {
    const { flag, env: envName } = TOPIC_SETTINGS[key];
    const raw = pick(flag, flags[flag] as string | undefined, envName, env);
    if (!raw) continue;
    const problem = templateProblem(raw.value, TEMPLATE_PLACEHOLDERS[key]);
    if (problem)
      throw new ConfigError(Messages.topicTemplateInvalid(raw.source, raw.value, problem));
    topics[key] = raw.value;
  }
  const raw = pick('mqtt', flags.mqtt, 'OTA_MQTT_URL', env);
  if (!raw) return null;
  // Never echo the value once it parsed: it may hold the broker password.
  const url = parseUrl(raw, ['mqtt:', 'mqtts:'], Messages.mqttUrlInvalid);
  if (url.hostname === '')
    throw new ConfigError(Messages.mqttUrlInvalid(raw.source, 'has no host'));
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash) {
    throw new ConfigError(Messages.mqttUrlInvalid(raw.source, 'has a path, query or fragment'));
  }
  if (url.password && !url.username) {
    throw new ConfigError(Messages.mqttUrlInvalid(raw.source, 'has a password but no user name'));
  }
  const display = new URL(url.href);
  display.password = '';
  return { url: url.href, displayUrl: display.href.replace(/\/$/, ''), topics };
}

/** Where PostgreSQL is: the URL to connect with, and the same without its password. */
export interface DatabaseLocation {
  url: string;
  displayUrl: string;
}

/**
 * `--database` / OTA_DATABASE_URL (`postgres://` or `postgresql://`); null without one (SQLite
 * in the data directory). The value is never echoed once it parsed: it may hold a password.
 * Query parameters (sslmode=require...) go to the driver as they are.
 */
export function loadDatabase(
  flagValue: string | undefined,
  env: NodeJS.ProcessEnv,
): DatabaseLocation | null {
  const raw = pick('database', flagValue, 'OTA_DATABASE_URL', env);
  if (!raw) return null;
  const url = parseUrl(raw, ['postgres:', 'postgresql:'], Messages.databaseUrlInvalid);
  if (url.hostname === '')
    throw new ConfigError(Messages.databaseUrlInvalid(raw.source, 'has no host'));
  if (url.pathname.replace(/^\//, '') === '')
    throw new ConfigError(Messages.databaseUrlInvalid(raw.source, 'names no database'));
  if (url.password && !url.username) {
    throw new ConfigError(
      Messages.databaseUrlInvalid(raw.source, 'has a password but no user name'),
    );
  }
  const display = new URL(url.href);
  display.password = '';
  return { url: raw.value.trim(), displayUrl: display.href };
}

/**
 * `--storage` / OTA_STORAGE_URL (`s3://bucket[/prefix]`), with OTA_S3_ENDPOINT and
 * OTA_S3_REGION; null without a storage URL (files in the data directory). Credentials are not
 * settings: the AWS SDK reads them its standard way (AWS_ACCESS_KEY_ID, profiles, roles).
 */
export function loadStorage(
  flagValue: string | undefined,
  env: NodeJS.ProcessEnv,
): S3Location | null {
  const raw = pick('storage', flagValue, 'OTA_STORAGE_URL', env);
  if (!raw) return null;
  const match = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(raw.value.trim());
  if (!match) throw new ConfigError(Messages.storageUrlInvalid(raw.source, raw.value));
  const [, bucket, rest = ''] = match;
  // S3's rules for bucket names (lower case, digits, dots and hyphens, 3 to 63 characters).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(Messages.bucketNameInvalid(raw.source, bucket));
  }
  const prefix = rest.replace(/^\/+|\/+$/g, '');
  if (prefix !== '' && prefix.split('/').some((part) => ['', '.', '..'].includes(part))) {
    throw new ConfigError(Messages.storagePrefixInvalid(raw.source));
  }
  return {
    bucket,
    prefix: prefix === '' ? '' : `${prefix}/`,
    endpoint: loadS3Endpoint(env),
    region: loadS3Region(env),
  };
}

function loadS3Endpoint(env: NodeJS.ProcessEnv): string | null {
  const raw = pick('', undefined, 'OTA_S3_ENDPOINT', env);
  if (!raw) return null;
  const url = parseUrl(raw, ['http:', 'https:'], Messages.s3EndpointInvalid);
  // Never echo it once it parsed: it might hold a password.
  if (url.username || url.password) {
    throw new ConfigError(Messages.s3EndpointCredentials(raw.source));
  }
  if (url.search || url.hash)
    throw new ConfigError(Messages.s3EndpointInvalid(raw.source, 'has a query or fragment'));
  return url.href.replace(/\/$/, '');
}

function loadS3Region(env: NodeJS.ProcessEnv): string {
  const raw = pick('', undefined, 'OTA_S3_REGION', env);
  if (!raw) return 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(raw.value)) {
    throw new ConfigError(Messages.s3RegionInvalid(raw.source, raw.value));
  }
  return raw.value;
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
  const trustProxy = pick('trust-proxy', undefined, 'OTA_TRUST_PROXY', env);
  const idle = pick(
    'download-idle-timeout',
    flags['download-idle-timeout'],
    'OTA_DOWNLOAD_IDLE_TIMEOUT',
    env,
  );
  const failureLimit = pick(
    'device-failure-limit',
    flags['device-failure-limit'],
    'OTA_DEVICE_FAILURE_LIMIT',
    env,
  );
  const metricsToken = pick('metrics-token', flags['metrics-token'], 'OTA_METRICS_TOKEN', env);
  const silentAfter = pick('silent-after', flags['silent-after'], 'OTA_SILENT_AFTER', env);

  if (host && !/^[A-Za-z0-9.:[\]-]+$/.test(host.value)) {
    throw new ConfigError(Messages.hostInvalid(host.source, host.value));
  }
  if (data && data.value.trim() === '') throw new ConfigError(Messages.dataDirEmpty(data.source));
  if (log && !['on', 'off', 'true', 'false', '1', '0'].includes(log.value)) {
    throw new ConfigError(Messages.requestLogInvalid(log.source, log.value));
  }
  if (trustProxy && !['true', 'false', '1', '0'].includes(trustProxy.value)) {
    throw new ConfigError(Messages.trustProxyInvalid(trustProxy.source, trustProxy.value));
  }
  if (logFormat && !(LOG_FORMATS as readonly string[]).includes(logFormat.value)) {
    throw new ConfigError(
      Messages.logFormatInvalid(logFormat.source, logFormat.value, LOG_FORMATS),
    );
  }
  // It travels in a header: printable ASCII, no spaces.
  if (metricsToken && !/^[\x21-\x7e]+$/.test(metricsToken.value)) {
    throw new ConfigError(Messages.metricsTokenInvalid(metricsToken.source));
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
    trustProxy: flags['trust-proxy'] === true || ['true', '1'].includes(trustProxy?.value ?? ''),
    downloadIdleTimeoutSeconds: idle
      ? integer(idle, 1, 86400, 'a number of seconds')
      : DEFAULTS.downloadIdleTimeoutSeconds,
    deviceFailureLimit: failureLimit
      ? integer(failureLimit, 0, 1_000_000, 'a number of failures per minute')
      : DEFAULTS.deviceFailureLimit,
    mqtt: loadMqtt(flags, env),
    logRequests: flags['no-request-log']
      ? false
      : log
        ? ['on', 'true', '1'].includes(log.value)
        : true,
    logFormat: (logFormat?.value as LogFormat | undefined) ?? 'text',
    metricsToken: metricsToken?.value ?? null,
    storage: loadStorage(flags.storage, env),
    database: loadDatabase(flags.database, env),
    silentAfterSeconds: silentAfter ? parseDuration(silentAfter) : DEFAULTS.silentAfterSeconds,
  };
}

/** Only the data directory: what the operator commands (user, key, device) need. */
export function loadDataDir(
  flagValue: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const data = pick('data', flagValue, 'OTA_DATA_DIR', env);
  if (data && data.value.trim() === '') throw new ConfigError(Messages.dataDirEmpty(data.source));
  return path.resolve(data?.value ?? DEFAULTS.dataDir);
}
