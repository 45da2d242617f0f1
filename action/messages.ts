/**
 * What the user reads when the registry says no, or when a setting, the build or the firmware
 * file stops a deploy. One place for these texts: the code throws them and the tests assert
 * against them. Option names are the kebab-case ones, which are both the Action's input names
 * and the CLI's flag names (without `--`).
 */

/** What the request was, so the message can name the right setting. */
export interface FailureContext {
  registryUrl: string;
  /** What the upload was for: names the settings to check (device-id or group-id). */
  target: 'device' | 'group';
  /** The version being uploaded. */
  version?: string;
  /** Size in bytes of the image being uploaded. */
  size?: number;
}

/** `(404: "No such device")`: the status and, when the registry sent one, its own words. */
function said(status: number, registryMessage: string | undefined): string {
  return registryMessage ? `(${status}: "${registryMessage}")` : `(${status})`;
}

export function loginFailed(status: number, registryMessage: string | undefined): string {
  if (status === 401 || status === 403) {
    return `Login failed: the registry rejected the email or password ${said(status, registryMessage)}. Check the secrets used for email and password.`;
  }
  if (status === 404) {
    return `Login failed: the registry has no login endpoint at this address ${said(status, registryMessage)}. Check registry-url.`;
  }
  return `Login failed ${said(status, registryMessage)}.`;
}

export function uploadFailed(
  status: number,
  registryMessage: string | undefined,
  context: FailureContext,
): string {
  const answer = said(status, registryMessage);
  const kind = context.target;
  switch (status) {
    case 400:
      return `The registry refused the upload ${answer}. Check ${kind}-id, the version and that the file is the ESP application image (firmware.bin, not the .elf or a merged image).`;
    case 401:
      return `The registry rejected the API token ${answer}: it is wrong, revoked or expired. Create a new API key and update the secret used for api-token, or use email and password so that every run logs in afresh.`;
    case 403:
      return `The ${kind} token was rejected ${answer}. Check the secret used for ${kind}-token: rotating the token on the registry replaces it.`;
    case 404:
      return `The registry does not know this ${kind} ${answer}. Check the secret used for ${kind}-id, that the ${kind} belongs to the account of the credentials, and registry-url (${context.registryUrl}).`;
    case 409:
      if (registryMessage?.includes('OTA client')) return otaClientRefused(answer, kind);
      return `Version ${context.version ?? ''} is already deployed to this ${kind} with different bytes ${answer}. Devices compare version strings, so they would never install this build: bump the version (push a new tag, e.g. a higher patch number).`;
    case 413:
      return `The firmware (${context.size ?? '?'} bytes) is larger than the registry accepts ${answer}. Make the image smaller or raise the registry's upload limit.`;
    case 429:
      return `The registry kept asking to slow down ${answer}; retries are used up. Try again later or raise retries.`;
    default:
      if (status >= 500) {
        return `The registry failed ${answer}; retries are used up. The previous firmware is still being served. Try again later, or check the registry's logs if it is self-hosted.`;
      }
      return `Unexpected answer from the registry ${answer}.`;
  }
}

export function unreachable(registryUrl: string, attempts: number, cause: string): string {
  return `Could not reach the registry at ${registryUrl} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause}. Check registry-url and the network.`;
}

