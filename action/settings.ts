import * as path from 'node:path';
import { OBJECT_ID, TOKEN } from '../contract/ids.js';
import { isValidVersion, versionFromTag } from '../contract/version.js';
import { SettingsError } from './errors.js';
import * as messages from './messages.js';

/** IoTaaP's cloud; a self-hosted registry is any other base URL. */
export const DEFAULT_REGISTRY_URL = 'https://api.iotaap.io';
export const DEFAULT_RETRIES = 3;
/** Retrying longer than this only delays the red cross in CI. */
const MAX_RETRIES = 10;

/** How a check before the upload acts on a finding: a warning, a failed run, or not at all. */
type CheckMode = 'warn' | 'fail' | 'off';

/** How the client proves who it is: a long-lived API key, or a login on every run. */
export type Credentials =
  { kind: 'api-token'; apiToken: string } | { kind: 'login'; email: string; password: string };

/** Where the firmware goes: one device, or every device of a group (IoTaaP's group OTA). */
export interface DeployTarget {
  kind: 'device' | 'group';
  /** 24 lowercase hexadecimal characters. */
  id: string;
  token: string;
}

/**
 * Everything one deploy needs, validated. Both front ends produce it: the Action from its
 * inputs (input-helper.ts), the `ota-deploy` CLI from flags and OTA_* variables (cli-args.ts).
 */
export interface DeploySettings {
  /** Base URL without a trailing slash, e.g. `https://api.iotaap.io`. */
  registryUrl: string;
  credentials: Credentials;
  target: DeployTarget;
  /** Semantic version without a leading `v`, e.g. `1.2.7`. */
  version: string;
  /** Absolute path of the PlatformIO project. */
  projectDir: string;
  /** The PlatformIO environment (`[env:NAME]`), when given. */
  environment?: string;
  /** Absolute path of the image to upload, when given; otherwise found under `.pio/build`. */
  firmware?: string;
  build: boolean;
  /** Build and check, say what would be uploaded where, and send nothing to the registry. */
  dryRun?: true;
  installPlatformio: boolean;
  injectVersion: boolean;
  verifyVersion: CheckMode;
  /** Whether the image must carry a known OTA client (docs/ota-client-guard.md). */
  verifyOtaClient: CheckMode;
  /** Retries after the first attempt, on network errors, 5xx and 429. */
  retries: number;
  /**
   * Tell the devices over MQTT to update now (the upload's `trigger` field). Undefined: send
   * nothing and let the registry decide (a self-hosted one triggers when it has a broker and the
   * account an MQTT user; docs/push.md).
   */
  trigger?: boolean;
  /** A group's staged rollout: rising percentages ending at 100 (docs/rollouts.md). */
  rollout?: number[];
  /** How long to wait after the upload for the target to verify the version; unset: not at all. */
  waitMs?: number;
}

/**
 * Every option, by its kebab-case name: the Action's input (in action.yml's order) and the CLI's
 * flag, so that one message fits both.
 */
export const SETTING_NAMES = [
  'registry-url',
  'api-token',
  'email',
  'password',
  'device-id',
  'device-token',
  'group-id',
  'group-token',
  'version',
  'project-dir',
  'environment',
  'firmware',
  'build',
  'dry-run',
  'install-platformio',
  'inject-version',
  'verify-version',
  'verify-ota-client',
  'retries',
  'trigger',
  'rollout',
  'wait',
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];

/** The on/off options (`true`/`false`; the CLI's `--build` and `--no-build`). */
export const SWITCH_SETTINGS = [
  'build',
  'dry-run',
  'install-platformio',
  'inject-version',
] as const satisfies ReadonlyArray<SettingName>;

/** The options as text, exactly as a front end read them; empty or undefined means "not given". */
export type RawSettings = Partial<Record<SettingName, string>>;

/** Where a version comes from when the `version` option is not given. */
export interface VersionSource {
  /** The tag this run was started for (`v1.2.7`), if any. */
  tag?: string;
  /** Why there is no tag and how to fix that, in the words of the front end. */
  missing: string;
}

/** PlatformIO env names come from `[env:NAME]`; whitespace or a comma would mean several. */
const ENVIRONMENT = /^[^\s,]+$/;

/**
 * Validates raw options into settings. Relative paths resolve against `cwd` (the workspace).
 * Throws SettingsError naming the option at the first problem.
 */
