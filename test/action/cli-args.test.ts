import { describe, expect, test } from '@jest/globals';
import { envName, HELP, parseCliArgs } from '../../action/cli-args.js';
import { SettingsError } from '../../action/errors.js';

const DEVICE_ID = '5e1b57808711f904f5df4bad';
const REQUIRED = [
  '--api-token',
  'Key1',
  '--device-id',
  DEVICE_ID,
  '--device-token',
  'Tok1',
  '--version',
  '1.2.7',
];

function deployCommand(argv: string[], env: Record<string, string> = {}) {
  const command = parseCliArgs(argv, env, '/work');
  if (command.kind !== 'deploy') throw new Error('expected a deploy');
  return command;
}

describe('parseCliArgs', () => {
  test('reads flags into the same settings the Action uses', () => {
    const command = deployCommand([
      ...REQUIRED,
      '--registry-url',
      'http://127.0.0.1:3080',
      '-e',
      'esp32dev',
      '--project-dir',
      'fw',
      '--no-build',
      '--firmware',
      'fw/out.bin',
      '--verify-version',
      'fail',
      '--verify-ota-client',
      'fail',
      '--retries',
      '5',
      '--no-inject-version',
      '--no-install-platformio',
      '--json',
    ]);
    expect(command).toEqual({
      kind: 'deploy',
      json: true,
      verbose: false,
      settings: {
        registryUrl: 'http://127.0.0.1:3080',
        credentials: { kind: 'api-token', apiToken: 'Key1' },
        target: { kind: 'device', id: DEVICE_ID, token: 'Tok1' },
        version: '1.2.7',
        projectDir: '/work/fw',
        environment: 'esp32dev',
        firmware: '/work/fw/out.bin',
        build: false,
        installPlatformio: false,
        injectVersion: false,
        verifyVersion: 'fail',
        verifyOtaClient: 'fail',
        retries: 5,
      },
    });
  });

  test('reads OTA_* variables, and flags win over them', () => {
    const env = {
      OTA_REGISTRY_URL: 'https://ota.example.com',
      OTA_EMAIL: 'ci@example.com',
      OTA_PASSWORD: 'pw',
      OTA_DEVICE_ID: DEVICE_ID,
      OTA_DEVICE_TOKEN: 'EnvTok',
      OTA_VERSION: '2.0.0',
      OTA_BUILD: 'false',
      OTA_RETRIES: '1',
    };
    expect(deployCommand([], env).settings).toMatchObject({
      registryUrl: 'https://ota.example.com',
      credentials: { kind: 'login', email: 'ci@example.com', password: 'pw' },
      target: { token: 'EnvTok' },
      version: '2.0.0',
      build: false,
      retries: 1,
    });
    expect(
      deployCommand(['--device-token', 'FlagTok', '--build', '--version', '2.0.1'], env).settings,
    ).toMatchObject({
      target: { token: 'FlagTok' },
      version: '2.0.1',
      build: true,
    });
  });

  test('takes a group as the target, its token from OTA_GROUP_TOKEN', () => {
    const argv = ['--api-token', 'Key1', '--group-id', DEVICE_ID, '--version', '1.0.0'];
    expect(deployCommand(argv, { OTA_GROUP_TOKEN: 'GroupTok' }).settings.target).toEqual({
      kind: 'group',
      id: DEVICE_ID,
      token: 'GroupTok',
    });
  });

  test("takes the version from GitLab's CI_COMMIT_TAG", () => {
    const argv = REQUIRED.slice(0, 6);
    expect(deployCommand(argv, { CI_COMMIT_TAG: 'v1.4.0-beta.1' }).settings.version).toBe(
      '1.4.0-beta.1',
    );
  });

  test('says where a version can come from', () => {
    expect(() => parseCliArgs(REQUIRED.slice(0, 6), {}, '/work')).toThrow(
      'No version: none of --version, OTA_VERSION or CI_COMMIT_TAG is set.',
    );
  });

  test('--help wins over everything else', () => {
    expect(parseCliArgs(['--help', '--retries', 'x'], {}, '/')).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h'], {}, '/')).toEqual({ kind: 'help' });
  });

  test.each<[string, string[], RegExp]>([
    ['an unknown flag', [...REQUIRED, '--device', 'x'], /Unknown option '--device'/],
    ['a positional argument', [...REQUIRED, 'firmware.bin'], /positional argument/],
    ['a flag without its value', [...REQUIRED, '--retries'], /--retries/],
    [
      'contradicting switches',
      [...REQUIRED, '--build', '--no-build'],
      /--build and --no-build contradict/,
    ],
    [
      'a bad value',
      [...REQUIRED, '--verify-version', 'maybe'],
      /verify-version must be warn, fail or off/,
    ],
  ])('rejects %s with a SettingsError', (_name, argv, message) => {
    expect(() => parseCliArgs(argv, {}, '/')).toThrow(SettingsError);
    expect(() => parseCliArgs(argv, {}, '/')).toThrow(message);
  });
});

test('every option has its OTA_ variable', () => {
  expect(envName('device-id')).toBe('OTA_DEVICE_ID');
  expect(envName('install-platformio')).toBe('OTA_INSTALL_PLATFORMIO');
  for (const flag of [
    '--registry-url',
    '--api-token',
    '--device-id',
    '--no-build',
    '--verify-version',
    '--verify-ota-client',
    '--retries',
  ]) {
    expect(HELP).toContain(flag);
  }
});

describe('ota-deploy -V and --dry-run', () => {
  test("-V prints the tool's own version, whatever else is given", () => {
    expect(parseCliArgs(['-V'], {}, '/')).toEqual({ kind: 'tool-version' });
    expect(parseCliArgs(['--tool-version', '--retries', 'x'], {}, '/')).toEqual({
      kind: 'tool-version',
    });
  });

  test('--version alone is an error, never a successful exit that deployed nothing', () => {
    // `ota-deploy --version $EMPTY_VARIABLE` in a CI script must fail, not print our version.
    expect(() => parseCliArgs(['--version'], {}, '/')).toThrow(SettingsError);
    expect(() => parseCliArgs(['--version'], {}, '/')).toThrow(
      "--version needs the firmware version to deploy (--version 1.2.7). ota-deploy's own version: ota-deploy -V.",
    );
    expect(() => parseCliArgs([...REQUIRED.slice(0, 6), '--version'], {}, '/')).toThrow(
      /--version/,
    );
  });

  test('--dry-run and OTA_DRY_RUN=true make a dry run; without them there is none', () => {
    expect(deployCommand([...REQUIRED, '--dry-run']).settings.dryRun).toBe(true);
    expect(deployCommand(REQUIRED, { OTA_DRY_RUN: 'true' }).settings.dryRun).toBe(true);
    expect(deployCommand(REQUIRED).settings).not.toHaveProperty('dryRun');
    expect(
      deployCommand([...REQUIRED, '--no-dry-run'], { OTA_DRY_RUN: 'true' }).settings,
    ).not.toHaveProperty('dryRun');
    expect(HELP).toContain('--dry-run');
    expect(HELP).toContain('-V ');
  });
});
