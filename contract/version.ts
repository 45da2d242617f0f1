import semver from 'semver';

/** IoTaaP OS reads `{"ver":...}` into a 128-byte JSON buffer: keep versions well inside it. */
export const MAX_VERSION_LENGTH = 64;

/** A strict semantic version as written (`1.2.7`, `2.0.0-rc.1`): no leading `v`, no spaces. */
export function isValidVersion(version: string): boolean {
  return version.length <= MAX_VERSION_LENGTH && semver.valid(version) === version;
}