export function parseSettings(
  raw: RawSettings,
  versionSource: VersionSource,
  cwd: string,
): DeploySettings {
  const get = (name: keyof RawSettings): string | undefined => {
    const value = raw[name]?.trim();
    return value ? value : undefined;
  };

  const projectDir = path.resolve(cwd, get('project-dir') ?? '.');
  const firmware = get('firmware');
  const environment = get('environment');
  if (environment !== undefined && !ENVIRONMENT.test(environment)) {
    throw new SettingsError(messages.environmentInvalid(environment));
  }

  const settings: DeploySettings = {
    registryUrl: parseRegistryUrl(get('registry-url') ?? DEFAULT_REGISTRY_URL),
    credentials: parseCredentials(get('api-token'), get('email'), get('password')),
    target: parseTarget(get('device-id'), get('device-token'), get('group-id'), get('group-token')),
    version: parseVersion(get('version'), versionSource),
    projectDir,
    build: parseBoolean('build', get('build'), true),
    installPlatformio: parseBoolean('install-platformio', get('install-platformio'), true),
    injectVersion: parseBoolean('inject-version', get('inject-version'), true),
    verifyVersion: parseCheckMode('verify-version', get('verify-version')),
    verifyOtaClient: parseCheckMode('verify-ota-client', get('verify-ota-client')),
    retries: parseRetries(get('retries')),
  };
  refuseSelfHostedKeyAtCloud(settings.credentials, settings.registryUrl);
  if (parseBoolean('dry-run', get('dry-run'), false)) settings.dryRun = true;
  const trigger = parseTrigger(get('trigger'), settings.registryUrl);
  if (trigger !== undefined) settings.trigger = trigger;
  Object.assign(settings, parseFollowUp(get('rollout'), get('wait'), settings));
  if (environment !== undefined) settings.environment = environment;
  if (firmware !== undefined) settings.firmware = path.resolve(cwd, firmware);
  return settings;
}

function parseRegistryUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(messages.registryUrlNotUrl(value));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SettingsError(messages.registryUrlScheme(value));
  }
  if (url.username || url.password) {
    // Credentials in a URL end up in logs; the registry takes a Bearer token instead.
    throw new SettingsError(messages.registryUrlCredentials);
  }
  if (url.search || url.hash) {
    throw new SettingsError(messages.registryUrlQuery(value));
  }
  return url.href.replace(/\/+$/, '');
}

/** What this project's registry puts in front of the secrets it issues (server/secrets.ts). */
const SELF_HOSTED_SECRET_PREFIXES = { ota_key_: 'an API key', ota_ses_: 'a session token' };

/**
 * `registry-url` left at IoTaaP's cloud with a key our own registry issued: the upload would send
 * that key to a third party and fail there with a 401 that does not say why. Stop before
 * anything is sent, naming the fix. (Never echoes the key.)
 */
function refuseSelfHostedKeyAtCloud(credentials: Credentials, registryUrl: string): void {
  if (credentials.kind !== 'api-token' || !isIotaapCloud(registryUrl)) return;
  for (const [prefix, what] of Object.entries(SELF_HOSTED_SECRET_PREFIXES)) {
    if (credentials.apiToken.startsWith(prefix)) {
      throw new SettingsError(messages.selfHostedKeyAtCloud(what, prefix, DEFAULT_REGISTRY_URL));
    }
  }
}

function isIotaapCloud(registryUrl: string): boolean {
  return new URL(registryUrl).hostname === new URL(DEFAULT_REGISTRY_URL).hostname;
}

function parseCredentials(
  apiToken: string | undefined,
  email: string | undefined,
  password: string | undefined,
): Credentials {
  if (apiToken !== undefined) {
    if (email !== undefined || password !== undefined) {
      throw new SettingsError(messages.twoCredentials);
    }
    return { kind: 'api-token', apiToken };
  }
  if (email !== undefined && password !== undefined) return { kind: 'login', email, password };
  if (email !== undefined) throw new SettingsError(messages.halfLogin('email', 'password'));
  if (password !== undefined) throw new SettingsError(messages.halfLogin('password', 'email'));
  throw new SettingsError(messages.noCredentials);
}

function parseTarget(
  deviceId: string | undefined,
  deviceToken: string | undefined,
  groupId: string | undefined,
  groupToken: string | undefined,
): DeployTarget {
  const device = deviceId !== undefined || deviceToken !== undefined;
  const group = groupId !== undefined || groupToken !== undefined;
  if (device && group) {
    throw new SettingsError(messages.twoTargets);
  }
  if (group) return parseIdAndToken('group', groupId, groupToken);
  if (device) return parseIdAndToken('device', deviceId, deviceToken);
  throw new SettingsError(messages.noTarget);
}