/** `nextAttempt` counts from 1: the first retry is attempt 2. */
export function retrying(
  what: string,
  delayMs: number,
  nextAttempt: number,
  attempts: number,
): string {
  return `${what}; retrying in ${formatDelay(delayMs)} (attempt ${nextAttempt} of ${attempts}).`;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

export function versionMissing(version: string, firmware: string): string {
  return (
    `The version string "${version}" does not appear inside ${firmware}. A device compares the ` +
    `version the registry offers with the one compiled into its firmware: if this image still ` +
    `reports an older version, the device installs it, reboots, sees a different version again ` +
    `and updates forever. Use FIRMWARE_VERSION in the code (inject-version: true defines it), ` +
    `or bump the version literal; set verify-version: off if the image reports its version another way.`
  );
}

/**
 * Which OTA clients an image carries, for the summary and the CLI's result line: `iotaap-os,
 * httpupdate`, `none found`, or `not checked` (verify-ota-client: off). `name` formats each.
 */
export function otaClientList(
  clients: readonly string[] | undefined,
  name: (client: string) => string = (client) => client,
): string {
  if (clients === undefined) return 'not checked';
  return clients.length === 0 ? 'none found' : clients.map(name).join(', ');
}

/** One sentence: what is at stake, and what to do. */
export function otaClientMissing(firmware: string): string {
  return (
    `${firmware} carries no OTA client the registry knows (IoTaaP OS, Arduino HTTPUpdate or ` +
    `ESP-IDF esp_https_ota), so devices that install it can never be updated over the air ` +
    `again: keep the OTA client in the build, or set verify-ota-client: off if it updates ` +
    `another way.`
  );
}

function otaClientRefused(answer: string, kind: FailureContext['target']): string {
  return (
    `The registry refused the upload ${answer}: this ${kind} is served firmware with an OTA ` +
    `client and this image has none, so its devices could never be updated over the air again. ` +
    `Keep the OTA client in the build; to deploy it anyway, upload it with force=true through ` +
    `the registry's API.`
  );
}

/** `reason` is the registry's own message for such an image (contract/esp-image.ts). */
export function invalidImage(firmware: string, reason: string): string {
  return `${firmware}: ${reason}`;
}

export function triggered(kind: 'device' | 'group'): string {
  return kind === 'group'
    ? "Triggered: the registry told the group's devices over MQTT to update now."
    : 'Triggered: the registry told the device over MQTT to update now.';
}

export function triggerFailed(reason: string): string {
  return `The firmware is deployed, but the registry could not tell the devices to update now (${reason}): they will find it at their next check (IoTaaP OS: every 6 hours). See docs/push.md.`;
}

/** What a dry run would have done: the whole upload, named, with nothing sent. */
export function dryRun(
  settings: {
    version: string;
    target: { kind: string; id: string };
    credentials: { kind: string };
  },
  file: string,
  size: number,
  url: string,
): string {
  const auth =
    settings.credentials.kind === 'login'
      ? 'after logging in with email and password'
      : 'with api-token';
  return `Dry run: would upload ${file} (${size} bytes) as version ${settings.version} to ${settings.target.kind} ${settings.target.id} with POST ${url}, ${auth}. Nothing was sent to the registry.`;
}

// Settings (Action inputs, CLI flags, OTA_* variables) that do not make a deploy: exit code 2.

export const versionFlagEmpty =
  "--version needs the firmware version to deploy (--version 1.2.7). ota-deploy's own version: ota-deploy -V.";

export function switchContradiction(name: string): string {
  return `--${name} and --no-${name} contradict each other.`;
}

export function environmentInvalid(environment: string): string {
  return `environment must be one PlatformIO environment name (the NAME of [env:NAME]), got "${environment}".`;
}

export function registryUrlNotUrl(value: string): string {
  return `registry-url is not a URL: "${value}".`;
}

export function registryUrlScheme(value: string): string {
  return `registry-url must start with https:// or http://, got "${value}".`;
}

export const registryUrlCredentials =
  'registry-url must not contain a user name or password: use api-token, or email and password.';

export function registryUrlQuery(value: string): string {
  return `registry-url must not have a query or fragment, got "${value}".`;
}

/** Never echoes the key: only its prefix. */
export function selfHostedKeyAtCloud(what: string, prefix: string, cloudUrl: string): string {
  return `api-token is ${what} of a self-hosted ota-registry (it starts with ${prefix}), but registry-url is IoTaaP's cloud (${cloudUrl}, the default): set registry-url to your registry's base URL, e.g. https://ota.example.com. Nothing was sent.`;
}

export const twoCredentials =
  'Give either api-token, or email and password, not both: it would be unclear which account deploys.';

export function halfLogin(given: 'email' | 'password', missing: 'email' | 'password'): string {
  return `${given} is given but ${missing} is missing.`;
}

export const noCredentials =
  'No credentials: set api-token (an API key of the registry), or email and password.';

export const twoTargets =
  'Give either device-id and device-token, or group-id and group-token, not both: one deploy has one target.';

export const noTarget =
  'No target: set device-id and device-token (or group-id and group-token to deploy to a group).';

export function idWithoutToken(kind: FailureContext['target']): string {
  return `${kind}-id is required with ${kind}-token.`;
}

export function targetIdInvalid(kind: FailureContext['target'], length: number): string {
  return `${kind}-id must be the ${kind}'s 24-character hexadecimal id (like 5e1b57808711f904f5df4bad), got ${length} characters.`;
}

export function tokenWithoutId(kind: FailureContext['target']): string {
  return `${kind}-token is required with ${kind}-id.`;
}

/** Never echoes the token: it is a secret even when malformed. */
export function targetTokenInvalid(kind: FailureContext['target']): string {
  return `${kind}-token must be letters and digits only.`;
}

export function versionInvalid(value: string): string {
  return `version "${value}" is not a semantic version: use MAJOR.MINOR.PATCH, e.g. 1.2.7 or 1.2.7-rc.1.`;
}

/** `missing` says where a version would have come from (github-context.ts, cli-args.ts). */
export function noVersion(missing: string): string {
  return `No version: ${missing}`;
}

export function tagInvalid(tag: string): string {
  return `Tag "${tag}" is not a semantic version: name release tags like v1.2.7 (or 1.2.7, v1.2.7-rc.1), or set version.`;
}

export function booleanInvalid(name: string, value: string): string {
  return `${name} must be true or false, got "${value}".`;
}

export const triggerAtCloud =
  "trigger is not available with IoTaaP's cloud (api.iotaap.io): its upload API has no such option, and its upload triggers the devices by itself. Remove trigger, or use a self-hosted ota-registry.";

export function checkModeInvalid(name: string, value: string): string {
  return `${name} must be warn, fail or off, got "${value}".`;
}

export function retriesInvalid(max: number, value: string): string {
  return `retries must be a whole number from 0 to ${max}, got "${value}".`;
}

export function fleetSettingAtCloud(name: 'rollout' | 'wait'): string {
  return `${name} is not available with IoTaaP's cloud (api.iotaap.io): it has no staged rollouts and no device reports to wait for. Remove ${name}, or use a self-hosted ota-registry (registry-url).`;
}

export const rolloutNeedsGroup =
  "rollout stages a group's devices: use it with group-id and group-token (a single device has nothing to stage).";

export const groupWaitNeedsRollout =
  'wait on a group needs rollout (e.g. rollout: 100): the rollout is what tracks which devices took the version.';

export function rolloutInvalid(value: string): string {
  return `rollout must be rising percentages that end at 100, such as 5,25,100, got "${value}".`;
}

export function waitInvalid(value: string): string {
  return `wait must be a duration such as 90s, 15m or 1h30m (at most 6h), or 0, got "${value}".`;
}

// The build and the firmware file: exit code 1.

export const pioMissing =
  'PlatformIO (pio) is not on PATH. Install it before this step (pip install platformio), or set install-platformio: true.';

export const pioNoPython =
  'PlatformIO (pio) is not on PATH and there is no Python to install it with: add actions/setup-python before this step, or install PlatformIO yourself.';

export function pioInstallFailed(code: number): string {
  return `pip install platformio failed (exit code ${code}). A system Python may refuse packages (PEP 668): add actions/setup-python before this step, or install PlatformIO yourself and set install-platformio: false.`;
}

export function pioRunFailed(code: number): string {
  return `pio run failed (exit code ${code}); see the build output above.`;
}

export function firmwareNotFile(firmware: string): string {
  return `firmware ${firmware} does not exist or is not a file.`;
}

export function noBuiltFirmware(file: string, environment: string): string {
  return `No firmware at ${file}: did the build of environment "${environment}" run? Set firmware to upload another file.`;
}

export function noFirmwareUnder(buildDir: string): string {
  return `No firmware.bin under ${buildDir}. Build the project first (build: true), or set firmware to the image's path.`;
}

export function severalFirmwares(candidates: readonly string[]): string {
  return `Several firmware images and no environment to choose one: ${candidates.join(', ')}. Set environment (the PlatformIO env to deploy) or firmware.`;
}

export function firmwareUnreadable(file: string, reason: string): string {
  return `Cannot read firmware ${file}: ${reason}`;
}

export const loginWithoutToken =
  'Login failed: the registry answered without a token. Check registry-url.';
