/**
 * What the user reads when the registry says no. One place for these texts: the client throws
 * them and the tests assert against them. Option names are the kebab-case ones, which are
 * both the Action's input names and the CLI's flag names (without `--`).
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