function parseIdAndToken(
  kind: DeployTarget['kind'],
  id: string | undefined,
  token: string | undefined,
): DeployTarget {
  if (id === undefined) throw new SettingsError(messages.idWithoutToken(kind));
  if (!OBJECT_ID.test(id.toLowerCase())) {
    throw new SettingsError(messages.targetIdInvalid(kind, id.length));
  }
  if (token === undefined) throw new SettingsError(messages.tokenWithoutId(kind));
  if (!TOKEN.test(token)) {
    // Never echo the token: it is a secret even when malformed.
    throw new SettingsError(messages.targetTokenInvalid(kind));
  }
  return { kind, id: id.toLowerCase(), token };
}

function parseVersion(value: string | undefined, source: VersionSource): string {
  if (value !== undefined) {
    const version = value.replace(/^[vV]/, '');
    if (!isValidVersion(version)) {
      throw new SettingsError(messages.versionInvalid(value));
    }
    return version;
  }
  if (source.tag === undefined) {
    throw new SettingsError(messages.noVersion(source.missing));
  }
  const version = versionFromTag(source.tag);
  if (version === undefined) {
    throw new SettingsError(messages.tagInvalid(source.tag));
  }
  return version;
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** The YAML 1.2 core schema booleans, as @actions/core's getBooleanInput accepts them. */
function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new SettingsError(messages.booleanInvalid(name, value));
}

/**
 * `trigger`: true or false, or not given. IoTaaP's cloud documents no such field on its upload
 * (its upload triggers the devices by itself), so a value there would be silently ignored:
 * refused instead, saying so.
 */
function parseTrigger(value: string | undefined, registryUrl: string): boolean | undefined {
  if (value === undefined) return undefined;
  const trigger = parseBoolean('trigger', value, false);
  if (isIotaapCloud(registryUrl)) {
    throw new SettingsError(messages.triggerAtCloud);
  }
  return trigger;
}

function parseCheckMode(name: SettingName, value: string | undefined): CheckMode {
  if (value === undefined) return 'warn';
  const mode = value.toLowerCase();
  if (mode === 'warn' || mode === 'fail' || mode === 'off') return mode;
  throw new SettingsError(messages.checkModeInvalid(name, value));
}

function parseRetries(value: string | undefined): number {
  if (value === undefined) return DEFAULT_RETRIES;
  if (!/^\d+$/.test(value) || Number(value) > MAX_RETRIES) {
    throw new SettingsError(messages.retriesInvalid(MAX_RETRIES, value));
  }
  return Number(value);
}

/** GitHub stops a job after 6 hours: a longer wait could never end by itself. */
const MAX_WAIT_MS = 6 * 3600_000;
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * `rollout` and `wait`, which only a self-hosted ota-registry offers (IoTaaP's cloud has no
 * rollouts and no device reports to wait for). A rollout is a group's; waiting on a group needs
 * a rollout, whose `completed` is what "verified" means there.
 */
function parseFollowUp(
  rolloutValue: string | undefined,
  waitValue: string | undefined,
  settings: DeploySettings,
): Pick<DeploySettings, 'rollout' | 'waitMs'> {
  const waitMs = waitValue === undefined ? 0 : parseDuration(waitValue);
  const rollout = rolloutValue === undefined ? undefined : parsePhases(rolloutValue);
  const cloud = new URL(settings.registryUrl).hostname === new URL(DEFAULT_REGISTRY_URL).hostname;
  for (const [name, given] of [
    ['rollout', rollout !== undefined],
    ['wait', waitMs > 0],
  ] as const) {
    if (given && cloud) {
      throw new SettingsError(messages.fleetSettingAtCloud(name));
    }
  }
  if (rollout !== undefined && settings.target.kind !== 'group') {
    throw new SettingsError(messages.rolloutNeedsGroup);
  }
  if (waitMs > 0 && settings.target.kind === 'group' && rollout === undefined) {
    throw new SettingsError(messages.groupWaitNeedsRollout);
  }
  return {
    ...(rollout !== undefined ? { rollout } : {}),
    ...(waitMs > 0 ? { waitMs } : {}),
  };
}

/** `5,25,100`: rising whole percentages from 1 to 100, ending at 100. */
function parsePhases(value: string): number[] {
  const phases = value
    .split(',')
    .map((part) => (/^\s*\d{1,3}\s*$/.test(part) ? Number(part) : NaN));
  const rising = phases.every((p, i) => p >= 1 && p <= 100 && (i === 0 || p > phases[i - 1]));
  if (!rising || phases.at(-1) !== 100) {
    throw new SettingsError(messages.rolloutInvalid(value));
  }
  return phases;
}

/** `0`, `90s`, `15m`, `1h30m`. */
function parseDuration(value: string): number {
  if (value === '0') return 0;
  const match = DURATION.exec(value);
  const ms = match
    ? (Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)) * 1000
    : NaN;
  if (!match || value === '' || !(ms <= MAX_WAIT_MS)) {
    throw new SettingsError(messages.waitInvalid(value));
  }
  return ms;
}
