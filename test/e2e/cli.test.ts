/**
 * `ota-deploy` end to end, as a GitLab CI job or a shell would run it: `node dist/cli.js` (the bin)
 * with flags or OTA_* variables, in a PlatformIO project with a stand-in `pio` on PATH
 * (PlatformIO cannot be installed here; see test/support/fake-pio.ts), against a real registry.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as path from 'node:path';
import { builtImage, runDeployCli, tempDir } from '../support/fake-pio-harness.js';
import { startRegistryProcess, type OperatedRegistry } from '../support/registry-process.js';
import { createPioProject, installFakePio } from '../support/fake-pio.js';
import { md5, sha256 } from '../support/hashes.js';

const EMAIL = 'gitlab@example.com';
const PASSWORD = 'a long enough password';
let registry: OperatedRegistry;
let apiKey: string;

beforeAll(async () => {
  registry = await startRegistryProcess();
  ({ apiKey } = await registry.addUser(EMAIL, PASSWORD));
});

afterAll(async () => {
  await registry?.stop();
});

async function project(environments = ['esp32dev']) {
  const dir = await tempDir('cli');
  const projectDir = path.join(dir, 'project');
  await createPioProject(projectDir, environments);
  const { image } = await builtImage();
  const pio = await installFakePio(path.join(dir, 'tools'), { image });
  return { projectDir, pio, image };
}

describe('ota-deploy', () => {
  test('deploys a GitLab tag pipeline from OTA_* variables, and prints the result as JSON', async () => {
    const { projectDir, pio, image } = await project();
    const device = await registry.addDevice(EMAIL);
    const result = await runDeployCli({
      cwd: projectDir,
      pathPrefix: pio.binDir,
      args: ['--json'],
      env: {
        CI_COMMIT_TAG: 'v1.2.7',
        OTA_REGISTRY_URL: registry.url,
        OTA_API_TOKEN: apiKey,
        OTA_DEVICE_ID: device.id,
        OTA_DEVICE_TOKEN: device.token,
      },
    });

    expect(result.code).toBe(0);
    const firmware = path.join(projectDir, '.pio/build/esp32dev/firmware.bin');
    expect(JSON.parse(result.stdout)).toMatchObject({
      registryUrl: registry.url,
      target: { kind: 'device', id: device.id },
      version: '1.2.7',
      firmware,
      size: image.length,
      sha256: sha256(image),
      md5: md5(image),
      status: 'deployed',
      otaClient: [],
    });
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '1.2.7' },
    });
    const download = await registry.download(device.id, device.token);
    expect(download.bytes.equals(image)).toBe(true);
    expect(await pio.calls()).toEqual([
      {
        tool: 'pio',
        args: ['run', '-d', projectDir],
        cwd: projectDir,
        buildFlags: '-DFIRMWARE_VERSION=\\"1.2.7\\"',
      },
    ]);
    // Progress and the build's output go to stderr, the version warning too; no secret anywhere.
    expect(result.stderr).toContain('Processing esp32dev');
    expect(result.stderr).toMatch(/warning: The version string "1\.2\.7" does not appear inside/);
    expect(result.stderr).toMatch(
      /warning: .*firmware\.bin carries no OTA client .* can never be updated over the air again/,
    );
    for (const secret of [apiKey, device.token]) {
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  test('takes flags, logs in with email and OTA_PASSWORD, and reports a re-run as already deployed', async () => {
    const { projectDir, pio } = await project(['esp32dev', 'esp32c3']);
    const device = await registry.addDevice(EMAIL);
    const args = [
      '--registry-url',
      registry.url,
      '--email',
      EMAIL,
      '--device-id',
      device.id,
      '--device-token',
      device.token,
      '--version',
      'v2.1.0',
      '-e',
      'esp32c3',
      '--verify-version',
      'off',
    ];
    const env = { OTA_PASSWORD: PASSWORD };
    const first = await runDeployCli({ cwd: projectDir, pathPrefix: pio.binDir, args, env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(
        `^deployed 2\\.1\\.0 to device ${device.id} \\(\\d+ bytes, sha256 [0-9a-f]{64}, ` +
          'OTA client: none found\\)\\n$',
      ),
    );
    expect((await pio.calls())[0]?.args).toEqual(['run', '-d', projectDir, '-e', 'esp32c3']);
    const again = await runDeployCli({ cwd: projectDir, pathPrefix: pio.binDir, args, env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^already-deployed 2\.1\.0 to device /);
    expect(first.stderr + again.stderr).not.toContain(PASSWORD);
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '2.1.0' },
    });
  });

  /** A deploy of version 1.0.0 to a new device, with a device token the registry refuses. */
  async function deployWithWrongToken(...args: string[]) {
    const { projectDir, pio } = await project();
    const device = await registry.addDevice(EMAIL);
    const result = await runDeployCli({
      cwd: projectDir,
      pathPrefix: pio.binDir,
      args: [
        '--registry-url',
        registry.url,
        '--device-id',
        device.id,
        '--version',
        '1.0.0',
        ...args,
      ],
      env: { OTA_API_TOKEN: apiKey, OTA_DEVICE_TOKEN: 'NotTheToken1' },
    });
    return { result, pio };
  }

  test('exits 1 when there is no firmware to upload', async () => {
    const { result, pio } = await deployWithWrongToken('--no-build');
    expect(result.code).toBe(1);
    expect(await pio.calls()).toEqual([]);
    expect(result.stderr).toMatch(/No firmware at .*esp32dev.firmware\.bin/);
  });

  test('exits 1 and quotes the registry when it refuses the upload', async () => {
    const { result } = await deployWithWrongToken('--retries', '0');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ota-deploy: The device token was rejected \(403: ".*"\)/);
    expect(result.stderr).not.toContain('NotTheToken1');
    expect(result.stdout).toBe('');
  });

  test.each([
    ['an unknown flag', ['--device', 'x']],
    ['a version that is not semver', ['--version', 'release-1']],
    ['no credentials', ['--version', '1.0.0']],
  ])('exits 2 for %s', async (_name, args) => {
    const { projectDir, pio } = await project();
    const result = await runDeployCli({
      cwd: projectDir,
      pathPrefix: pio.binDir,
      args: ['--device-id', '5e1b57808711f904f5df4bad', '--device-token', 'abc', ...args],
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ota-deploy: .+\nRun ota-deploy --help for the options\.\n$/);
    expect(await pio.calls()).toEqual([]);
  });

  test('--help prints the options and exits 0', async () => {
    const { projectDir, pio } = await project();
    const result = await runDeployCli({
      cwd: projectDir,
      pathPrefix: pio.binDir,
      args: ['--help'],
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: ota-deploy \[options\]/);
    expect(result.stdout).toContain('CI_COMMIT_TAG');
    expect(result.stdout).toContain(
      'Exit codes: 0 deployed (or already deployed), 1 the deploy failed, 2 bad arguments.',
    );
  });
});
