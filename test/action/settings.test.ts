import { describe, expect, test } from '@jest/globals';
import * as path from 'node:path';
import { SettingsError } from '../../action/errors.js';
import { parseSettings, type RawSettings, type VersionSource } from '../../action/settings.js';

const DEVICE_ID = '5e1b57808711f904f5df4bad';
const TAG: VersionSource = { tag: 'v1.2.7', missing: 'no tag here.' };
const NO_TAG: VersionSource = {
  missing: 'this run was started by push on refs/heads/main, not a tag.',
};

const valid: RawSettings = {
  'api-token': 'key-abc',
  'device-id': DEVICE_ID,
  'device-token': 'Tok3nTok3nTok3n1',
};

function parse(raw: RawSettings, source: VersionSource = TAG) {
  return parseSettings(raw, source, '/work/project');
}

describe('parseSettings', () => {
  test('fills the defaults', () => {
    expect(parse(valid)).toEqual({
      registryUrl: 'https://api.iotaap.io',
      credentials: { kind: 'api-token', apiToken: 'key-abc' },
      target: { kind: 'device', id: DEVICE_ID, token: 'Tok3nTok3nTok3n1' },
      version: '1.2.7',
      projectDir: '/work/project',
      build: true,
      installPlatformio: true,
      injectVersion: true,
      verifyVersion: 'warn',
      verifyOtaClient: 'warn',
      retries: 3,
    });
  });

  test('reads every option', () => {
    const settings = parse({
      'registry-url': 'http://localhost:3080/',
      email: 'ci@example.com',
      password: 'hunter2',
      'device-id': DEVICE_ID.toUpperCase(),
      'device-token': 'abc123',
      version: 'v2.0.0-rc.1',
      'project-dir': 'firmware',
      environment: 'esp32dev',
      firmware: 'out/app.bin',
      build: 'false',
      'install-platformio': 'FALSE',
      'inject-version': 'False',
      'verify-version': 'fail',
      'verify-ota-client': 'OFF',
      retries: '0',
    });
    expect(settings).toEqual({
      registryUrl: 'http://localhost:3080',
      credentials: { kind: 'login', email: 'ci@example.com', password: 'hunter2' },
      target: { kind: 'device', id: DEVICE_ID, token: 'abc123' },
      version: '2.0.0-rc.1',
      projectDir: path.resolve('/work/project/firmware'),
      environment: 'esp32dev',
      firmware: path.resolve('/work/project/out/app.bin'),
      build: false,
      installPlatformio: false,
      injectVersion: false,
      verifyVersion: 'fail',
      verifyOtaClient: 'off',
      retries: 0,
    });
  });

  test('takes a group as the target', () => {
    const raw = {
      'api-token': 'k',
      'group-id': DEVICE_ID.toUpperCase(),
      'group-token': 'GroupTok1',
    };
    expect(parse(raw).target).toEqual({ kind: 'group', id: DEVICE_ID, token: 'GroupTok1' });
  });

  test('keeps a self-hosted path prefix', () => {
    expect(parse({ ...valid, 'registry-url': 'https://example.com/ota/' }).registryUrl).toBe(
      'https://example.com/ota',
    );
  });

  test('trigger: unset sends nothing (the registry decides); true and false are kept', () => {
    const selfHosted = { ...valid, 'registry-url': 'https://ota.example.com' };
    expect(parse(selfHosted)).not.toHaveProperty('trigger');
    expect(parse({ ...selfHosted, trigger: 'true' }).trigger).toBe(true);
    expect(parse({ ...selfHosted, trigger: 'false' }).trigger).toBe(false);
    expect(parse({ ...selfHosted, trigger: '' })).not.toHaveProperty('trigger');
  });

  test('treats blank inputs as not given', () => {
    expect(parse({ ...valid, version: '  ', retries: '', environment: ' ' })).toMatchObject({
      version: '1.2.7',
      retries: 3,
    });
  });

  test.each<[string, RawSettings, RegExp]>([
    ['no credentials', { ...valid, 'api-token': '' }, /No credentials: set api-token/],
    [
      'both kinds of credentials',
      { ...valid, email: 'a@b.c', password: 'p' },
      /either api-token, or email and password, not both/,
    ],
    [
      'email without password',
      { ...valid, 'api-token': '', email: 'a@b.c' },
      /password is missing/,
    ],
    ['password without email', { ...valid, 'api-token': '', password: 'p' }, /email is missing/],
    ['no device id', { ...valid, 'device-id': '' }, /device-id is required with device-token/],
    [
      'no target',
      { ...valid, 'device-id': '', 'device-token': '' },
      /No target: set device-id and device-token/,
    ],
    [
      'a device and a group',
      { ...valid, 'group-id': DEVICE_ID, 'group-token': 'g' },
      /either device-id and device-token, or group-id and group-token, not both/,
    ],
    [
      'a group without its token',
      { 'api-token': 'k', 'group-id': DEVICE_ID },
      /group-token is required with group-id/,
    ],
    [
      'a short group id',
      { 'api-token': 'k', 'group-id': 'abc', 'group-token': 'g' },
      /group-id must be the group's 24-character hexadecimal id/,
    ],
    ['a short device id', { ...valid, 'device-id': 'abc' }, /24-character hexadecimal id/],
    [
      'a device id that is not hex',
      { ...valid, 'device-id': 'z'.repeat(24) },
      /24-character hexadecimal id/,
    ],
    [
      'no device token',
      { ...valid, 'device-token': '' },
      /device-token is required with device-id/,
    ],
    [
      'a device token with symbols',
      { ...valid, 'device-token': 'abc-123' },
      /letters and digits only/,
    ],
    [
      'a version that is not semver',
      { ...valid, version: '1.2' },
      /version "1.2" is not a semantic version/,
    ],
    [
      'a registry url that is not a url',
      { ...valid, 'registry-url': 'api.iotaap.io' },
      /registry-url is not a URL/,
    ],
    [
      'a registry url with another scheme',
      { ...valid, 'registry-url': 'ftp://x.y' },
      /https:\/\/ or http:\/\//,
    ],
    [
      'a registry url with credentials',
      { ...valid, 'registry-url': 'https://u:p@x.y' },
      /must not contain a user name or password/,
    ],
    [
      'a registry url with a query',
      { ...valid, 'registry-url': 'https://x.y/?a=1' },
      /query or fragment/,
    ],
    [
      'a build flag that is not a boolean',
      { ...valid, build: 'yes' },
      /build must be true or false, got "yes"/,
    ],
    [
      'an unknown verify-version mode',
      { ...valid, 'verify-version': 'strict' },
      /verify-version must be warn, fail or off/,
    ],
    [
      'an unknown verify-ota-client mode',
      { ...valid, 'verify-ota-client': 'yes' },
      /verify-ota-client must be warn, fail or off, got "yes"/,
    ],
    [
      'negative retries',
      { ...valid, retries: '-1' },
      /retries must be a whole number from 0 to 10/,
    ],
    ['too many retries', { ...valid, retries: '11' }, /retries must be a whole number/],
    ['fractional retries', { ...valid, retries: '1.5' }, /retries must be a whole number/],
    [
      'trigger that is not a boolean',
      { ...valid, 'registry-url': 'https://ota.example.com', trigger: 'now' },
      /trigger must be true or false, got "now"/,
    ],
    [
      "trigger with IoTaaP's cloud",
      { ...valid, trigger: 'true' },
      /trigger is not available with IoTaaP's cloud/,
    ],
    [
      "trigger: false with IoTaaP's cloud",
      { ...valid, 'registry-url': 'https://api.iotaap.io/', trigger: 'false' },
      /trigger is not available with IoTaaP's cloud/,
    ],
    [
      'two environments',
      { ...valid, environment: 'esp32dev,esp32c3' },
      /one PlatformIO environment name/,
    ],
  ])('rejects %s', (_name, raw, message) => {
    expect(() => parse(raw)).toThrow(SettingsError);
    expect(() => parse(raw)).toThrow(message);
  });

  test('says how to fix a run that is not for a tag', () => {
    expect(() => parse(valid, NO_TAG)).toThrow(
      'No version: this run was started by push on refs/heads/main, not a tag.',
    );
  });

  test.each(['release-1', 'v1.2'])('rejects the tag %s, naming it', (tag) => {
    expect(() => parse(valid, { tag, missing: '' })).toThrow(
      `Tag "${tag}" is not a semantic version: name release tags like v1.2.7`,
    );
  });

  test('prefers the version input to the tag', () => {
    expect(parse({ ...valid, version: '3.0.0' }).version).toBe('3.0.0');
  });

  test('never echoes a malformed device token', () => {
    const error = catchError(() => parse({ ...valid, 'device-token': 'secret-value!' }));
    expect(error.message).toMatch(/device-token/);
    expect(error.message).not.toContain('secret-value');
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe("a self-hosted registry's key with registry-url left at IoTaaP's cloud", () => {
  const key = `ota_key_${'k'.repeat(43)}`;
  const session = `ota_ses_${'s'.repeat(43)}`;

  test.each([
    ['an API key', key, 'ota_key_'],
    ['a session token', session, 'ota_ses_'],
  ])('%s is refused before anything is sent, saying to set registry-url', (what, token, prefix) => {
    const error = catchError(() => parse({ ...valid, 'api-token': token }));
    expect(error).toBeInstanceOf(SettingsError);
    expect(error.message).toBe(
      `api-token is ${what} of a self-hosted ota-registry (it starts with ${prefix}), but registry-url is IoTaaP's cloud (https://api.iotaap.io, the default): set registry-url to your registry's base URL, e.g. https://ota.example.com. Nothing was sent.`,
    );
    expect(error.message).not.toContain(token);
    // Given explicitly, the cloud's URL is refused the same way.
    expect(() =>
      parse({ ...valid, 'api-token': token, 'registry-url': 'https://api.iotaap.io/' }),
    ).toThrow(/set registry-url/);
  });

  test('is accepted with a self-hosted registry-url; other keys still go to the cloud', () => {
    const selfHosted = parse({
      ...valid,
      'api-token': key,
      'registry-url': 'https://ota.example.com',
    });
    expect(selfHosted.credentials).toEqual({ kind: 'api-token', apiToken: key });
    expect(parse({ ...valid, 'api-token': 'an-iotaap-key' }).registryUrl).toBe(
      'https://api.iotaap.io',
    );
  });
});

describe('dry-run', () => {
  test('true makes a dry run; false or unset does not', () => {
    expect(parse({ ...valid, 'dry-run': 'true' }).dryRun).toBe(true);
    expect(parse({ ...valid, 'dry-run': 'false' })).not.toHaveProperty('dryRun');
    expect(parse(valid)).not.toHaveProperty('dryRun');
    expect(() => parse({ ...valid, 'dry-run': 'yes' })).toThrow(
      'dry-run must be true or false, got "yes".',
    );
  });
});
