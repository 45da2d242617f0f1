import { parseArgs } from 'node:util';
import { SettingsError } from './errors.js';
import * as messages from './messages.js';
import {
  DEFAULT_REGISTRY_URL,
  DEFAULT_RETRIES,
  parseSettings,
  SETTING_NAMES,
  SWITCH_SETTINGS,
  type DeploySettings,
  type RawSettings,
  type VersionSource,
} from './settings.js';

/** The options that take a value; each also reads OTA_<NAME> from the environment. */
const VALUE_OPTIONS = SETTING_NAMES.filter(
  (name) => !(SWITCH_SETTINGS as ReadonlyArray<string>).includes(name),
);

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'tool-version' }
  | { kind: 'deploy'; settings: DeploySettings; json: boolean; verbose: boolean };

export const HELP = `Usage: ota-deploy [options]

Builds a PlatformIO project and uploads its firmware to an OTA registry (IoTaaP's cloud or a
self-hosted one), so that the device installs it. The same as the iotaap/ota-deploy GitHub
Action, for GitLab CI, Jenkins or a shell. Every option can also be set as an environment
variable: OTA_ and the name in capitals with underscores (--device-id: OTA_DEVICE_ID). Flags win.
Pass secrets as environment variables: flags are visible to other users of the machine.

Registry and credentials:
  --registry-url URL       registry base URL (default ${DEFAULT_REGISTRY_URL})
  --api-token TOKEN        an API key of the registry; or:
  --email EMAIL            log in with email and password (a fresh session every run)
  --password PASSWORD

Target (a device, or a group and so all its devices):
  --device-id ID           the device's 24-character hexadecimal id
  --device-token TOKEN     the device's token
  --group-id ID            or: the group's 24-character hexadecimal id
  --group-token TOKEN      the group's token

Firmware:
  --version VERSION        the version to deploy, e.g. 1.2.7 (a leading v is dropped);
                           default: the tag in CI_COMMIT_TAG (GitLab CI), e.g. v1.2.7
  --project-dir DIR        the PlatformIO project (default .)
  -e, --environment ENV    the PlatformIO environment to build and deploy
  --firmware FILE          the image to upload (default .pio/build/<env>/firmware.bin)
  --build, --no-build      run "pio run" first (default: build)
  --dry-run                build and check, print what would be uploaded and where, and send
                           nothing to the registry
  --install-platformio, --no-install-platformio
                           pip install platformio when pio is missing (default: install)
  --inject-version, --no-inject-version
                           define FIRMWARE_VERSION="<version>" in the build (default: inject)
  --verify-version MODE    warn, fail or off: check that the version string is inside the
                           image, since a device whose firmware reports another version
                           updates forever (default warn)
  --verify-ota-client MODE warn, fail or off: check that the image carries an OTA client
                           (IoTaaP OS, Arduino HTTPUpdate, ESP-IDF esp_https_ota), since a
                           device that installs one without can never be updated over the
                           air again (default warn)
  --retries N              retries on network errors, 5xx and 429 (default ${DEFAULT_RETRIES})
  --trigger true|false     tell the devices over MQTT to update now (default: the registry's
                           choice; a self-hosted registry with a broker triggers)
  --rollout PHASES         a group's staged rollout, e.g. 5,25,100 (percent of its devices;
                           advances by itself, halts on a failure; self-hosted registry only)
  --wait DURATION          after the upload, wait until the device runs the version (or the
                           group's rollout completed), e.g. 15m; fail naming the devices that
                           failed (default 0: do not wait; self-hosted registry only)

Output:
  --json                   print the result as one JSON object on stdout
  --verbose                more detail on stderr
  -h, --help               this help
  -V                       print ota-deploy's own version (--version is the firmware's)

Exit codes: 0 deployed (or already deployed), 1 the deploy failed, 2 bad arguments.
`;

/** Reads flags and OTA_* variables into a command. Throws SettingsError for a bad argument. */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): CliCommand {
  if (argv.length === 1 && argv[0] === '--version') {
    // A CI script whose version variable came out empty must not "succeed" by printing ours.
    throw new SettingsError(messages.versionFlagEmpty);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(VALUE_OPTIONS.map((name) => [name, { type: 'string' as const }])),
        ...Object.fromEntries(
          SWITCH_SETTINGS.flatMap((name) => [
            [name, { type: 'boolean' as const }],
            [`no-${name}`, { type: 'boolean' as const }],
          ]),
        ),
        environment: { type: 'string', short: 'e' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'tool-version': { type: 'boolean', short: 'V' },
      },
    }));
  } catch (error) {
    throw new SettingsError((error as Error).message);
  }
  if (values['help'] === true) return { kind: 'help' };
  if (values['tool-version'] === true) return { kind: 'tool-version' };

  const raw: RawSettings = {};
  for (const name of VALUE_OPTIONS) {
    const flag = values[name];
    raw[name] = typeof flag === 'string' ? flag : env[envName(name)];
  }
  for (const name of SWITCH_SETTINGS) {
    const on = values[name] === true;
    const off = values[`no-${name}`] === true;
    if (on && off) throw new SettingsError(messages.switchContradiction(name));
    raw[name] = on ? 'true' : off ? 'false' : env[envName(name)];
  }

  return {
    kind: 'deploy',
    settings: parseSettings(raw, cliVersionSource(env), cwd),
    json: values['json'] === true,
    verbose: values['verbose'] === true,
  };
}

/** `device-id` → `OTA_DEVICE_ID`. */
export function envName(option: string): string {
  return `OTA_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** Outside GitHub the only tag we know of is GitLab's CI_COMMIT_TAG. */
function cliVersionSource(env: Readonly<Record<string, string | undefined>>): VersionSource {
  const missing =
    'none of --version, OTA_VERSION or CI_COMMIT_TAG is set. Pass --version 1.2.7 (or OTA_VERSION), or run in a GitLab CI tag pipeline.';
  const tag = env['CI_COMMIT_TAG'];
  return tag ? { tag, missing } : { missing };
}
