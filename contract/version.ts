import parse from 'semver/functions/parse.js';

/** IoTaaP OS reads `{"ver":...}` into a 128-byte JSON buffer: keep versions well inside it. */
const MAX_VERSION_LENGTH = 64;

/**
 * The one version rule of the registry and the Action: a semantic version exactly as written
 * (`1.2.7`, `2.0.0-rc.1`, `1.0.0+build.5`): no leading `v` or `=`, no spaces, no leading zeros,
 * at most 64 characters. Devices compare version strings, so the string is the version.
 */
export function isValidVersion(version: string): boolean {
  if (version.length > MAX_VERSION_LENGTH) return false;
  const parsed = parse(version);
  if (parsed === null) return false;
  const build = parsed.build.length > 0 ? `+${parsed.build.join('.')}` : '';
  return parsed.version + build === version;
}

/**
 * The firmware version a tag names: `v1.2.7`, `1.2.7` and `refs/tags/v1.2.7` give `1.2.7`,
 * `v1.2.7-rc.1` gives `1.2.7-rc.1`. Anything else (`release-1`, `v1.2`) gives undefined.
 */
export function versionFromTag(tag: string): string | undefined {
  const name = tag.replace(/^refs\/tags\//, '').replace(/^[vV]/, '');
  return isValidVersion(name) ? name : undefined;
}
