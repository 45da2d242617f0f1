import { describe, expect, test } from '@jest/globals';
import { isValidVersion, versionFromTag } from '../../contract/version.js';

describe('versionFromTag', () => {
  test.each([
    ['v1.2.7', '1.2.7'],
    ['1.2.7', '1.2.7'],
    ['V1.2.7', '1.2.7'],
    ['v1.2.7-rc.1', '1.2.7-rc.1'],
    ['v2.0.0-beta.2+build.5', '2.0.0-beta.2+build.5'],
    ['refs/tags/v1.2.7', '1.2.7'],
    ['refs/tags/1.0.0', '1.0.0'],
  ])('%s gives %s', (tag, version) => {
    expect(versionFromTag(tag)).toBe(version);
  });

  test.each([
    'release-1',
    'v1.2',
    '1',
    'vv1.2.7',
    'v01.2.7',
    'v1.2.7.4',
    'v1.2.7-',
    'refs/heads/main',
    'refs/heads/v1.2.7',
    'main',
    'refs/pull/12/merge',
    '',
  ])('%s is not a version', (tag) => {
    expect(versionFromTag(tag)).toBeUndefined();
  });
});

describe('isValidVersion', () => {
  test('rejects a leading v, which the registry refuses', () => {
    expect(isValidVersion('v1.2.7')).toBe(false);
  });

  test('rejects versions too long for a device to keep', () => {
    expect(isValidVersion(`1.2.7-${'a'.repeat(80)}`)).toBe(false);
  });
});
