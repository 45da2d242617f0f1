/**
 * semver.org's recommended pattern: MAJOR.MINOR.PATCH, optional pre-release and build
 * metadata, no leading zeros, no leading `v` (the registry rejects one).
 */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Longest version the registry and the devices are asked to handle; IoTaaP OS keeps 128 bytes of JSON. */
const MAX_VERSION_LENGTH = 64;

export function isSemver(value: string): boolean {
  return value.length <= MAX_VERSION_LENGTH && SEMVER.test(value);
}

/**
 * The firmware version a tag names: `v1.2.7`, `1.2.7` and `refs/tags/v1.2.7` give `1.2.7`,
 * `v1.2.7-rc.1` gives `1.2.7-rc.1`. Anything else (`release-1`, `v1.2`) gives undefined.
 */
export function versionFromTag(tag: string): string | undefined {
  const name = tag.replace(/^refs\/tags\//, '').replace(/^[vV]/, '');
  return isSemver(name) ? name : undefined;
}
